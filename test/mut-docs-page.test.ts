/**
 * /docs and /redoc beyond test/docs-page.test.ts, each found open by a mutation sweep (the
 * change could be made with every test passing): the page's CSP is the form's but for data:
 * images, also on its 405; a link with a query string still opens it; its access lines name
 * their route; Swagger UI's files are served when GraphiQL is turned off; without script it
 * links the OpenAPI document. In a browser: a link's ?url= cannot make it render another
 * document, and when Swagger UI's script does not load the page says so and where the
 * document is.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUi } from '../ui/src/build.js';
import { browserForSuite, launchBrowser, type TestBrowser, type TestPage } from './helpers/browser.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';

const unavailable = browserForSuite('docs page, mutation gaps (browser)', 'test/mut-docs-page.test.ts');
// 30 s by default: Swagger UI's ~1 MB script in chromium, on a machine loaded by the other test file, is slow to start.
const poll = <T>(read: () => Promise<T> | T, timeout = 30_000) => expect.poll(read, { timeout });

let uiDir: string;
let gateway: TestGateway;

beforeAll(async () => {
  // Its own build: test/ui.test.ts rebuilds ui/dist while this file may be running.
  uiDir = await mkdtemp(path.join(tmpdir(), 'mut-docs-page-'));
  await buildUi(uiDir);
  gateway = await startTestGateway({ UI_DIR: uiDir });
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  if (uiDir) await rm(uiDir, { recursive: true, force: true });
});

const get = (target: string, init: RequestInit = {}) => fetch(`${gateway.url}${target}`, { redirect: 'manual', ...init });

/** The CSP's directives, by name. */
const directives = (csp: string | null): Record<string, string> =>
  Object.fromEntries((csp ?? '').split(';').map((d): [string, string] => {
    const [name = '', ...sources] = d.trim().split(/\s+/);
    return [name, sources.join(' ')];
  }));

describe('/docs over HTTP', () => {
  it("has the form's Content-Security-Policy but for data: images (Swagger UI's icons), on the page and on its 405", async () => {
    const form = directives((await get('/ui')).headers.get('content-security-policy'));
    const page = await get('/docs');
    const docs = directives(page.headers.get('content-security-policy'));
    expect(docs).toEqual({ ...form, 'img-src': "'self' data:" });
    const refused = await get('/docs', { method: 'POST' });
    expect(refused.status).toBe(405);
    for (const name of ['content-security-policy', 'x-frame-options', 'x-content-type-options', 'referrer-policy', 'permissions-policy']) {
      expect(refused.headers.get(name), name).toBe(page.headers.get(name));
    }
  });

  it('is the same page with a query string (a shared or bookmarked link may carry one)', async () => {
    const html = await (await get('/docs')).text();
    for (const target of ['/docs?x=1', '/docs/?utm_source=mail']) {
      const res = await get(target);
      expect([res.status, await res.text()], target).toEqual([200, html]);
    }
  });

  it('names its route in the access log: docs for the page, redoc for the redirect', async () => {
    for (const [target, route] of [['/docs', 'docs'], ['/docs/', 'docs'], ['/redoc', 'redoc'], ['/docs/nothing', 'not_found']] as const) {
      const reqId = (await get(target)).headers.get('x-request-id');
      expect(reqId, target).toMatch(/\S/);
      await poll(() => gateway.logs.find((l) => l['msg'] === 'request' && l['reqId'] === reqId)?.['route']).toBe(route);
    }
  });

  it('links the OpenAPI document for a browser without script', async () => {
    const html = await (await get('/docs')).text();
    expect(/<noscript>([\s\S]*?)<\/noscript>/.exec(html)?.[1]).toContain('<a href="/openapi.json">/openapi.json</a>');
  });

  it("serves Swagger UI's files also where GraphiQL is turned off (GRAPHIQL_ENABLED=false)", async () => {
    const off = await startTestGateway({ UI_DIR: uiDir, GRAPHIQL_ENABLED: 'false' });
    try {
      const page = await fetch(`${off.url}/docs`);
      expect(page.status).toBe(200);
      const files = [...(await page.text()).matchAll(/(?:src|href)="(\/ui\/assets\/[^"]+)"/g)].map(([, file]) => file as string);
      expect(files.filter((f) => /\/(swagger-ui|docs-boot)\./.test(f))).toHaveLength(3);
      for (const file of files) {
        const asset = await fetch(`${off.url}${file}`);
        expect(asset.status, file).toBe(200);
        await asset.arrayBuffer();
      }
    } finally {
      await off.close();
    }
  });
});

