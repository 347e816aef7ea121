/**
 * The /ui route: the prediction form at /ui, the file page at /ui/batch, GraphiQL at /ui/graphiql (only while
 * GRAPHIQL_ENABLED, and /graphiql sent there), and their static files at /ui/assets/<content-hashed name>. Each page
 * is served the same with a trailing slash (/ui/, /ui/graphiql/): the pages link only
 * absolute paths, so they work from either URL.
 * Also /docs: Swagger UI over GET /openapi.json (the prototype, FastAPI, served it there), its
 * files among the same assets; and /redoc, FastAPI's other documentation page, sent to /docs.
 * Built from ui/dist (`npm run build:ui`); without a build, or with one stopped halfway, /ui and /docs
 * answer 503 saying the UI is not available, and the start-up warning names the folder, the reason
 * and the fix.
 * With DOCS_ENABLED=false, /docs, /redoc and Swagger UI's files are not routes at all (404), and
 * no page links /docs; GET /openapi.json is served either way.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { BUILT_UI_DIR, type Config } from '../config.js';
import { describeError } from '../errors.js';
import { HttpProblem } from '../http.js';
import type { Logger } from '../logger.js';
import type { RequestState } from '../request-state.js';
import { OPENAPI_PATH } from '../rest/openapi.js';
import { ifNoneMatchHits } from './etag.js';
import { ASSET_PREFIX } from './manifest.js';
import { BATCH_PATH, DOCS_ASSETS, renderAppPage, renderBatchPage, renderDocsPage, renderGraphiqlPage } from './pages.js';
import { APP_CSP, DOCS_CSP, GRAPHIQL_CSP, setSecurityHeaders } from './security-headers.js';
import { IncompleteUiBuildError, StaticAssets, loadManifest } from './static-assets.js';

export interface UiRoute {
  readonly prefix: '/ui' | '/docs' | '/redoc' | '/graphiql';
  handle(req: IncomingMessage, res: ServerResponse, state: RequestState): Promise<boolean> | boolean;
}

interface Page {
  readonly html: Buffer;
  readonly etag: string;
  readonly csp: string;
}

const page = (html: string, csp: string): Page => ({
  html: Buffer.from(html),
  etag: `"${createHash('sha256').update(html).digest('base64url').slice(0, 22)}"`,
  csp,
});

function sendPage(req: IncomingMessage, res: ServerResponse, p: Page): void {
  setSecurityHeaders(res, p.csp);
  // Pages are tiny and name the current asset hashes: always revalidate them.
  const headers = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', etag: p.etag };
  if (ifNoneMatchHits(req.headers['if-none-match'], p.etag)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': p.html.length });
  res.end(req.method === 'HEAD' ? undefined : p.html);
}

/** GET and HEAD only: anything else is a 405 naming them. */
function getOrHead(req: IncomingMessage, res: ServerResponse, urlPath: string): void {
  if (req.method === 'GET' || req.method === 'HEAD') return;
  res.setHeader('allow', 'GET, HEAD');
  throw new HttpProblem(405, 'Method Not Allowed', `${urlPath} answers GET and HEAD only`);
}

/** The start-up warning's message when the build cannot be served, before the reason (UNAVAILABLE_LOG). */
const UNAVAILABLE_WARNING = '/ui is unavailable';

/**
 * What /ui, /docs and their pages answer then (503): no UI_DIR path and no build command, which
 * are the server's own business (the caller is anyone); the operator's start-up warning has both.
 */
export const UNAVAILABLE_DETAIL = `the UI is not available on this deployment; its operators find why in the gateway's start-up warning "${UNAVAILABLE_WARNING}"`;

/** Why a build could not be served, as the start-up warning says it. */
const UNAVAILABLE_LOG = {
  missing: 'no UI build',
  // A file the manifest lists is missing: a build was stopped halfway.
  incomplete: 'the UI build is incomplete',
  unusable: 'the UI build is not usable',
  // UI_DIR names a file: building into it, as the other hints say, would fail too.
  notFolder: 'UI_DIR is not a folder',
} as const;

/**
 * How to get a build where UI_DIR (resolved) looks: `npm run build:ui` writes ui/dist, so for
 * another folder the hint said to run a command that left that folder as empty as before; the
 * build takes the folder as its argument (ui/src/build.ts).
 */
function buildHint(uiDir: string): string {
  return uiDir === path.resolve(BUILT_UI_DIR) ? 'run npm run build:ui' : `run npm run build:ui -- ${uiDir}, or set UI_DIR to a built UI`;
}

