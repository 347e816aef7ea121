/**
 * Who sent a request (src/client-address.ts): the access line, the request's other lines and the
 * "request refused before routing" line name its address (`client`) and, on the access line, its
 * user agent, on a real gateway reached over a real socket, with and without trusted proxies
 * (TRUSTED_PROXY_HOPS). X-Forwarded-For entries left of the trusted ones are the caller's own text,
 * and are never believed.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LOGGED_HEADER_CHARS, clientAddress } from '../src/client-address.js';
import { LEGACY_PAYLOAD, REPO_ROOT, startTestGateway, waitFor, type TestGateway } from './helpers/index.js';

type Line = Record<string, unknown>;

/** The test's own socket's address as the gateway sees it (startTestGateway listens on 127.0.0.1). */
const PEER = '127.0.0.1';
/** Addresses from the documentation ranges (RFC 5737): what a proxy in front would have appended. */
const CLIENT = '203.0.113.7';
const EARLIER = '198.51.100.9';

/**
 * Sends one request over a new connection, its head as written here (repeated headers, no
 * user-agent: what fetch would not send), and reads until the gateway closes it.
 */
async function send(gw: TestGateway, reqId: string, headers: string[], { method = 'GET', path = '/nowhere', body = '' } = {}): Promise<string> {
  const socket = connect(Number(new URL(gw.url).port), '127.0.0.1');
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('utf8')));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const length = body === '' ? [] : ['content-type: application/json', `content-length: ${Buffer.byteLength(body)}`];
  socket.write([`${method} ${path} HTTP/1.1`, 'host: x', `x-request-id: ${reqId}`, 'connection: close', ...length, ...headers, '', body].join('\r\n'));
  await closed;
  return received;
}

/** The access line of `reqId`, once written (access lines are flushed every ACCESS_LOG_FLUSH_MS). */
async function accessLine(gw: TestGateway, reqId: string): Promise<Line> {
  const line = () => gw.logs.find((l) => l['reqId'] === reqId && l['msg'] === 'request');
  await waitFor(`the access line of ${reqId}`, () => line() !== undefined, 10_000, 10);
  return line() as Line;
}

/** The line node's parser refusal writes for a request sent after `before` lines: its bytes are not HTTP/1.1 (a header line without a colon). */
async function refusedLine(gw: TestGateway, headers: string[]): Promise<Line> {
  const before = gw.logs.length;
  const answer = await send(gw, 'unused', [...headers, 'Bad Header']);
  expect(answer).toMatch(/^HTTP\/1\.1 400 /);
  const line = () => gw.logs.slice(before).find((l) => l['msg'] === 'request refused before routing');
  await waitFor('the refused request’s line', () => line() !== undefined, 10_000, 10);
  return line() as Line;
}

