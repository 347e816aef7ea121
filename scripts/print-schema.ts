/**
 * Writes schema/schema.graphql, the committed SDL, from the Pothos schema (sorted, so the
 * file changes only when the schema does), and schema/openapi.json, the OpenAPI description of
 * the REST routes for the default MAX_BATCH and BODY_LIMIT_BYTES (GET /openapi.json serves it
 * for the gateway's own). `--check` fails instead when either file drifted.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { DEFAULT_SETTINGS, buildOpenApiDocument } from '../src/rest/openapi.js';
import { schema } from '../src/schema/index.js';
import { SCHEMA_SDL_FILE } from '../src/schema/limits.js';

/** Where introspection's refusal (limits.ts) says the schema is. */
export const SDL_PATH = fileURLToPath(new URL(`../${SCHEMA_SDL_FILE}`, import.meta.url));

export const OPENAPI_FILE_PATH = fileURLToPath(new URL('../schema/openapi.json', import.meta.url));

export function printSortedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

/** The committed OpenAPI document: the default settings, indented for readable diffs. */
export function printOpenApi(): string {
  return `${JSON.stringify(buildOpenApiDocument(DEFAULT_SETTINGS), null, 2)}\n`;
}

async function main(): Promise<void> {
  const files = [
    { path: SDL_PATH, text: printSortedSchema() },
    { path: OPENAPI_FILE_PATH, text: printOpenApi() },
  ];
  if (process.argv.includes('--check')) {
    let stale = false;
    for (const { path: file, text } of files) {
      if ((await readFile(file, 'utf8').catch(() => '')) !== text) {
        process.stderr.write(`${path.relative(process.cwd(), file)} is out of date: run \`npm run schema:print\` and commit it\n`);
        stale = true;
      }
    }
    if (stale) process.exit(1);
  } else {
    for (const { path: file, text } of files) {
      await writeFile(file, text);
      process.stdout.write(`wrote ${file}\n`);
    }
  }
}

// Only when run (npm run schema:print / schema:check): test/schema.test.ts imports this module,
// and a write on import made its drift test pass whatever the committed file held.
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
