/**
 * /docs: Swagger UI over the gateway's own GET /openapi.json, as the prototype's (FastAPI's)
 * REST callers had it bookmarked, and /redoc sent there. Over HTTP: the page, its headers
 * (a CSP with no inline script), its links to the form and GraphiQL (GraphiQL only when it is
 * served) and the form's to it, conditional GETs, HEAD, 405 and 404 under /docs/, 503 without
 * a UI build. In a real browser against the real gateway, with no network beyond it: every
 * operation of the document is shown, nothing is requested from another origin, no console
 * error or CSP violation is raised, and "Try it out" on POST /predict with the README's
 * example body shows the 200 answer, and with a bad body the 400 problem naming the field.
 * And installing swagger-ui-dist sends nothing anywhere: its dependency @scarf/scarf reports
 * every install (machine, Node, hashed package names) unless the root package.json says no.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UNAVAILABLE_DETAIL } from '../src/ui/route.js';
import { buildUi } from '../ui/src/build.js';
import { browserForSuite, launchBrowser, type TestBrowser, type TestPage } from './helpers/browser.js';
import { REPO_ROOT, startTestGateway, type TestGateway } from './helpers/gateway.js';

type Page = TestPage['page'];

const unavailable = browserForSuite('docs page (browser)', 'test/docs-page.test.ts');
const poll = <T>(read: () => Promise<T> | T, timeout = 10_000) => expect.poll(read, { timeout });

/** The body of the README's REST example (`curl … localhost:8000/predict … -d '…'`), as written there. */
const README_BODY = ((): string => {
  const found = /curl -s localhost:8000\/predict [^\n]*-d '([^']*)'/.exec(readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8'));
  if (!found?.[1]) throw new Error("README.md has no REST example (curl -s localhost:8000/predict … -d '…')");
  return found[1];
})();

let uiDir: string;
let gateway: TestGateway;

beforeAll(async () => {
  // Its own build: test/ui.test.ts rebuilds ui/dist while this file may be running.
  uiDir = await mkdtemp(path.join(tmpdir(), 'docs-page-'));
  await buildUi(uiDir);
  gateway = await startTestGateway({ UI_DIR: uiDir });
});

afterAll(async () => {
  await gateway?.close();
  if (uiDir) await rm(uiDir, { recursive: true, force: true });
});

const get = (target: string, init: RequestInit = {}) => fetch(`${gateway.url}${target}`, { redirect: 'manual', ...init });

/** The CSP's directives, by name. */
const directives = (csp: string | null) => new Map((csp ?? '').split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...sources]) => [name, sources.join(' ')]));