describe('with no trusted proxy (TRUSTED_PROXY_HOPS unset: 0)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw.close());

  it('the access line names the socket’s peer and the user agent, and nothing else of the request', async () => {
    await send(gw, 'ca0-plain', ['user-agent: churn-client/2.1 (+https://example.test/bot)', 'authorization: Bearer not-logged-0123456789', 'cookie: session=not-logged']);
    const line = await accessLine(gw, 'ca0-plain');
    expect(line).toMatchObject({ status: 404, code: 'NOT_FOUND', client: PEER, userAgent: 'churn-client/2.1 (+https://example.test/bot)' });
    expect(Object.keys(line)).toEqual(['level', 'time', 'service', 'reqId', 'method', 'route', 'status', 'code', 'latencyMs', 'client', 'userAgent', 'msg']);
    expect(JSON.stringify(line)).not.toContain('not-logged');
  });

  it('believes no X-Forwarded-For (anyone can send one): the peer, whatever the header says', async () => {
    await send(gw, 'ca0-forwarded', [`x-forwarded-for: ${EARLIER}, ${CLIENT}`]);
    const line = await accessLine(gw, 'ca0-forwarded');
    expect(line['client']).toBe(PEER);
    expect(JSON.stringify(line)).not.toContain(CLIENT);
  });

  it('a request without a user agent has no userAgent; a long one is cut to MAX_LOGGED_HEADER_CHARS, marked …', async () => {
    await send(gw, 'ca0-no-agent', []);
    expect(await accessLine(gw, 'ca0-no-agent')).not.toHaveProperty('userAgent');
    await send(gw, 'ca0-long-agent', [`user-agent: ${'a'.repeat(MAX_LOGGED_HEADER_CHARS)}${'b'.repeat(5000)}`]);
    expect((await accessLine(gw, 'ca0-long-agent'))['userAgent']).toBe(`${'a'.repeat(MAX_LOGGED_HEADER_CHARS)}…`);
  });

  it('a prediction’s access line names them too', async () => {
    const answer = await send(gw, 'ca0-predict', ['user-agent: python-requests/2.32.3'], { method: 'POST', path: '/predict', body: JSON.stringify(LEGACY_PAYLOAD) });
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(await accessLine(gw, 'ca0-predict')).toMatchObject({ route: 'rest_predict', status: 200, rows: 1, client: PEER, userAgent: 'python-requests/2.32.3' });
  });

  it('a request node’s parser refuses before routing names its client, the socket’s peer (its headers were not read)', async () => {
    const line = await refusedLine(gw, ['user-agent: not-read/1.0', `x-forwarded-for: ${CLIENT}`]);
    expect(line).toMatchObject({ level: 'warn', code: 'HPE_INVALID_HEADER_TOKEN', status: 400, client: PEER });
    expect(line).not.toHaveProperty('proxy');
    expect(JSON.stringify(line)).not.toContain('not-read');
  });
});

describe('behind one trusted proxy (TRUSTED_PROXY_HOPS=1, as the task definition sets it behind the ALB)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    // A short request timeout: a stalled upload's "request timed out" line is checked below.
    gw = await startTestGateway({ TRUSTED_PROXY_HOPS: '1', REQUEST_TIMEOUT_MS: '1000' });
  });
  afterAll(() => gw.close());

  it('the client is the entry the proxy appended, the right-most', async () => {
    await send(gw, 'ca1-one', [`x-forwarded-for: ${CLIENT}`, 'user-agent: curl/8.5.0']);
    expect(await accessLine(gw, 'ca1-one')).toMatchObject({ client: CLIENT, userAgent: 'curl/8.5.0' });
  });

  it('entries the caller sent itself, left of it, are not believed', async () => {
    await send(gw, 'ca1-spoofed', [`x-forwarded-for: 10.0.0.1, ${EARLIER}, ${CLIENT}`]);
    const line = await accessLine(gw, 'ca1-spoofed');
    expect(line['client']).toBe(CLIENT);
    expect(JSON.stringify(line)).not.toContain(EARLIER);
  });

  it('several X-Forwarded-For headers are one list, in order, as node joins them', async () => {
    await send(gw, 'ca1-two-headers', [`x-forwarded-for: ${EARLIER}`, `x-forwarded-for: ${CLIENT}`]);
    expect((await accessLine(gw, 'ca1-two-headers'))['client']).toBe(CLIENT);
    await send(gw, 'ca1-two-headers-reversed', [`x-forwarded-for: ${CLIENT}`, `x-forwarded-for: ${EARLIER}`]);
    expect((await accessLine(gw, 'ca1-two-headers-reversed'))['client']).toBe(EARLIER);
  });

  it('without X-Forwarded-For (a request no proxy forwarded), the socket’s peer', async () => {
    await send(gw, 'ca1-direct', []);
    expect((await accessLine(gw, 'ca1-direct'))['client']).toBe(PEER);
  });

  it('the request’s other lines name the client too (a stalled upload’s "request timed out")', async () => {
    // A body announced and never sent: answered 408 after REQUEST_TIMEOUT_MS.
    const answer = await send(gw, 'ca1-stalled', [`x-forwarded-for: ${EARLIER}, ${CLIENT}`, 'content-type: application/json', 'content-length: 100'], { method: 'POST', path: '/predict' });
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect((await accessLine(gw, 'ca1-stalled'))['status']).toBe(408);
    expect(gw.logs.filter((l) => l['reqId'] === 'ca1-stalled').map((l) => [l['msg'], l['client']])).toEqual([
      ['request timed out', CLIENT],
      ['request', CLIENT],
    ]);
  });

  it('a request node’s parser refuses before routing names the proxy it came through, never as the client (its X-Forwarded-For was not read)', async () => {
    const line = await refusedLine(gw, [`x-forwarded-for: ${CLIENT}`]);
    expect(line).toMatchObject({ level: 'warn', code: 'HPE_INVALID_HEADER_TOKEN', status: 400, proxy: PEER });
    expect(line).not.toHaveProperty('client');
  });
});

