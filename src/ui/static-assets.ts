/**
 * Serves the content-hashed files listed in ui/dist/manifest.json: the manifest is the
 * allow-list (a name not in it, including any traversal attempt, is a 404 without
 * touching the file system), the precompressed sibling matching Accept-Encoding is sent,
 * and names change with content, so responses are cacheable forever.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { zodIssues } from '../errors.js';
import { ENCODING_SUFFIX, uiManifestSchema, type Encoding, type UiAsset, type UiManifest } from './manifest.js';

interface Variant {
  readonly file: string;
  readonly size: number;
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

/** Encodings the client accepts, best first (q=0 means refused). */
export function acceptedEncodings(header: string | string[] | undefined): Encoding[] {
  const accepted = new Map<string, number>();
  for (const part of (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    accepted.set(name, q ? Number(q.slice(2)) : 1);
  }
  const quality = (e: string) => accepted.get(e) ?? accepted.get('*') ?? 0;
  return (['br', 'gzip'] as const).filter((e) => quality(e) > 0).sort((a, b) => quality(b) - quality(a));
}

export class StaticAssets {
  private readonly byFile = new Map<string, ServedAsset>();

  constructor(manifest: UiManifest, assetsDir: string) {
    for (const asset of Object.values(manifest.assets)) {
      const variant = (file: string): Variant => ({ file, size: statSync(file).size });
      const identity = variant(path.join(assetsDir, asset.file));
      const encoded: Partial<Record<Encoding, Variant>> = {};
      for (const e of asset.encodings) encoded[e] = variant(`${identity.file}${ENCODING_SUFFIX[e]}`);
      this.byFile.set(asset.file, { asset, identity, encoded });
    }
  }

  /** Sends the named file; false when there is no such file (or it is GraphiQL's and GraphiQL is off). */
  async serve(name: string, req: IncomingMessage, res: ServerResponse, allowGraphiql: boolean): Promise<boolean> {
    const served = this.byFile.get(name);
    if (!served || (served.asset.graphiql && !allowGraphiql)) return false;
    const encoding = acceptedEncodings(req.headers['accept-encoding']).find((e) => served.encoded[e]);
    const variant = encoding ? (served.encoded[encoding] as Variant) : served.identity;
    const etag = `"${served.asset.file}${encoding ? `-${encoding}` : ''}"`;
    const headers: Record<string, string | number> = {
      'content-type': served.asset.contentType,
      'cache-control': IMMUTABLE,
      etag,
    };
    if (served.asset.encodings.length > 0) headers['vary'] = 'Accept-Encoding';
    if (encoding) headers['content-encoding'] = encoding;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    headers['content-length'] = variant.size;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') res.end();
    else await pipeline(createReadStream(variant.file), res);
    return true;
  }
}
