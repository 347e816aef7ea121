/**
 * The contract between the UI build (ui/src/build.ts) and the gateway that serves it:
 * ui/dist/manifest.json names every content-hashed file under ui/dist/assets/, so the
 * server knows exactly which files exist (anything else is a 404) and the pages know
 * which names to link.
 */

export type Encoding = 'br' | 'gzip';

export interface UiAsset {
  /** Content-hashed file name under assets/, e.g. app.3F2A1B9C.js. */
  readonly file: string;
  readonly contentType: string;
  /** Precompressed siblings that exist beside the file: <file>.br, <file>.gz. */
  readonly encodings: readonly Encoding[];
  /** Served only while GRAPHIQL_ENABLED is true. */
  readonly graphiql: boolean;
}

/** Logical names the pages link to. */
export type AssetName =
  | 'app.js'
  | 'app.css'
  | 'favicon.ico'
  | 'graphiql.js'
  | 'graphiql.css'
  | 'graphiql-boot.js'
  | 'graphiql-editor.worker.js'
  | 'graphiql-json.worker.js'
  | 'graphiql-graphql.worker.js';

export interface UiManifest {
  readonly version: 1;
  readonly assets: Readonly<Record<AssetName, UiAsset>>;
}

export const ENCODING_SUFFIX: Readonly<Record<Encoding, string>> = { br: '.br', gzip: '.gz' };

/** URL prefix the assets are served under. */
export const ASSET_PREFIX = '/ui/assets/';