describe('GET /docs over HTTP', () => {
  it('serves a page that loads Swagger UI and its start-up from this origin, under a CSP allowing no inline or foreign script', async () => {
    const res = await get('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map(([, attributes]) => /\bsrc="(\/ui\/assets\/[^"]+)"/.exec(attributes as string)?.[1])).toEqual([
      expect.stringMatching(/^\/ui\/assets\/swagger-ui\.[0-9a-f]{12}\.js$/),
      expect.stringMatching(/^\/ui\/assets\/docs-boot\.[0-9a-f]{12}\.js$/),
    ]);
    expect(scripts.map(([, , body]) => body)).toEqual(['', '']);
    expect(html).toMatch(/<link rel="stylesheet" href="\/ui\/assets\/swagger-ui\.[0-9a-f]{12}\.css">/);
    expect(html).toContain('<meta name="gateway-openapi-url" content="/openapi.json">');
    const csp = directives(res.headers.get('content-security-policy'));
    expect(csp.get('script-src')).toBe("'self'");
    expect(csp.get('style-src')).toBe("'self'");
    expect(csp.get('connect-src')).toBe("'self'");
    expect(csp.get('default-src')).toBe("'self'");
    expect(csp.get('frame-ancestors')).toBe("'none'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-request-id')).toMatch(/\S/);
    // Every file it links is served and cacheable for good; Swagger UI's own (1.7 MB of script) compressed.
    for (const [, file] of html.matchAll(/(?:src|href)="(\/ui\/assets\/[^"]+)"/g)) {
      const asset = await get(file as string, { headers: { 'accept-encoding': 'br' } });
      expect(asset.status, file).toBe(200);
      expect(asset.headers.get('cache-control'), file).toBe('public, max-age=31536000, immutable');
      if (/\/swagger-ui\./.test(file as string)) expect(asset.headers.get('content-encoding'), file).toBe('br');
      await asset.arrayBuffer();
    }
  });

  it('answers /docs/ the same, HEAD with the headers only, and If-None-Match with 304', async () => {
    const page = await get('/docs');
    const html = await page.text();
    const etag = page.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    const slashed = await get('/docs/');
    expect([slashed.status, await slashed.text()]).toEqual([200, html]);
    const head = await get('/docs', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(html)));
    expect(head.headers.get('etag')).toBe(etag);
    expect(await head.text()).toBe('');
    const again = await get('/docs', { headers: { 'if-none-match': `W/${etag}` } });
    expect(again.status).toBe(304);
    expect(again.headers.get('content-security-policy')).toBe(page.headers.get('content-security-policy'));
  });

  it('refuses other methods with 405 naming GET and HEAD, and anything under /docs/ is a 404 that names /docs', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await get('/docs', { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow'), method).toBe('GET, HEAD');
      expect(((await res.json()) as { detail: string }).detail).toBe('/docs answers GET and HEAD only');
    }
    for (const target of ['/docs/oauth2-redirect.html', '/docs/swagger-ui.css', '/docs//', '/docsx', '/nowhere']) {
      const res = await get(target);
      expect(res.status, target).toBe(404);
      expect(((await res.json()) as { detail: string }).detail, target).toBe(`no route for GET ${target}; see GET /, POST /predict, /graphql, /ui, /docs, GET /openapi.json`);
    }
  });

  it('links the form, and GraphiQL only where this gateway serves it (GRAPHIQL_ENABLED), as the form\'s own links do', async () => {
    /** The page's "Gateway tools" links, as `text href`. */
    const links = (html: string) => [...(/<nav aria-label="Gateway tools">(.*?)<\/nav>/.exec(html)?.[1] ?? '').matchAll(/<a href="([^"]+)"[^>]*>([^<]+)<\/a>/g)].map(([, href, text]) => `${text} ${href}`);
    expect(links(await (await get('/docs')).text())).toEqual(['Prediction form /ui', 'Score a file /ui/batch', 'GraphiQL /ui/graphiql']);
    expect(links(await (await get('/ui')).text())).toEqual(['Predict /ui', 'Score a file /ui/batch', 'GraphiQL /ui/graphiql', 'REST API /docs']);
    const off = await startTestGateway({ UI_DIR: uiDir, GRAPHIQL_ENABLED: 'false' });
    try {
      expect((await fetch(`${off.url}/ui/graphiql`)).status).toBe(404);
      expect(links(await (await fetch(`${off.url}/docs`)).text())).toEqual(['Prediction form /ui', 'Score a file /ui/batch']);
      expect(links(await (await fetch(`${off.url}/ui`)).text())).toEqual(['Predict /ui', 'Score a file /ui/batch', 'REST API /docs']);
    } finally {
      await off.close();
    }
  });

  // /redoc: FastAPI's other documentation page; /graphiql: where many GraphQL servers serve GraphiQL.
  it.each([
    ['/redoc', '/docs'],
    ['/graphiql', '/ui/graphiql'],
  ])('sends %s to %s, for GET and HEAD only', async (from, to) => {
    for (const [target, method] of [[from, 'GET'], [`${from}/`, 'GET'], [`${from}?x=1`, 'HEAD']] as const) {
      const res = await get(target, { method });
      expect(res.status, target).toBe(302);
      expect(res.headers.get('location'), target).toBe(to);
    }
    const post = await get(from, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await get(`${from}/x`)).status).toBe(404);
  });

  it('answers 503 saying the UI is not available when the server has no build, instead of an empty page, and names no folder', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'docs-unbuilt-'));
    const unbuilt = await startTestGateway({ UI_DIR: empty });
    try {
      const res = await fetch(`${unbuilt.url}/docs`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { detail: string }).detail).toBe(UNAVAILABLE_DETAIL);
    } finally {
      await unbuilt.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});