describe('behind two trusted proxies (a CDN in front of the ALB: TRUSTED_PROXY_HOPS=2)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ TRUSTED_PROXY_HOPS: '2' });
  });
  afterAll(() => gw.close());

  it('the client is the second entry from the right; with only one entry (the ALB reached directly), that one; with none, the peer', async () => {
    await send(gw, 'ca2-spoofed', [`x-forwarded-for: 10.0.0.1, ${CLIENT}, ${EARLIER}`]);
    expect((await accessLine(gw, 'ca2-spoofed'))['client']).toBe(CLIENT);
    await send(gw, 'ca2-one', [`x-forwarded-for: ${CLIENT}`]);
    expect((await accessLine(gw, 'ca2-one'))['client']).toBe(CLIENT);
    await send(gw, 'ca2-none', []);
    expect((await accessLine(gw, 'ca2-none'))['client']).toBe(PEER);
  });
});

describe('clientAddress, on the forms a header can take', () => {
  it.each([
    ['no trusted proxy: the peer', `${EARLIER}, ${CLIENT}`, 0, PEER],
    ['no header: the peer', undefined, 1, PEER],
    ['an empty header: the peer', '', 1, PEER],
    ['only empty entries: the peer', ' , ,', 1, PEER],
    ['spaces and tabs around entries', ` ${EARLIER} ,\t${CLIENT}\t`, 1, CLIENT],
    ['empty entries are skipped', `${EARLIER},, ${CLIENT}, `, 2, EARLIER],
    ['IPv6', `${EARLIER}, 2001:db8::1`, 1, '2001:db8::1'],
    ['fewer entries than trusted hops: the left-most', `${EARLIER}, ${CLIENT}`, 5, EARLIER],
    ['an entry over the bound is cut, marked …', 'x'.repeat(500), 1, `${'x'.repeat(MAX_LOGGED_HEADER_CHARS)}…`],
    ['an entry of exactly the bound is kept whole, unmarked', 'x'.repeat(MAX_LOGGED_HEADER_CHARS), 1, 'x'.repeat(MAX_LOGGED_HEADER_CHARS)],
    // An empty entry at the very start: reading from the right must stop there (a caller's header).
    ['a leading comma alone: the peer', ',', 1, PEER],
    ['a leading empty entry, fewer entries than trusted hops: the left-most', `, ${CLIENT}`, 2, CLIENT],
  ])('%s', (_name, header, hops, expected) => {
    expect(clientAddress(header, PEER, hops)).toBe(expected);
  });

  it('null when the peer is wanted and the socket no longer knows it', () => {
    expect(clientAddress(undefined, undefined, 0)).toBeNull();
    expect(clientAddress(CLIENT, undefined, 1)).toBe(CLIENT);
  });
});

it('README states the bound a user agent is cut to', () => {
  const readme = readFileSync(`${REPO_ROOT}README.md`, 'utf8').replace(/\s+/g, ' ');
  expect(readme).toContain(`\`userAgent\` is the first ${MAX_LOGGED_HEADER_CHARS} characters of \`User-Agent\``);
});
