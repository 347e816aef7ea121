/**
 * Builds ui/dist, or the folder given as its argument (runs in Node at build time: `npm run build:ui [-- <folder>]`):
 * - the /ui app (esbuild bundle of ui/src/app) and /ui/batch's (ui/src/batch), with the operations of schema/operations
 *   printed from the generated typed documents, so the browser ships no GraphQL printer, and the small
 *   script both pages run after theirs, which says so when theirs did not run;
 * - GraphiQL's JS, CSS, Monaco workers and favicon, taken out of
 *   @graphql-yoga/render-graphiql (which would otherwise inline ≈9 MB into every page)
 *   and a small boot script that preloads the example operations;
 * - Swagger UI for /docs: swagger-ui-dist's prebuilt bundle and CSS as published, the page's
 *   own CSS after Swagger UI's, and a small boot script that points it at the gateway's OpenAPI
 *   document;
 * - every file content-hashed, with .br and .gz siblings, listed in manifest.json.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import * as graphiql from '@graphql-yoga/render-graphiql/graphiql';
import { build } from 'esbuild';
import { Kind, print } from 'graphql';
import type { GraphiQLOptions } from 'graphql-yoga';
import { BUILT_UI_DIR } from '../../src/config.js';
import { GroupReportDocument, ModelInfoDocument, PredictBatchDocument, PredictDocument, ReloadModelDocument, RetentionOffersDocument, ScoreFileDocument } from '../../src/generated/graphql.js';
import { ENCODING_SUFFIX, type AssetName, type Encoding, type UiAsset, type UiManifest } from '../../src/ui/manifest.js';
import { BATCH_LINK_TEXT, BATCH_PATH, GRAPHIQL_TITLE } from '../../src/ui/pages.js';
import { EXAMPLES } from './app/customer-fields.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

interface Output {
  readonly name: AssetName;
  readonly bytes: Uint8Array;
  readonly contentType: string;
  readonly graphiql: boolean;
}

function hashedName(name: string, bytes: Uint8Array): string {
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
  const dot = name.indexOf('.');
  return `${name.slice(0, dot)}.${hash}${name.slice(dot)}`;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** How a file being written ends, until it is renamed to its own name. */
const PARTIAL_SUFFIX = '.partial';
/** A partial file this old is a killed build's; a younger one may be another build's, writing now. */
const STALE_PARTIAL_MS = 10 * 60_000;

/**
 * Writes the bytes under a temporary name and renames them to `file`: a build killed halfway
 * leaves no file cut short under its name, which a later build would take for whole.
 */
async function writeWhole(file: string, bytes: Uint8Array | string): Promise<void> {
  const partial = `${file}.${process.pid}-${randomBytes(4).toString('hex')}${PARTIAL_SUFFIX}`;
  await writeFile(partial, bytes);
  await rename(partial, file);
}

/**
 * Writes the file and its compressed siblings; content-hashed files already on disk are reused,
 * but only all together: a build killed between the file and a sibling left a manifest-listed
 * sibling missing, which the next build then never wrote. The siblings are written first, so a
 * file on disk under its name has them beside it.
 */
async function writeAsset(dir: string, output: Output): Promise<UiAsset> {
  const file = hashedName(output.name, output.bytes);
  const target = path.join(dir, file);
  const compressible = !output.contentType.startsWith('image/') || output.contentType === 'image/x-icon';
  const encodings: Encoding[] = compressible && output.bytes.length > 1024 ? ['br', 'gzip'] : [];
  const siblings = encodings.map((encoding) => `${target}${ENCODING_SUFFIX[encoding]}`);
  if (!(await Promise.all([target, ...siblings].map(exists))).every(Boolean)) {
    for (const encoding of encodings) {
      const packed =
        encoding === 'br'
          ? await brotli(output.bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 9, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: output.bytes.length } })
          : await gzip(output.bytes, { level: 9 });
      await writeWhole(`${target}${ENCODING_SUFFIX[encoding]}`, packed);
    }
    await writeWhole(target, output.bytes);
  }
  return { file, contentType: output.contentType, encodings, graphiql: output.graphiql };
}

