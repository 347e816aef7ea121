/**
 * The HTML pages of /ui, /ui/batch and /docs, rendered once at start-up from the build manifest. They are
 * small shells: the app and GraphiQL load as cached, content-hashed files. Every URL in them
 * is an absolute path: each page is served at its URL with and without a trailing slash.
 */
import type { AssetName, UiManifest } from './manifest.js';
import { ASSET_PREFIX } from './manifest.js';
import { BODY_LIMIT_META, MAX_BATCH_META, OPENAPI_URL_META, PAGE_ROOT_ATTRIBUTE, REQUEST_TIMEOUT_META, UNTIL_STARTED_ATTRIBUTE } from './page-meta.js';

/** GraphiQL's page title, also its visible heading (ui/src/build.ts puts it in GraphiQL's logo slot). */
export const GRAPHIQL_TITLE = 'Churn gateway · GraphiQL';

/** /ui/batch, "Score a file": every page's "Gateway tools" links it by this text (GraphiQL's bar too, ui/src/build.ts). */
export const BATCH_PATH = '/ui/batch';
export const BATCH_LINK_TEXT = 'Score a file';

export interface PageOptions {
  readonly graphiqlEnabled: boolean;
  /** DOCS_ENABLED: /docs is served, so the page links it. */
  readonly docsEnabled: boolean;
  /** REQUEST_TIMEOUT_MS: by then the gateway has answered (503 REQUEST_TIMEOUT at the latest), so the page stops waiting a little after it. */
  readonly requestTimeoutMs: number;
  /** MAX_BATCH and BODY_LIMIT_BYTES: /ui/batch splits a file, and /ui a customer's offers, into requests within them. */
  readonly maxBatch: number;
  readonly bodyLimitBytes: number;
}

/** The "Gateway tools" links of the form and /ui/batch, the current page marked. */
function toolsNav(current: '/ui' | typeof BATCH_PATH, options: Pick<PageOptions, 'graphiqlEnabled' | 'docsEnabled'>): string {
  const link = (href: string, text: string) => `<a href="${href}"${href === current ? ' aria-current="page"' : ''}>${text}</a>`;
  return [link('/ui', 'Predict'), link(BATCH_PATH, BATCH_LINK_TEXT), options.graphiqlEnabled ? link('/ui/graphiql', 'GraphiQL') : '', options.docsEnabled ? link('/docs', 'REST API') : ''].join('');
}

const shell = (title: string, head: string, body: string) =>
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
${head}
</head>
<body>
${body}
</body>
</html>
`;

/**
 * After the page's module script, which runs first (module and deferred scripts run in document
 * order): says in the page when that script did not run (ui/src/app/page-check.ts).
 */
const pageCheck = (manifest: UiManifest) => `<script defer src="${ASSET_PREFIX}${manifest.assets['page-check.js'].file}"></script>`;

export function renderAppPage(manifest: UiManifest, options: PageOptions): string {
  const url = (name: AssetName) => `${ASSET_PREFIX}${manifest.assets[name].file}`;
  const nav = toolsNav('/ui', options);
  return shell(
    'Churn risk · prediction gateway',
    `<meta name="${REQUEST_TIMEOUT_META}" content="${options.requestTimeoutMs}">
<meta name="${MAX_BATCH_META}" content="${options.maxBatch}">
<meta name="${BODY_LIMIT_META}" content="${options.bodyLimitBytes}">
<link rel="icon" href="${url('favicon.ico')}">
<link rel="stylesheet" href="${url('app.css')}">
<script type="module" src="${url('app.js')}"></script>
${pageCheck(manifest)}`,
    `<a class="skip" href="#form-root">Skip to the customer form</a>
<header class="top"><h1>Churn risk</h1><nav aria-label="Gateway tools">${nav}</nav></header>
<main class="layout">
<section class="card" aria-labelledby="form-title"><h2 id="form-title">Customer</h2><div id="form-root" ${PAGE_ROOT_ATTRIBUTE}><noscript>This form needs JavaScript; the same predictions are available at POST /graphql.</noscript></div></section>
<div>
<section class="card" aria-labelledby="result-title"><h2 id="result-title">Prediction</h2><div id="result" aria-live="polite"></div></section>
<section class="card" aria-labelledby="model-title"><h2 id="model-title">Model</h2><p id="model-status" class="model-status" role="status"></p><div id="model-panel"><p class="muted" ${UNTIL_STARTED_ATTRIBUTE}>Loading model information…</p></div></section>
</div>
</main>`,
  );
}

/** /ui/batch: a customer file scored through predictBatch (ui/src/batch/main.ts builds the page in #batch-root and #batch-output). */
export function renderBatchPage(manifest: UiManifest, options: PageOptions): string {
  const url = (name: AssetName) => `${ASSET_PREFIX}${manifest.assets[name].file}`;
  return shell(
    'Score a customer file · churn prediction gateway',
    `<meta name="${REQUEST_TIMEOUT_META}" content="${options.requestTimeoutMs}">
