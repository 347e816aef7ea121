/**
 * Large answers compressed for the callers that accept it (Accept-Encoding), on libuv's thread
 * pool rather than the event loop. The UI's ScoreFile answer for the data set's 7,043 customers,
 * with their risk drivers, is 13.6 MB of JSON: 1.83 MB as brotli at quality 1 (63 ms of a core) and
 * 1.99 MB as gzip at level 3 (75 ms). Uncompressed, a browser on a 4 Mbit/s link could not download
 * it within the page's wait, though the gateway had answered; the load balancer in front compresses
 * nothing. Higher levels buy little for their CPU, which a task of half a vCPU shares with scoring
 * (the same answer: brotli 4 1.27 MB in 262 ms, 5 1.25 MB in 559 ms; gzip 6 1.70 MB in 176 ms).
 * Answers under COMPRESSED_FROM_BYTES (every single prediction, health checks, problems) are
 * written as before, on the same path: compressing them would cost more than it saves.
 */
import type { ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

/** The smallest answer body compressed when the caller accepts a coding (64 KiB: a batch of ~400 REST customers). */
export const COMPRESSED_FROM_BYTES = 64 * 1024;

/** The codings the gateway writes, in the order a tie of weights prefers them. */
export const CODINGS = ['br', 'gzip'] as const;
export type ContentCoding = (typeof CODINGS)[number];

/** A coding's weight as Accept-Encoding may write it (RFC 9110 §12.4.2): 0 to 1, at most three decimals. */
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/**
 * The codings of ours an Accept-Encoding `header` accepts, best first (RFC 9110 §12.5.3): br and gzip
 * (x-gzip is gzip) by weight, br first on a tie; `*` weighs every coding not named; q=0 refuses one.
 * Empty when neither is accepted (no header, `identity`, `br;q=0, gzip;q=0`): the answer goes as it
 * is. An element whose weight is not a qvalue is ignored. Also how /ui's files pick their
 * precompressed variant (ui/static-assets.ts).
 */
export function acceptedCodings(header: string | undefined): ContentCoding[] {
  if (header === undefined) return [];
  const weights = new Map<string, number>();
  for (const element of header.split(',')) {
    const [token = '', ...params] = element.split(';');
    const name = token.trim().toLowerCase();
    if (name === '') continue;
    let q = 1;
    for (const param of params) {
      const [key = '', value = ''] = param.split('=').map((s) => s.trim());
      if (key.toLowerCase() === 'q') q = QVALUE.test(value) ? Number(value) : NaN;
    }
    if (Number.isNaN(q)) continue;
    const coding = name === 'x-gzip' ? 'gzip' : name;
    weights.set(coding, Math.max(q, weights.get(coding) ?? 0));
  }
  const any = weights.get('*') ?? 0;
  const weight = (coding: ContentCoding): number => weights.get(coding) ?? any;
  return CODINGS.filter((c) => weight(c) > 0).sort((a, b) => weight(b) - weight(a));
}

/** The coding to answer with for an Accept-Encoding `header`: the best acceptedCodings gives, or null. */
export const acceptedCoding = (header: string | undefined): ContentCoding | null => acceptedCodings(header)[0] ?? null;

const brotliAsync = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Brotli at quality 1 of 11 (node's default, 11, takes seconds on a large answer) and gzip at level 3 of 9: the figures above. */
const compress = (body: Buffer, coding: ContentCoding): Promise<Buffer> =>
  coding === 'br'
    ? brotliAsync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 1, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } })
    : gzipAsync(body, { level: 3 });

/**
 * Writes `res`'s answer: `status`, `headers` (writeHead's flat name/value list, without
 * content-length) and `body`. A body of COMPRESSED_FROM_BYTES or more is sent with `vary:
 * Accept-Encoding` (kept beside a vary already set, CORS's Origin), compressed when the request
 * accepts br or gzip: the promise then settles once it is written, or dropped when the request was
 * answered meanwhile (its timeout) or its caller left. Anything smaller is written at once.
 */
export function endCompressible(res: ServerResponse, status: number, headers: string[], body: string | Buffer): Promise<void> | undefined {
  if (body.length < COMPRESSED_FROM_BYTES) {
    headers.push('content-length', String(Buffer.byteLength(body)));
    res.writeHead(status, headers);
    res.end(body);
    return undefined;
  }
  const vary = res.getHeader('vary');
  headers.push('vary', vary === undefined ? 'Accept-Encoding' : `${String(vary)}, Accept-Encoding`);
  const coding = res.req.method === 'HEAD' ? null : acceptedCoding(res.req.headers['accept-encoding']);
  if (coding === null) {
    headers.push('content-length', String(Buffer.byteLength(body)));
    res.writeHead(status, headers);
    res.end(body);
    return undefined;
  }
  const identity = typeof body === 'string' ? Buffer.from(body) : body;
  // Never rejects: an answer zlib could not compress (out of memory) goes as it is.
  return compress(identity, coding).then(
    (bytes) => {
      if (res.headersSent || res.destroyed) return;
      headers.push('content-encoding', coding, 'content-length', String(bytes.length));
      res.writeHead(status, headers);
      res.end(bytes);
    },
    () => {
      if (res.headersSent || res.destroyed) return;
      headers.push('content-length', String(identity.length));
      res.writeHead(status, headers);
      res.end(identity);
    },
  );
}
