/**
 * The contract between the UI build (ui/src/build.ts) and the gateway that serves it:
 * ui/dist/manifest.json names every content-hashed file under ui/dist/assets/ (Swagger UI's
 * for /docs too), so the server knows exactly which files exist (anything else is a 404) and
 * the pages know which names to link. The gateway reads it at start-up through
 * `uiManifestSchema`: a manifest from another build layout, or a file name that is not a plain
 * name inside assets/, leaves /ui and /docs unavailable instead of being served.
 */
import { z } from 'zod';
import { CODINGS, type ContentCoding } from '../compression.js';

/** A coding a file is precompressed in: one the gateway writes (compression.ts). */
export type Encoding = ContentCoding;

/** Logical names the pages link to. */
const ASSET_NAMES = [
  'app.js',
  'app.css',
  'batch.js',
  'batch.css',
  'page-check.js',
  'favicon.ico',
  'graphiql.js',
  'graphiql.css',
  'graphiql-boot.js',
  'graphiql-editor.worker.js',
  'graphiql-json.worker.js',
  'graphiql-graphql.worker.js',
  'swagger-ui.js',
  'swagger-ui.css',
  'docs-boot.js',
] as const;
export type AssetName = (typeof ASSET_NAMES)[number];

const uiAssetSchema = z
  .object({
    /** Content-hashed file name under assets/, e.g. app.3F2A1B9C.js. */
    file: z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/, 'must be a plain file name inside assets/'),
    contentType: z.string().min(1),
    /** Precompressed siblings that exist beside the file: <file>.br, <file>.gz. */
    encodings: z.array(z.enum(CODINGS)).readonly(),
    /** Served only while GRAPHIQL_ENABLED is true. */
    graphiql: z.boolean(),
  })
  .readonly();
export type UiAsset = z.infer<typeof uiAssetSchema>;

export const uiManifestSchema = z
  .object({
    version: z.literal(1),
    // Every name, no other: a record over an enum of keys requires each of them.
    assets: z.record(z.enum(ASSET_NAMES), uiAssetSchema).readonly(),
  })
  .readonly();
export type UiManifest = z.infer<typeof uiManifestSchema>;

export const ENCODING_SUFFIX: Readonly<Record<Encoding, string>> = { br: '.br', gzip: '.gz' };

/** URL prefix the assets are served under. */
export const ASSET_PREFIX = '/ui/assets/';