<meta name="${MAX_BATCH_META}" content="${options.maxBatch}">
<meta name="${BODY_LIMIT_META}" content="${options.bodyLimitBytes}">
<link rel="icon" href="${url('favicon.ico')}">
<link rel="stylesheet" href="${url('app.css')}">
<link rel="stylesheet" href="${url('batch.css')}">
<script type="module" src="${url('batch.js')}"></script>
${pageCheck(manifest)}`,
    `<a class="skip" href="#batch-root">Skip to choosing a file</a>
<header class="top"><h1>Score a customer file</h1><nav aria-label="Gateway tools">${toolsNav(BATCH_PATH, options)}</nav></header>
<main class="batch">
<section class="card" aria-labelledby="file-title"><h2 id="file-title">Customer file</h2><div id="batch-root" ${PAGE_ROOT_ATTRIBUTE}><noscript>This page needs JavaScript; the same predictions are available at POST /graphql (predictBatch).</noscript></div><p id="batch-status" class="batch-status" role="status"></p></section>
<div id="batch-output"></div>
</main>`,
  );
}

/**
 * The attribute on GraphiQL's root that hides its top bar's "REST API" link (ui/src/graphiql/page.css):
 * the link is written into GraphiQL's bundle when the UI is built, and DOCS_ENABLED is read when the
 * gateway starts.
 */
const NO_DOCS_ATTRIBUTE = 'data-docs-off';

export function renderGraphiqlPage(manifest: UiManifest, options: Pick<PageOptions, 'docsEnabled'>): string {
  const url = (name: AssetName) => `${ASSET_PREFIX}${manifest.assets[name].file}`;
  return shell(
    GRAPHIQL_TITLE,
    `<link rel="icon" href="${url('favicon.ico')}">
<link rel="stylesheet" href="${url('graphiql.css')}">
<script defer src="${url('graphiql-boot.js')}"></script>
<script defer src="${url('graphiql.js')}"></script>`,
    // GraphiQL renders into the page's main landmark: in a <div>, all of it sat outside any
    // landmark, and a screen reader's "main" key found nothing on the page.
    `<main id="root" aria-label="GraphiQL"${options.docsEnabled ? '' : ` ${NO_DOCS_ATTRIBUTE}`}><noscript>GraphiQL needs JavaScript.</noscript></main>`,
  );
}

/** The files only /docs uses: not served while DOCS_ENABLED is false, as GraphiQL's are not while GRAPHIQL_ENABLED is. */
export const DOCS_ASSETS = ['swagger-ui.css', 'swagger-ui.js', 'docs-boot.js'] as const satisfies readonly AssetName[];

/** Swagger UI's page title. */
export const DOCS_TITLE = 'Churn gateway · REST API (Swagger UI)';

/**
 * /docs: Swagger UI rendering the OpenAPI document at `openapiUrl` (ui/src/docs/boot.ts starts it).
 * Swagger UI brings the page's landmarks and heading: its `<main>` holds the operations and
 * schemas, its `<h1>` is the document's title (in a region boot.ts names). Around it the page
 * adds a banner with the way to the form and GraphiQL (a `<main>` here would put Swagger UI's
 * inside it: two main landmarks, one nested).
 */
export function renderDocsPage(manifest: UiManifest, options: { readonly openapiUrl: string; readonly graphiqlEnabled: boolean }): string {
  const url = (name: AssetName) => `${ASSET_PREFIX}${manifest.assets[name].file}`;
  const { openapiUrl } = options;
  const nav = [`<a href="/ui">Prediction form</a>`, `<a href="${BATCH_PATH}">${BATCH_LINK_TEXT}</a>`, options.graphiqlEnabled ? `<a href="/ui/graphiql">GraphiQL</a>` : ''].join('');
  return shell(
    DOCS_TITLE,
    `<meta name="${OPENAPI_URL_META}" content="${openapiUrl}">
<link rel="icon" href="${url('favicon.ico')}">
<link rel="stylesheet" href="${url('swagger-ui.css')}">
<script defer src="${url('swagger-ui.js')}"></script>
<script defer src="${url('docs-boot.js')}"></script>`,
    `<header class="docs-top"><nav aria-label="Gateway tools">${nav}</nav></header>
<div id="swagger-ui"><noscript>Swagger UI needs JavaScript; the description of the REST routes is at <a href="${openapiUrl}">${openapiUrl}</a>.</noscript></div>`,
  );
}