/** The "Gateway tools" links of a page's HTML, as `text href`. */
const toolLinks = (html: string) => [...(/<nav aria-label="Gateway tools">(.*?)<\/nav>/.exec(html)?.[1] ?? '').matchAll(/<a href="([^"]+)"[^>]*>([^<]+)<\/a>/g)].map(([, href, text]) => `${text} ${href}`);

/** A problem's status, content type and detail. */
const problemOf = async (res: Response) => [res.status, res.headers.get('content-type'), ((await res.json()) as { detail: string }).detail];

describe('DOCS_ENABLED=false', () => {
  let off: TestGateway;
  const getOff = (target: string, init: RequestInit = {}) => fetch(`${off.url}${target}`, { redirect: 'manual', ...init });

  beforeAll(async () => {
    off = await startTestGateway({ UI_DIR: uiDir, DOCS_ENABLED: 'false' });
  });

  afterAll(async () => {
    await off?.close();
  });

  it("answers /docs and /redoc with the 404 any unknown path gets, as /ui/graphiql with GRAPHIQL_ENABLED=false, naming no /docs", async () => {
    const see = 'see GET /, POST /predict, /graphql, /ui, GET /openapi.json';
    for (const [target, method] of [['/docs', 'GET'], ['/docs/', 'GET'], ['/docs?x=1', 'GET'], ['/docs', 'HEAD'], ['/docs', 'POST'], ['/redoc', 'GET'], ['/redoc/', 'GET'], ['/nowhere', 'GET']] as const) {
      const res = await getOff(target, { method });
      if (method === 'HEAD') {
        expect([res.status, res.headers.get('location')], target).toEqual([404, null]);
        continue;
      }
      expect(await problemOf(res), `${method} ${target}`).toEqual([404, 'application/problem+json; charset=utf-8', `no route for ${method} ${target.split('?')[0]}; ${see}`]);
    }
    // GraphiQL switched off answers the same way.
    const noGraphiql = await startTestGateway({ UI_DIR: uiDir, GRAPHIQL_ENABLED: 'false' });
    try {
      expect(await problemOf(await fetch(`${noGraphiql.url}/ui/graphiql`))).toEqual([404, 'application/problem+json; charset=utf-8', 'no route for GET /ui/graphiql; see GET /, POST /predict, /graphql, /ui, /docs, GET /openapi.json']);
      // Nor is /graphiql sent to a page that is not there.
      expect(await problemOf(await fetch(`${noGraphiql.url}/graphiql`, { redirect: 'manual' }))).toEqual([404, 'application/problem+json; charset=utf-8', 'no route for GET /graphiql; see GET /, POST /predict, /graphql, /ui, /docs, GET /openapi.json']);
    } finally {
      await noGraphiql.close();
    }
  });

  it('still serves GET /openapi.json, the same document but for the page it no longer links, for REST callers and client generators', async () => {
    const res = await getOff('/openapi.json');
    expect(res.status).toBe(200);
    const whenOn = (await (await get('/openapi.json')).json()) as { info: { description: string } };
    const whenOff = (await res.json()) as typeof whenOn;
    expect(whenOn.info.description).toContain('[/docs](/docs)');
    expect(whenOff.info.description).not.toContain('/docs');
    expect({ ...whenOff, info: { ...whenOff.info, description: '' } }).toEqual({ ...whenOn, info: { ...whenOn.info, description: '' } });
  });

  it("the form no longer links 'REST API', and Swagger UI's files are not served while the form's and GraphiQL's are", async () => {
    expect(toolLinks(await (await getOff('/ui')).text())).toEqual(['Predict /ui', 'Score a file /ui/batch', 'GraphiQL /ui/graphiql']);
    const filesOf = async (url: string) => [...(await (await fetch(url)).text()).matchAll(/(?:src|href)="(\/ui\/assets\/[^"]+)"/g)].map(([, file]) => file as string);
    const formFiles = await filesOf(`${gateway.url}/ui`);
    const docsOnly = (await filesOf(`${gateway.url}/docs`)).filter((file) => !formFiles.includes(file));
    expect(docsOnly).toHaveLength(3);
    for (const file of docsOnly) expect((await getOff(file)).status, file).toBe(404);
    for (const file of [...formFiles, ...(await filesOf(`${off.url}/ui/graphiql`))]) expect((await getOff(file)).status, file).toBe(200);
  });
});