/** Removes what the manifest does not list, but not the partial files of a build that may be writing now. */
async function removeUnlisted(assetsDir: string, keep: ReadonlySet<string>): Promise<void> {
  for (const file of await readdir(assetsDir)) {
    if (keep.has(file)) continue;
    const full = path.join(assetsDir, file);
    const age = await stat(full).then((s) => Date.now() - s.mtimeMs, () => Infinity);
    if (file.endsWith(PARTIAL_SUFFIX) && age < STALE_PARTIAL_MS) continue;
    await rm(full, { force: true });
  }
}

async function bundle(entry: string, format: 'esm' | 'iife', define: Record<string, unknown> = {}): Promise<Uint8Array> {
  const result = await build({
    entryPoints: [path.join(REPO_ROOT, entry)],
    bundle: true,
    minify: true,
    write: false,
    format,
    target: ['es2022'],
    platform: 'browser',
    legalComments: 'none',
    define: Object.fromEntries(Object.entries(define).map(([k, v]) => [k, JSON.stringify(v)])),
    logLevel: 'silent',
  });
  const [file] = result.outputFiles;
  if (!file || result.outputFiles.length !== 1) throw new Error(`${entry}: expected one output file`);
  return file.contents;
}

/** GraphiQL's tabs: the committed operations (printed with their fragments), with example customers as variables. */
function graphiqlTabs(): NonNullable<GraphiQLOptions['defaultTabs']> {
  const customers = EXAMPLES.map((e) => e.customer);
  return [
    { query: print(PredictDocument), variables: JSON.stringify({ customer: customers[0] }, null, 2) },
    { query: print(PredictBatchDocument), variables: JSON.stringify({ customers }, null, 2) },
    { query: print(ModelInfoDocument), variables: null },
    { query: print(GroupReportDocument), variables: null },
  ];
}

