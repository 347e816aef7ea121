/**
 * What a frontend team's web app meets calling the gateway from another origin, in a real
 * browser: a page served by a tiny server on its own port (origin A) whose script calls the
 * real gateway (origin B) with fetch, as Apollo, urql or plain fetch do. Chromium enforces
 * CORS: the script reads an answer only if the gateway's headers let it, and reads a header
 * only if it is safelisted or exposed. The fetch-with-an-Origin-header checks in
 * protocol-edges.test.ts cannot tell what a browser would refuse.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { print } from 'graphql';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NotReadyError } from '../src/errors.js';
import { PredictBatchDocument, PredictDocument } from '../src/generated/graphql.js';
import { browserForSuite, launchBrowser, type TestBrowser, type TestPage } from './helpers/browser.js';
import { GRAPHQL_CUSTOMER, LEGACY_PAYLOAD } from './helpers/customers.js';
import { metricValue, sessionOf, startTestGateway, waitFor, type TestGateway } from './helpers/gateway.js';

const unavailable = browserForSuite('cors (browser)', 'test/cors-browser.test.ts');

/** What the page's script could read of an answer, or the error its fetch rejected with. */
interface Seen {
  status?: number;
  body?: string;
  headers?: Record<string, string | null>;
  error?: string;
}

/** The headers a client is told to use (README): the request id to quote, when to retry, which methods a route takes. */
const READ = ['x-request-id', 'retry-after', 'allow', 'content-type'] as const;

const PREDICT = print(PredictDocument);
const PREDICT_BATCH = print(PredictBatchDocument);
const BODY_LIMIT_BYTES = 8192;

/** A page of origin A: an empty document whose script the test drives. */
async function originServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>frontend app</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

const closeServer = (server: Server | undefined) =>
  server &&
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

/** fetch(`base` + `path`, init) run by the page's script; what it could read. */
function call(t: TestPage, base: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string; credentials?: 'omit' | 'same-origin' | 'include' } = {}): Promise<Seen> {
  return t.page.evaluate(
    async ({ url, init, read }) => {
      try {
        const res = await fetch(url, init);
        const headers: Record<string, string | null> = {};
        for (const name of read) headers[name] = res.headers.get(name);
        return { status: res.status, body: await res.text(), headers };
      } catch (err) {
        return { error: String(err) };
      }
    },
    { url: `${base}${path}`, init, read: READ },
  );
}