describe.skipIf(unavailable !== null)("GraphiQL's top bar in a browser", () => {
  let browser: TestBrowser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** The names of the links in GraphiQL's "Gateway tools" bar that a reader can see (or a screen reader read) on `origin`. */
  async function graphiqlLinks(origin: string): Promise<string[]> {
    const tab = await browser.open(origin);
    try {
      await tab.page.goto(`${origin}/ui/graphiql`);
      const nav = tab.page.getByRole('navigation', { name: 'Gateway tools' });
      await poll(() => nav.getByRole('link', { name: 'Prediction form' }).count(), 20_000).toBe(1);
      const links = await nav.getByRole('link').all();
      const shown: string[] = [];
      for (const link of links) if (await link.isVisible()) shown.push((await link.textContent()) ?? '');
      expect(tab.consoleErrors).toEqual([]);
      return shown;
    } finally {
      await tab.close();
    }
  }

  it("links 'REST API' only where /docs is served (DOCS_ENABLED), though the link is built into GraphiQL's bundle", async () => {
    expect(await graphiqlLinks(gateway.url)).toEqual(['Prediction form', 'Score a file', 'REST API']);
    const off = await startTestGateway({ UI_DIR: uiDir, DOCS_ENABLED: 'false' });
    try {
      expect(await graphiqlLinks(off.url)).toEqual(['Prediction form', 'Score a file']);
    } finally {
      await off.close();
    }
  });
});

