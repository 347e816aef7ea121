/**
 * Writes schema/schema.graphql, the committed SDL, from the Pothos schema (sorted, so the
 * file changes only when the schema does). `--check` fails instead when the file drifted.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from '../src/schema/index.js';

export const SDL_PATH = fileURLToPath(new URL('../schema/schema.graphql', import.meta.url));

export function printSortedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

async function main(): Promise<void> {
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
}

// Only when run (npm run schema:print / schema:check): test/schema.test.ts imports this module,
// and a write on import made its drift test pass whatever the committed file held.
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
