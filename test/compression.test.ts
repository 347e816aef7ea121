/**
 * Large answers compressed for callers that accept it (src/compression.ts), on the real gateway: a
 * batch's answer, REST and GraphQL (Yoga's first run of a document and the compiled runs after it),
 * decompresses to the bytes an uncompressed answer to the same request has; small answers are never
 * compressed.
 */
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPRESSED_FROM_BYTES, acceptedCoding } from '../src/compression.js';
import { GRAPHQL_CUSTOMER, LEGACY_PAYLOAD, startTestGateway, type TestGateway } from './helpers/index.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ CORS_ORIGINS: 'https://app.example' });
});
afterAll(() => gw.close());

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer };

/** POSTs `body` with node:http, which (unlike fetch) sends only the headers given and decompresses nothing. */
const post = (path: string, body: string, headers: Record<string, string>): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const req = request(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });

const decoded = ({ headers, body }: Answer): string =>
  (headers['content-encoding'] === 'br' ? brotliDecompressSync(body) : headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString('utf8');

// A REST batch of 1,000 customers answers ~160 KB; one customer ~110 bytes.
const restBatch = JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ ...LEGACY_PAYLOAD, customerID: `C-${i}`, tenure: i % 72 })));
const SCORE_FILE = `${readFileSync('schema/operations/score-file.graphql', 'utf8')}
fragment PredictionFields on Prediction { customerId churnProbability willChurn riskLevel threshold modelVersion }`;
const graphqlBatch = JSON.stringify({ query: SCORE_FILE, variables: { customers: Array.from({ length: 500 }, (_, i) => ({ ...GRAPHQL_CUSTOMER, customerId: `C-${i}`, tenure: i % 72 })) } });

describe('a large answer', () => {
  it.each([
    ['POST /predict', '/predict', restBatch],
    // Twice: Yoga answers a document's first run, the compiled path the runs after it.
    ['POST /graphql, first run', '/graphql', graphqlBatch],
    ['POST /graphql, compiled', '/graphql', graphqlBatch],
  ])('%s: compressed as the caller accepts it (br before gzip), the same bytes once decompressed, with vary: Accept-Encoding beside CORS\'s Origin', async (_name, path, body) => {
    const plain = await post(path, body, { origin: 'https://app.example' });
    expect(plain.status).toBe(200);
    expect(plain.body.length).toBeGreaterThanOrEqual(COMPRESSED_FROM_BYTES);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['vary']).toBe('Origin, Accept-Encoding');
    const text = plain.body.toString('utf8');
    for (const [accept, coding] of [['gzip, deflate, br', 'br'], ['gzip', 'gzip'], ['br;q=0.5, gzip', 'gzip'], ['*', 'br'], ['identity', undefined], ['br;q=0, gzip;q=0', undefined]] as const) {
      const answer = await post(path, body, { origin: 'https://app.example', 'accept-encoding': accept });
      expect([answer.status, answer.headers['content-encoding'], answer.headers['vary']], accept).toEqual([200, coding, 'Origin, Accept-Encoding']);
      expect(Number(answer.headers['content-length']), accept).toBe(answer.body.length);
      if (coding) expect(answer.body.length, accept).toBeLessThan(plain.body.length / 4);
      expect(decoded(answer), accept).toBe(text);
    }
  });
});

describe('a small answer', () => {
  it('is never compressed, nor varies on Accept-Encoding (only on Origin, as CORS does): one prediction, REST and GraphQL, and GET /', async () => {
    const rest = await post('/predict', JSON.stringify(LEGACY_PAYLOAD), { 'accept-encoding': 'gzip, br' });
    const graphql = await post('/graphql', JSON.stringify({ query: 'mutation P($c: CustomerInput!) { predict(customer: $c) { churnProbability } }', variables: { c: GRAPHQL_CUSTOMER } }), { 'accept-encoding': 'gzip, br' });
    const health = await fetch(`${gw.url}/`, { headers: { 'accept-encoding': 'gzip, br' } });
    for (const [answer, name] of [[rest, 'rest'], [graphql, 'graphql']] as const) {
      expect([answer.status, answer.headers['content-encoding'], answer.headers['vary']], name).toEqual([200, undefined, 'Origin']);
      expect(JSON.parse(answer.body.toString('utf8')), name).toBeTruthy();
    }
    expect([health.status, health.headers.get('content-encoding'), health.headers.get('vary')]).toEqual([200, null, 'Origin']);
  });
});

describe('acceptedCoding', () => {
  it.each([
    [undefined, null],
    ['', null],
    ['identity', null],
    ['deflate', null],
    ['gzip', 'gzip'],
    ['x-gzip', 'gzip'],
    ['GZIP', 'gzip'],
    ['br', 'br'],
    ['gzip, deflate, br, zstd', 'br'],
    ['gzip;q=1.0, br;q=0.9', 'gzip'],
    ['br;q=0.5, gzip;q=0.5', 'br'],
    ['*', 'br'],
    ['*;q=0', null],
    ['gzip;q=0, *', 'br'],
    ['br;q=0, *', 'gzip'],
    ['br;q=0, gzip;q=0', null],
    ['gzip;q=2, deflate', null], // not a qvalue: that element is ignored
    ['gzip;q=abc, br;q=0.001', 'br'],
    ['gzip ; q=0.3 , br ; q=0.2', 'gzip'],
  ])('%j → %s', (header, coding) => {
    expect(acceptedCoding(header)).toBe(coding);
  });
});