describe.skipIf(unavailable !== null)('cors from another origin, in a browser', () => {
  let gw: TestGateway;
  let browser: TestBrowser;
  let app: { server: Server; origin: string };
  let stranger: { server: Server; origin: string };
  let tab: TestPage | null = null;

  beforeAll(async () => {
    [app, stranger] = await Promise.all([originServer(), originServer()]);
    [gw, browser] = await Promise.all([startTestGateway({ CORS_ORIGINS: app.origin, BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES) }), launchBrowser()]);
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await Promise.all([closeServer(app?.server), closeServer(stranger?.server)]);
  });

  afterEach(async () => {
    await tab?.close();
    tab = null;
  });

  /** A tab on `origin`'s page, its console errors recorded (Chromium reports a CORS refusal there). */
  async function pageOf(origin: string): Promise<TestPage> {
    tab = await browser.open(origin);
    await tab.page.goto(`${origin}/`);
    return tab;
  }

  const graphqlPost = (t: TestPage, body: unknown, headers: Record<string, string> = {}, base = gw.url) =>
    call(t, base, '/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  const json = (seen: Seen): unknown => JSON.parse(seen.body ?? 'null');

  it('answers predict and predictBatch (preflighted) to an allowed origin, whose script reads the body and x-request-id, compiled or not', async () => {
    const t = await pageOf(app.origin);
    // The second time a document is sent, it runs compiled (graphql-endpoint.ts): both paths.
    for (const round of [1, 2]) {
      const single = await graphqlPost(t, { query: PREDICT, variables: { customer: GRAPHQL_CUSTOMER } }, { 'x-request-id': `cors-predict-${round}` });
      expect(single).toMatchObject({ status: 200, headers: { 'x-request-id': `cors-predict-${round}` } });
      expect(json(single)).toMatchObject({ data: { predict: { riskLevel: expect.any(String), churnProbability: expect.any(Number) } } });
      const batch = await graphqlPost(t, { query: PREDICT_BATCH, variables: { customers: [GRAPHQL_CUSTOMER, { ...GRAPHQL_CUSTOMER, tenure: 60 }] } });
      expect(batch).toMatchObject({ status: 200, headers: { 'x-request-id': expect.stringMatching(/^[0-9a-f-]{36}$/) } });
      expect((json(batch) as { data: { predictBatch: unknown[] } }).data.predictBatch).toHaveLength(2);
    }
    expect(t.consoleErrors).toEqual([]);
  });

  it('answers REST POST /predict to an allowed origin, single and batch', async () => {
    const t = await pageOf(app.origin);
    const single = await call(t, gw.url, '/predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(LEGACY_PAYLOAD) });
    expect(single).toMatchObject({ status: 200, headers: { 'x-request-id': expect.any(String) } });
    expect(json(single)).toMatchObject({ churn_probability: expect.any(Number) });
    const batch = await call(t, gw.url, '/predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([LEGACY_PAYLOAD, LEGACY_PAYLOAD]) });
    expect([batch.status, (json(batch) as unknown[]).length]).toEqual([200, 2]);
    expect(t.consoleErrors).toEqual([]);
  });

  it('lets no script of an origin outside CORS_ORIGINS read an answer, and sends no preflighted request on its behalf', async () => {
    const t = await pageOf(stranger.origin);
    const preflighted = await graphqlPost(t, { query: PREDICT, variables: { customer: GRAPHQL_CUSTOMER } }, { 'x-request-id': 'cors-stranger' });
    expect(preflighted).toEqual({ error: 'TypeError: Failed to fetch' });
    // A GET needs no preflight: the gateway answers it, and the browser keeps the answer from the script.
    const simple = await call(t, gw.url, `/graphql?query=${encodeURIComponent('{ modelInfo { name } }')}`);
    expect(simple).toEqual({ error: 'TypeError: Failed to fetch' });
    const blocked = t.consoleErrors.filter((e) => e.includes(`from origin '${stranger.origin}' has been blocked by CORS policy`));
    expect(blocked).toEqual([
      expect.stringMatching(/Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present/),
      expect.stringMatching(/No 'Access-Control-Allow-Origin' header is present on the requested resource/),
    ]);
    // The mutation itself was never sent: the preflight stopped it.
    await new Promise((r) => setTimeout(r, 50)); // the access log is flushed every 10 ms
    expect(gw.logs.filter((l) => l['reqId'] === 'cors-stranger')).toEqual([]);
  });

  it("lets an allowed origin's script read every refusal: GraphQL BAD_USER_INPUT, REST 400 naming the field, 415, 413, 405 with Allow, 404, Yoga's own 400", async () => {
    const t = await pageOf(app.origin);
    const badInput = await graphqlPost(t, { query: PREDICT, variables: { customer: { ...GRAPHQL_CUSTOMER, tenure: -1 } } });
    expect(badInput).toMatchObject({ status: 400, headers: { 'x-request-id': expect.any(String) } });
    expect(json(badInput)).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT' } }] });

    const restBad = await call(t, gw.url, '/predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...LEGACY_PAYLOAD, tenure: -1 }) });
    expect(restBad).toMatchObject({ status: 400, headers: { 'content-type': 'application/problem+json; charset=utf-8', 'x-request-id': expect.any(String) } });
    expect(json(restBad)).toMatchObject({ errors: [{ path: 'tenure' }] });

    // text/plain: a simple request (no preflight), as a form-minded script might send.
    const unsupported = await call(t, gw.url, '/predict', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(LEGACY_PAYLOAD) });
    expect(unsupported).toMatchObject({ status: 415, headers: { 'x-request-id': expect.any(String) } });
    expect(json(unsupported)).toMatchObject({ detail: 'POST /predict takes content-type: application/json; got text/plain' });

    const tooLarge = await call(t, gw.url, '/predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(Array.from({ length: 40 }, () => LEGACY_PAYLOAD)) });
    expect(tooLarge).toMatchObject({ status: 413, headers: { 'x-request-id': expect.any(String) } });
    expect(json(tooLarge)).toMatchObject({ detail: expect.stringContaining(`the limit is ${BODY_LIMIT_BYTES} bytes (BODY_LIMIT_BYTES)`) });

    const wrongMethod = await call(t, gw.url, '/predict');
    expect(wrongMethod).toMatchObject({ status: 405, headers: { allow: 'POST', 'x-request-id': expect.any(String) } });

    const notFound = await call(t, gw.url, '/nowhere');
    expect(notFound).toMatchObject({ status: 404, headers: { 'x-request-id': expect.any(String) } });
    expect(json(notFound)).toMatchObject({ detail: expect.stringContaining('no route for GET /nowhere') });

    const yoga = await call(t, gw.url, `/graphql?query=${encodeURIComponent('{ modelInfo {')}`);
    expect(yoga).toMatchObject({ status: 400, headers: { 'x-request-id': expect.any(String) } });
    expect(json(yoga)).toMatchObject({ errors: [{ extensions: { code: 'GRAPHQL_PARSE_FAILED' } }] });
  });

  it('lets an allowed origin read Retry-After on a 503 MODEL_NOT_READY, by GraphQL and REST, to honour it', async () => {
    const t = await pageOf(app.origin);
    // The gateway listens before its first model is loaded: every model lookup answers MODEL_NOT_READY.
    Object.defineProperty(gw.slot, 'current', {
      configurable: true,
      get: () => {
        throw new NotReadyError();
      },
    });
    try {
      const graphql = await graphqlPost(t, { query: PREDICT, variables: { customer: GRAPHQL_CUSTOMER } });
      expect(graphql).toMatchObject({ status: 503, headers: { 'retry-after': '1', 'x-request-id': expect.any(String) } });
      expect(json(graphql)).toMatchObject({ errors: [{ message: 'the gateway is still starting: its model is not loaded yet; repeat the request in a few seconds', extensions: { code: 'MODEL_NOT_READY' } }] });
      const rest = await call(t, gw.url, '/predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(LEGACY_PAYLOAD) });
      expect(rest).toMatchObject({ status: 503, headers: { 'retry-after': '1', 'x-request-id': expect.any(String) } });
      expect(json(rest)).toMatchObject({ detail: 'MODEL_NOT_READY: the gateway is still starting: its model is not loaded yet; repeat the request in a few seconds' });
    } finally {
      Reflect.deleteProperty(gw.slot, 'current');
    }
  });

  it('takes the request headers GraphQL clients and browser tracing add (Apollo client awareness, traceparent)', async () => {
    const t = await pageOf(app.origin);
    const headers = {
      'apollographql-client-name': 'retention-web',
      'apollographql-client-version': '2.4.1',
      'apollo-require-preflight': 'true',
      'x-apollo-operation-name': 'Predict',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    };
    const seen = await graphqlPost(t, { query: PREDICT, variables: { customer: GRAPHQL_CUSTOMER } }, headers);
    expect(seen).toMatchObject({ status: 200 });
    expect(t.consoleErrors).toEqual([]);
  });

  it('answers with no Access-Control-Allow-Credentials: a script that sends credentials (cookies) is refused, one that does not is answered', async () => {
    const t = await pageOf(app.origin);
    const request = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: PREDICT, variables: { customer: GRAPHQL_CUSTOMER } }) };
    expect(await call(t, gw.url, '/graphql', request)).toMatchObject({ status: 200 });
    const withCookies = await call(t, gw.url, '/graphql', { ...request, credentials: 'include' });
    expect(withCookies).toEqual({ error: 'TypeError: Failed to fetch' });
    expect(t.consoleErrors).toContainEqual(expect.stringMatching(/The value of the 'Access-Control-Allow-Credentials' header in the response is '' which must be 'true' when the request's credentials mode is 'include'/));
  });
});

describe.skipIf(unavailable !== null)('cors on timed-out requests, in a browser', () => {
  let gw: TestGateway;
  let browser: TestBrowser;
  let app: { server: Server; origin: string };
  let tab: TestPage | null = null;
  const TIMEOUT_MS = 1000;

  beforeAll(async () => {
    app = await originServer();
    [gw, browser] = await Promise.all([startTestGateway({ CORS_ORIGINS: app.origin, REQUEST_TIMEOUT_MS: String(TIMEOUT_MS), HEADERS_TIMEOUT_MS: String(TIMEOUT_MS) }), launchBrowser()]);
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await closeServer(app?.server);
  });

  afterEach(async () => {
    await tab?.close();
    tab = null;
  });

  const read = (t: TestPage, url: string, body: string) =>
    t.page.evaluate(
      async ({ url, body }) => {
        try {
          const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          return { status: res.status, body: await res.text(), requestId: res.headers.get('x-request-id') };
        } catch (err) {
          return { error: String(err) };
        }
      },
      { url, body },
    );

  it('lets an allowed origin read the 503 REQUEST_TIMEOUT a slow model gets', async () => {
    // The model takes longer than the gateway waits for it.
    const session = sessionOf(gw);
    const run = session.run.bind(session);
    session.run = (...args) => new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS + 500)).then(() => run(...args));
    try {
      tab = await browser.open(app.origin);
      await tab.page.goto(`${app.origin}/`);
      for (const [path, body] of [
        ['/predict', JSON.stringify(LEGACY_PAYLOAD)],
        ['/graphql', JSON.stringify({ query: PREDICT, variables: { customer: GRAPHQL_CUSTOMER } })],
      ] as const) {
        const seen = await read(tab, `${gw.url}${path}`, body);
        expect(seen, path).toMatchObject({ status: 503, requestId: expect.any(String) });
        expect(JSON.parse(seen.body ?? 'null'), path).toMatchObject({ detail: `REQUEST_TIMEOUT: no answer within ${TIMEOUT_MS} ms` });
      }
    } finally {
      session.run = run;
    }
  });

  it('lets an allowed origin read the 408 when its upload is too slow to arrive (a slow link in between)', async () => {
    // The browser calls the gateway through a link that passes the headers at once and the body
    // only after the gateway has given up on it; the gateway's answer comes straight back.
    const link = createServer((req, res) => {
      const upstream = httpRequest(`${gw.url}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      upstream.flushHeaders();
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => setTimeout(() => upstream.end(Buffer.concat(chunks)), TIMEOUT_MS + 1000));
    });
    await new Promise<void>((resolve) => link.listen(0, '127.0.0.1', resolve));
    const linkUrl = `http://127.0.0.1:${(link.address() as { port: number }).port}`;
    try {
      tab = await browser.open(app.origin);
      await tab.page.goto(`${app.origin}/`);
      for (const path of ['/predict', '/graphql']) {
        const seen = await read(tab, `${linkUrl}${path}`, JSON.stringify({ query: PREDICT, variables: { customer: GRAPHQL_CUSTOMER } }));
        expect(seen, path).toMatchObject({ status: 408, requestId: expect.any(String) });
        expect(JSON.parse(seen.body ?? 'null'), path).toMatchObject({ detail: expect.stringMatching(/^REQUEST_TIMEOUT: the request body did not arrive in full/) });
      }
    } finally {
      await closeServer(link);
    }
  });
});

describe.skipIf(unavailable !== null)('cors on connections past MAX_CONNECTIONS, in a browser', () => {
  let gw: TestGateway;
  let browser: TestBrowser;
  let app: { server: Server; origin: string };
  let stranger: { server: Server; origin: string };
  let tab: TestPage | null = null;
  /** The one connection MAX_CONNECTIONS=1 allows, held open: every connection the browser opens is past the cap. */
  let held: Socket;

  beforeAll(async () => {
    [app, stranger] = await Promise.all([originServer(), originServer()]);
    [gw, browser] = await Promise.all([startTestGateway({ CORS_ORIGINS: app.origin, MAX_CONNECTIONS: '1', OPS_PORT: '0' }), launchBrowser()]);
    held = connect(Number(new URL(gw.url).port), '127.0.0.1');
    held.on('error', () => undefined);
    await waitFor('the held connection counted', async () => (await metricValue(gw.opsUrl as string, 'gateway_connections_open')) === 1);
  });

  afterAll(async () => {
    held?.destroy();
    await browser?.close();
    await gw?.close();
    await Promise.all([closeServer(app?.server), closeServer(stranger?.server)]);
  });

  afterEach(async () => {
    await tab?.close();
    tab = null;
  });

  it("lets an allowed origin's script read the 503 OVERLOADED and its Retry-After, preflighted (GraphQL, REST) or not", async () => {
    tab = await browser.open(app.origin);
    await tab.page.goto(`${app.origin}/`);
    const json = { 'content-type': 'application/json' };
    const calls = [
      ['graphql POST', '/graphql', { method: 'POST', headers: { ...json, 'x-request-id': 'over-cap-graphql' }, body: JSON.stringify({ query: PREDICT, variables: { customer: GRAPHQL_CUSTOMER } }) }],
      ['rest POST', '/predict', { method: 'POST', headers: { ...json, 'x-request-id': 'over-cap-rest' }, body: JSON.stringify(LEGACY_PAYLOAD) }],
      ['graphql GET', `/graphql?query=${encodeURIComponent('{ modelInfo { name } }')}`, {}],
    ] as const;
    for (const [what, path, init] of calls) {
      const seen = await call(tab, gw.url, path, init);
      expect(seen, what).toMatchObject({ status: 503, headers: { 'retry-after': '1', 'x-request-id': expect.any(String), 'content-type': 'application/problem+json; charset=utf-8' } });
      expect(JSON.parse(seen.body ?? 'null'), what).toMatchObject({ detail: 'OVERLOADED: the gateway has MAX_CONNECTIONS (1) connections open; retry shortly' });
    }
    expect(tab.consoleErrors.filter((e) => e.includes('CORS policy'))).toEqual([]);
    // The preflights were answered, each on a connection past the cap that then closed; the requests after them refused.
    await new Promise((r) => setTimeout(r, 50)); // the access log is flushed every 10 ms
    const preflights = gw.logs.filter((l) => l['method'] === 'OPTIONS' && l['msg'] === 'request');
    expect(preflights.map((l) => l['status'])).toEqual([204, 204]);
    expect(gw.logs.filter((l) => l['msg'] === 'request refused before routing').map((l) => l['reqId'])).toEqual(expect.arrayContaining(['over-cap-graphql', 'over-cap-rest']));
  });

  it('refuses the preflight of an origin outside CORS_ORIGINS past the cap, as any request there', async () => {
    const answer = await fetch(`${gw.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: stranger.origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(answer.status).toBe(503);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    expect(answer.headers.get('connection')).toBe('close');
  });
});