describe.skipIf(unavailable !== null)('Swagger UI at /docs in a browser, beyond docs-page.test.ts', () => {
  let browser: TestBrowser;
  let tab: TestPage | null = null;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await tab?.close();
    await browser?.close();
  });

  async function open(): Promise<TestPage> {
    await tab?.close();
    tab = await browser.open(gateway.url);
    return tab;
  }

  const operations = (t: TestPage) => t.page.locator('.opblock-summary-path').evaluateAll((paths) => paths.map((p) => p.getAttribute('data-path')).sort());

  it('renders only this gateway\'s document: ?url= and ?configUrl= in a link are ignored', async () => {
    const t = await open();
    const requested: string[] = [];
    t.page.on('request', (r) => requested.push(new URL(r.url()).pathname));
    await t.page.goto(`${gateway.url}/docs?url=/elsewhere.json&configUrl=/config.json`);
    await poll(() => operations(t), 20_000).toContain('/predict');
    expect(requested).toContain('/openapi.json');
    expect(requested.filter((p) => p === '/elsewhere.json' || p === '/config.json')).toEqual([]);
    expect(t.consoleErrors).toEqual([]);
    // Rendered in the page's own element (what else the page holds stays), its list of schemas closed.
    expect(await t.page.locator('#swagger-ui .opblock').count()).toBeGreaterThan(0);
    expect(await t.page.locator('section.models').count()).toBe(1);
    expect(await t.page.locator('section.models.is-open').count()).toBe(0);
  });

  it('"Try it out" on POST /predict with the document\'s own example answers 200 and shows how long the request took', async () => {
    const t = await open();
    await t.page.goto(`${gateway.url}/docs`);
    const operation = t.page.locator('.opblock-post').filter({ has: t.page.locator('.opblock-summary-path[data-path="/predict"]') });
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.getByRole('button', { name: 'Execute' }).click();
    const live = operation.locator('.live-responses-table .response');
    await poll(() => live.count(), 20_000).toBeGreaterThan(0);
    expect(((await live.locator('.response-col_status').textContent()) ?? '').trim()).toBe('200');
    const duration = operation.locator('h5', { hasText: 'Request duration' }).locator('xpath=..');
    expect(await duration.textContent()).toMatch(/^Request duration\s*\d+ ms$/);
  });

  it("says why, and where the document is, when Swagger UI's script does not load or the page names no document", async () => {
    const t = await open();
    await t.page.route(/\/ui\/assets\/swagger-ui\.[0-9a-f]+\.js$/, (route) => route.abort());
    await t.page.goto(`${gateway.url}/docs`);
    const said = () => t.page.locator('#swagger-ui').textContent();
    await poll(said).toBe('Swagger UI could not start (its script did not load); the description of the REST routes is at /openapi.json.');
    await t.page.unroute(/\/ui\/assets\/swagger-ui\.[0-9a-f]+\.js$/);
    // The page's meta naming the document taken out.
    await t.page.route(`${gateway.url}/docs`, async (route) => {
      const res = await route.fetch();
      await route.fulfill({ response: res, body: (await res.text()).replace(/<meta name="gateway-openapi-url"[^>]*>/, '') });
    });
    await t.page.goto(`${gateway.url}/docs`);
    await poll(said).toBe('Swagger UI could not start (the page names no OpenAPI document); the description of the REST routes is at /openapi.json.');
  });
});