/** /ui, /docs and /redoc: one build, read once, their files served from one place (/ui/assets/). */
export function createUiRoutes(config: Pick<Config, 'UI_DIR' | 'GRAPHIQL_ENABLED' | 'DOCS_ENABLED' | 'REQUEST_TIMEOUT_MS' | 'MAX_BATCH' | 'BODY_LIMIT_BYTES'>, log: Logger): UiRoute[] {
  let built: { assets: StaticAssets; docsFiles: ReadonlySet<string>; app: Page; batch: Page; graphiql: Page; docs: Page } | null = null;
  try {
    const manifest = loadManifest(config.UI_DIR);
    const options = {
      graphiqlEnabled: config.GRAPHIQL_ENABLED,
      docsEnabled: config.DOCS_ENABLED,
      requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
      maxBatch: config.MAX_BATCH,
      bodyLimitBytes: config.BODY_LIMIT_BYTES,
    };
    built = {
      assets: new StaticAssets(manifest, path.join(config.UI_DIR, 'assets')),
      docsFiles: new Set(DOCS_ASSETS.map((name) => manifest.assets[name].file)),
      app: page(renderAppPage(manifest, options), APP_CSP),
      batch: page(renderBatchPage(manifest, options), APP_CSP),
      graphiql: page(renderGraphiqlPage(manifest, options), GRAPHIQL_CSP),
      docs: page(renderDocsPage(manifest, { openapiUrl: OPENAPI_PATH, graphiqlEnabled: config.GRAPHIQL_ENABLED }), DOCS_CSP),
    };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why: keyof typeof UNAVAILABLE_LOG = err instanceof IncompleteUiBuildError ? 'incomplete' : code === 'ENOENT' ? 'missing' : code === 'ENOTDIR' ? 'notFolder' : 'unusable';
    const hint = why === 'notFolder' ? `set UI_DIR to the folder of a built UI, not ${config.UI_DIR}` : buildHint(config.UI_DIR);
    log.warn({ err: describeError(err), uiDir: config.UI_DIR }, `${UNAVAILABLE_WARNING}: ${UNAVAILABLE_LOG[why]} (${hint})`);
  }

  const notBuilt = () => new HttpProblem(503, 'Service Unavailable', UNAVAILABLE_DETAIL);
  const pathOf = (req: IncomingMessage) => (req.url ?? '/').split('?', 1)[0] as string;

  const ui: UiRoute = {
    prefix: '/ui',
    async handle(req, res, state) {
      const urlPath = pathOf(req);
      setSecurityHeaders(res, APP_CSP);
      getOrHead(req, res, urlPath);
      if (!built) throw notBuilt();
      if (urlPath === '/ui' || urlPath === '/ui/') {
        state.route = 'ui';
        sendPage(req, res, built.app);
        return true;
      }
      if (urlPath === BATCH_PATH || urlPath === `${BATCH_PATH}/`) {
        state.route = 'ui_batch';
        sendPage(req, res, built.batch);
        return true;
      }
      if ((urlPath === '/ui/graphiql' || urlPath === '/ui/graphiql/') && config.GRAPHIQL_ENABLED) {
        state.route = 'ui_graphiql';
        sendPage(req, res, built.graphiql);
        return true;
      }
      if (urlPath.startsWith(ASSET_PREFIX)) {
        state.route = 'ui_assets';
        const file = urlPath.slice(ASSET_PREFIX.length);
        if (!config.DOCS_ENABLED && built.docsFiles.has(file)) return false;
        return built.assets.serve(file, req, res, config.GRAPHIQL_ENABLED);
      }
      return false;
    },
  };

  // Swagger UI's files are among /ui/assets/ (the page links them there): /docs/<anything> is a 404.
  const docsPage: UiRoute = {
    prefix: '/docs',
    handle(req, res, state) {
      const urlPath = pathOf(req);
      if (urlPath !== '/docs' && urlPath !== '/docs/') return false;
      state.route = 'docs';
      setSecurityHeaders(res, DOCS_CSP);
      getOrHead(req, res, urlPath);
      if (!built) throw notBuilt();
      sendPage(req, res, built.docs);
      return true;
    },
  };

  // 302, not 301: browsers keep a 301 for good, so a page added there later would never be reached.
  const redirect = (prefix: '/redoc' | '/graphiql', location: string): UiRoute => ({
    prefix,
    handle(req, res, state) {
      const urlPath = pathOf(req);
      if (urlPath !== prefix && urlPath !== `${prefix}/`) return false;
      state.route = prefix.slice(1);
      getOrHead(req, res, urlPath);
      res.writeHead(302, { location, 'content-length': 0 });
      res.end();
      return true;
    },
  });
  // FastAPI's other page, ReDoc, renders the same document: its bookmarks land on Swagger UI.
  const redoc = redirect('/redoc', '/docs');
  // Where many GraphQL servers serve GraphiQL: it was a 404 whose list of routes did not name /ui/graphiql.
  const graphiql = redirect('/graphiql', '/ui/graphiql');

  // Off, they are no routes: the 404 that any unknown path gets, as /ui/graphiql's with GRAPHIQL_ENABLED=false.
  return [ui, ...(config.GRAPHIQL_ENABLED ? [graphiql] : []), ...(config.DOCS_ENABLED ? [docsPage, redoc] : [])];
}
