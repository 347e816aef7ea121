/**
 * Writes schema/schema.graphql, the committed SDL, from the Pothos schema (sorted, so the
 * file changes only when the schema does). `--check` fails instead when the file drifted.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from '../src/schema/index.js';

export const SDL_PATH = fileURLToPath(new URL('../schema/schema.graphql', import.meta.url));

export function printSortedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

const sdl = printSortedSchema();
if (process.argv.includes('--check')) {
  const committed = await readFile(SDL_PATH, 'utf8').catch(() => '');
  if (committed !== sdl) {
    process.stderr.write('schema/schema.graphql is out of date: run `npm run schema:print` and commit it\n');
    process.exit(1);
  }
} else {
  await writeFile(SDL_PATH, sdl);
  process.stdout.write(`wrote ${SDL_PATH}\n`);
}
