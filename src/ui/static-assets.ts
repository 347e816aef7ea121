/**
 * Serves the content-hashed files listed in ui/dist/manifest.json: the manifest is the
 * allow-list (a name not in it, including any traversal attempt, is a 404 without
 * touching the file system), the precompressed sibling matching Accept-Encoding is sent,
 * and names change with content, so responses are cacheable forever.
 *
 * A file is sent from memory, in chunks that wait for the socket, the last one with
 * `res.end(chunk)`: the answer is finished the moment its last bytes are handed to the socket.
 * Streamed from disk (`pipeline(createReadStream(), res)`), end() came one file-system read
 * after the last bytes, and a client that closes as soon as it has content-length bytes (curl
 * does) often closed first: a download received in full was logged and counted as 499, and the
 * rejected pipeline logged as an unexpected error. Not one `res.end(all bytes)` either: Node
 * then emits 'finish' even when the client resets the connection before taking them, so a
 * client that left halfway through GraphiQL's 5 MB would be logged 200; with end() kept for
 * the last chunk, leaving before it is a 499.
 * A variant is read once, the first time it is asked for, and kept: the whole build with its
 * precompressed siblings is ~13.5 MB (GraphiQL's script alone 5.3 MB plain), so a gateway whose
 * /ui nobody opens holds none of it and browsers (brotli) make it hold ~2 MB; read per request,
 * every concurrent download would hold its own copy.
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { acceptedCodings } from '../compression.js';
import { zodIssues } from '../errors.js';
import { ifNoneMatchHits } from './etag.js';
import { ENCODING_SUFFIX, uiManifestSchema, type Encoding, type UiAsset, type UiManifest } from './manifest.js';

interface Variant {
  readonly file: string;
  readonly size: number;
  /** The file's bytes once asked for; dropped again if reading them failed, so the next request retries. */
  bytes?: Promise<Buffer>;
}

function bytesOf(variant: Variant): Promise<Buffer> {
  variant.bytes ??= readFile(variant.file).catch((err: unknown) => {
    variant.bytes = undefined;
    throw err;
  });
  return variant.bytes;
}

interface ServedAsset {
  readonly asset: UiAsset;
  readonly identity: Variant;
  readonly encoded: Partial<Record<Encoding, Variant>>;
}

export const IMMUTABLE = 'public, max-age=31536000, immutable';

export function loadManifest(uiDir: string): UiManifest {
  const file = path.join(uiDir, 'manifest.json');
  const parsed = uiManifestSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issues = zodIssues(parsed.error);
    throw new Error(`${file} does not match this gateway's UI build: ${issues}`);
  }
  return parsed.data;
}

/**
 * A file the manifest lists is not on disk: the build was stopped before it wrote it (or the
 * file was removed), which another `npm run build:ui` repairs. Not "no UI build": there is one.
 */
export class IncompleteUiBuildError extends Error {
  override readonly name = 'IncompleteUiBuildError';
}

function variantOf(file: string): Variant {
  try {
    return { file, size: statSync(file).size };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new IncompleteUiBuildError(`${file} is listed in the UI build's manifest.json but missing`, { cause: err });
  }
}

export class StaticAssets {
  private readonly byFile = new Map<string, ServedAsset>();

  constructor(manifest: UiManifest, assetsDir: string) {
    for (const asset of Object.values(manifest.assets)) {
      const identity = variantOf(path.join(assetsDir, asset.file));
      const encoded: Partial<Record<Encoding, Variant>> = {};
      for (const e of asset.encodings) encoded[e] = variantOf(`${identity.file}${ENCODING_SUFFIX[e]}`);
      this.byFile.set(asset.file, { asset, identity, encoded });
    }
  }

  /** Sends the named file; false when there is no such file (or it is GraphiQL's and GraphiQL is off). */
  async serve(name: string, req: IncomingMessage, res: ServerResponse, allowGraphiql: boolean): Promise<boolean> {
    const served = this.byFile.get(name);
    if (!served || (served.asset.graphiql && !allowGraphiql)) return false;
    const encoding = acceptedCodings(req.headers['accept-encoding']).find((e) => served.encoded[e]);
    const variant = encoding ? (served.encoded[encoding] as Variant) : served.identity;
    const etag = `"${served.asset.file}${encoding ? `-${encoding}` : ''}"`;
    const headers: Record<string, string | number> = {
      'content-type': served.asset.contentType,
      'cache-control': IMMUTABLE,
      etag,
    };
    if (served.asset.encodings.length > 0) headers['vary'] = 'Accept-Encoding';
    if (encoding) headers['content-encoding'] = encoding;
    if (ifNoneMatchHits(req.headers['if-none-match'], etag)) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    if (req.method === 'HEAD') {
      res.writeHead(200, { ...headers, 'content-length': variant.size });
      res.end();
      return true;
    }
    // Read before the status line: a file that cannot be read is a 500 (answerError logs it),
    // not a 200 cut short.
    const bytes = await bytesOf(variant);
    res.writeHead(200, { ...headers, 'content-length': bytes.length });
    await sendBody(res, bytes);
    return true;
  }
}

/** As much as one write hands to the socket (what createReadStream read at a time). */
const CHUNK_BYTES = 64 * 1024;

/** Writes `bytes` a chunk at a time, waiting for the socket to drain; stops if the client has gone. */
async function sendBody(res: ServerResponse, bytes: Buffer): Promise<void> {
  let at = 0;
  while (bytes.length - at > CHUNK_BYTES) {
    if (!res.write(bytes.subarray(at, (at += CHUNK_BYTES))) && !(await drained(res))) return;
  }
  res.end(bytes.subarray(at));
}

/** Whether the response drained (true) or closed first (false): nobody to send the rest to. */
function drained(res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const settle = (ok: boolean) => {
      res.off('drain', onDrain).off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => settle(true);
    const onClose = () => settle(false);
    res.once('drain', onDrain).once('close', onClose);
  });
}