export async function buildUi(outDir = path.join(REPO_ROOT, BUILT_UI_DIR)): Promise<UiManifest> {
  const assetsDir = path.join(outDir, 'assets');
  await mkdir(assetsDir, { recursive: true });
  const text = (s: string) => new TextEncoder().encode(s);
  const js = 'text/javascript; charset=utf-8';
  const operations = Object.fromEntries(
    [PredictDocument, PredictBatchDocument, ScoreFileDocument, RetentionOffersDocument, ModelInfoDocument, ReloadModelDocument].map((doc) => {
      const op = doc.definitions[0];
      if (op?.kind !== Kind.OPERATION_DEFINITION || !op.name) throw new Error('generated document without a named operation');
      return [op.name.value, print(doc)];
    }),
  );

  const outputs: Output[] = [
    { name: 'app.js', bytes: await bundle('ui/src/app/main.ts', 'esm', { __OPERATION_SOURCES__: operations }), contentType: js, graphiql: false },
    { name: 'app.css', bytes: await bundle('ui/src/app/styles.css', 'esm'), contentType: 'text/css; charset=utf-8', graphiql: false },
    { name: 'batch.js', bytes: await bundle('ui/src/batch/main.ts', 'esm', { __OPERATION_SOURCES__: operations }), contentType: js, graphiql: false },
    { name: 'batch.css', bytes: await bundle('ui/src/batch/styles.css', 'esm'), contentType: 'text/css; charset=utf-8', graphiql: false },
    { name: 'page-check.js', bytes: await bundle('ui/src/app/page-check.ts', 'iife'), contentType: js, graphiql: false },
    { name: 'favicon.ico', bytes: Buffer.from(graphiql.favicon.replace(/^data:[^,]*;base64,/, ''), 'base64'), contentType: 'image/x-icon', graphiql: false },
    { name: 'graphiql.js', bytes: text(graphiql.js), contentType: js, graphiql: true },
    {
      name: 'graphiql.css',
      bytes: Buffer.concat([text(graphiql.css), text('\n'), await bundle('ui/src/graphiql/page.css', 'esm')]),
      contentType: 'text/css; charset=utf-8',
      graphiql: true,
    },
    { name: 'graphiql-editor.worker.js', bytes: text(graphiql.editorWorkerService), contentType: js, graphiql: true },
    { name: 'graphiql-json.worker.js', bytes: text(graphiql.jsonWorker), contentType: js, graphiql: true },
    { name: 'graphiql-graphql.worker.js', bytes: text(graphiql.graphqlWorker), contentType: js, graphiql: true },
    // Swagger UI's prebuilt browser bundle and CSS, as published, and after its CSS the page's own (ui/src/docs/page.css).
    { name: 'swagger-ui.js', bytes: await readFile(require.resolve('swagger-ui-dist/swagger-ui-bundle.js')), contentType: js, graphiql: false },
    {
      name: 'swagger-ui.css',
      bytes: Buffer.concat([await readFile(require.resolve('swagger-ui-dist/swagger-ui.css')), text('\n'), await bundle('ui/src/docs/page.css', 'esm')]),
      contentType: 'text/css; charset=utf-8',
      graphiql: false,
    },
    { name: 'docs-boot.js', bytes: await bundle('ui/src/docs/boot.ts', 'iife'), contentType: js, graphiql: false },
  ];
  const assets: Partial<Record<AssetName, UiAsset>> = {};
  for (const output of outputs) assets[output.name] = await writeAsset(assetsDir, output);

  const url = (name: AssetName) => `/ui/assets/${(assets[name] as UiAsset).file}`;
  const options: GraphiQLOptions = {
    endpoint: '/graphql',
    // Yoga renders a string title as HTML in GraphiQL's logo slot (top right): the page's
    // heading and its way back to the form, inside GraphiQL's layout rather than above it.
    title: `<span class="churn-title"><h1>${GRAPHIQL_TITLE}</h1><nav aria-label="Gateway tools"><a href="/ui">Prediction form</a><a href="${BATCH_PATH}">${BATCH_LINK_TEXT}</a><a href="/docs">REST API</a></nav></span>`,
    // Headers stay in this page's memory only: Yoga would keep them in localStorage, and the
    // one header this gateway reads from people is the admin token (reloadModel).
    shouldPersistHeaders: false,
    // Only the tabs: a global query/variables would be matched against the saved tabs on
    // every load (ui/src/graphiql/boot.ts picks the starting tab instead).
    defaultTabs: graphiqlTabs(),
    defaultEditorToolsVisibility: true,
  };
  const workers = { editorWorkerService: url('graphiql-editor.worker.js'), json: url('graphiql-json.worker.js'), graphql: url('graphiql-graphql.worker.js') };
  assets['graphiql-boot.js'] = await writeAsset(assetsDir, {
    name: 'graphiql-boot.js',
    bytes: await bundle('ui/src/graphiql/boot.ts', 'iife', { __GRAPHIQL_WORKERS__: workers, __GRAPHIQL_OPTIONS__: options }),
    contentType: js,
    graphiql: true,
  });

  const manifest: UiManifest = { version: 1, assets: assets as Record<AssetName, UiAsset> };
  const keep = new Set(Object.values(manifest.assets).flatMap((a) => [a.file, ...a.encodings.map((e) => `${a.file}${ENCODING_SUFFIX[e]}`)]));
  await removeUnlisted(assetsDir, keep);
  await writeWhole(path.join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = Date.now();
  const outDir = process.argv[2] ? path.resolve(process.argv[2]) : undefined;
  buildUi(outDir).then(
    (manifest) => console.log(`ui: ${Object.keys(manifest.assets).length} assets in ${Date.now() - started} ms`),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