describe.skipIf(unavailable !== null)('Swagger UI at /docs in a browser', () => {
  let browser: TestBrowser;
  let tab: TestPage | null = null;
  /** Every request the page made, as `METHOD url`. */
  let requests: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  afterEach(async () => {
    if (!tab) return;
    const { foreignRequests, consoleErrors, page } = tab;
    const violations = await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
    await tab.close();
    tab = null;
    expect(requests.filter((r) => !r.startsWith(`GET ${gateway.url}/`) && !r.startsWith(`POST ${gateway.url}/predict`)), 'requests other than GETs of the gateway and POST /predict').toEqual([]);
    expect(foreignRequests, 'requests to hosts other than the gateway').toEqual([]);
    expect(violations, 'CSP violations').toEqual([]);
    // The browser reports the 400 "Try it out" is expected to get as a failed resource.
    expect(consoleErrors.filter((e) => !/status of 400 \(Bad Request\)/.test(e)), 'console errors').toEqual([]);
  });

  async function docs(): Promise<Page> {
    tab = await browser.open(gateway.url);
    const { page } = tab;
    requests = [];
    page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { cspViolations: string[] }).cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    await page.goto(`${gateway.url}/docs`);
    await poll(() => page.locator('.opblock').count(), 20_000).toBeGreaterThan(0);
    return page;
  }

  it('shows the title and every operation of GET /openapi.json, fetched from this origin', async () => {
    const page = await docs();
    const document = (await (await get('/openapi.json')).json()) as { info: { title: string }; paths: Record<string, Record<string, unknown>> };
    const expected = Object.entries(document.paths).flatMap(([route, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${route}`));
    expect(expected).toContain('POST /predict');
    const shown = async () =>
      (await page.locator('.opblock-summary').evaluateAll((blocks) => blocks.map((b) => `${b.querySelector('.opblock-summary-method')?.textContent} ${b.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`))).sort();
    await poll(shown).toEqual([...expected].sort());
    expect(await page.locator('.info .title').textContent()).toContain(document.info.title);
    expect(await page.title()).toBe('Churn gateway · REST API (Swagger UI)');
    expect(requests).toContain(`GET ${gateway.url}/openapi.json`);
  });

  /** Opens POST /predict, turns on "Try it out", sends `body`, and returns the status and body Swagger UI shows. */
  async function tryPredict(page: Page, body: string): Promise<{ status: string; shown: string }> {
    const operation = page.locator('#operations-predictions-predict');
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    const editor = operation.locator('textarea.body-param__text');
    await editor.fill(body);
    await operation.getByRole('button', { name: 'Execute' }).click();
    const live = operation.locator('.live-responses-table .response');
    await poll(() => live.count(), 20_000).toBeGreaterThan(0);
    return { status: ((await live.locator('.response-col_status').textContent()) ?? '').trim(), shown: (await live.locator('.response-col_description').textContent()) ?? '' };
  }

  it('"Try it out" sends the README\'s example body to this gateway\'s POST /predict and shows the 200 answer', async () => {
    const page = await docs();
    const { status, shown } = await tryPredict(page, README_BODY);
    expect(status).toBe('200');
    expect(shown).toMatch(/"prediction":\s*"Likely to churn"/);
    expect(shown).toMatch(/"churn_probability":\s*0\.\d+/);
    expect(shown).toMatch(/"defaults_applied":\s*\{\s*"SeniorCitizen":\s*0\s*\}/);
    expect(requests.filter((r) => r.startsWith('POST '))).toEqual([`POST ${gateway.url}/predict`]);
  });

  it('"Try it out" with a bad body shows the 400 problem naming the field and what is allowed', async () => {
    const page = await docs();
    const bad = JSON.stringify({ ...(JSON.parse(README_BODY) as object), tenure: -5 });
    const { status, shown } = await tryPredict(page, bad);
    expect(status).toBe('400');
    expect(shown).toMatch(/"status":\s*400/);
    expect(shown).toMatch(/"path":\s*"tenure"/);
    expect(shown).not.toMatch(/"status":\s*5\d\d/);
  });
});

describe('installing swagger-ui-dist', () => {
  it("sends no install statistics: @scarf/scarf's install script, run as npm runs it in this repository, finds itself disabled", async () => {
    // A stand-in for scarf.sh (the script's own SCARF_LOCAL_PORT), recording what reaches it.
    const received: string[] = [];
    const server = createServer((req, res) => {
      received.push(`${req.method} ${req.url}`);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    let bin: string | undefined;
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, INIT_CWD: REPO_ROOT, SCARF_LOCAL_PORT: String((server.address() as AddressInfo).port), SCARF_VERBOSE: 'true' };
      // Only the repository's own setting counts here, not a developer's environment.
      for (const name of ['SCARF_ANALYTICS', 'SCARF_NO_ANALYTICS', 'DO_NOT_TRACK', 'npm_config_global']) delete env[name];
      // The script reads the dependency chain and its settings from `npm ls @scarf/scarf --json --long`,
      // which it gives 3 s (report.js's execTimeout). On a loaded machine npm took longer, and the
      // script ended on "Scarf received an error from npm -ls", having read no setting. So that npm ls
      // runs here first, with no such limit, and the script reads its very output from a stand-in
      // `npm` first on its PATH (which hands any other command to the real npm).
      const npmLs = spawnSync('npm', ['ls', '@scarf/scarf', '--json', '--long'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
      expect(npmLs.stdout, npmLs.stderr).toContain('"@scarf/scarf"');
      bin = await mkdtemp(path.join(tmpdir(), 'scarf-npm-'));
      await writeFile(path.join(bin, 'npm-ls.json'), npmLs.stdout);
      const standIn = [
        '#!/bin/sh',
        `if [ "$*" = "ls @scarf/scarf --json --long" ]; then exec cat '${bin}/npm-ls.json'; fi`,
        `PATH='${process.env['PATH'] ?? ''}' exec npm "$@"`,
      ].join('\n');
      await writeFile(path.join(bin, 'npm'), `${standIn}\n`);
      await chmod(path.join(bin, 'npm'), 0o755);
      env['PATH'] = `${bin}:${process.env['PATH'] ?? ''}`;
      const script = path.join(REPO_ROOT, 'node_modules/@scarf/scarf');
      const output = await new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['report.js'], { cwd: script, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let text = '';
        child.stdout.on('data', (d: Buffer) => (text += d.toString()));
        child.stderr.on('data', (d: Buffer) => (text += d.toString()));
        child.once('error', reject);
        // 'close', not 'exit': at 'exit' the child's output may not all have been read yet (Node's
        // docs), and the line checked below is its last.
        child.once('close', () => resolve(text));
      });
      expect(received, output).toEqual([]);
      expect(output).toContain('Scarf has been disabled via a package.json in the dependency chain');
    } finally {
      server.close();
      if (bin) await rm(bin, { recursive: true, force: true });
    }
  }, 60_000);
});
