/**
 * Starts Swagger UI on /docs without inline script (the page's CSP forbids it): loaded with
 * `defer` after Swagger UI's own bundle (swagger-ui-dist's swagger-ui-bundle.js, which defines
 * `SwaggerUIBundle`), it renders the gateway's own OpenAPI document, whose path the page names
 * in a meta tag (src/ui/pages.ts). The document declares no `servers`, so "Try it out" sends
 * its requests to the origin the page came from.
 */
import { OPENAPI_URL_META } from '../../../src/ui/page-meta.js';

/** The options of swagger-ui's config this page sets (docs/usage/configuration.md of swagger-ui). */
interface SwaggerUIOptions {
  readonly url: string;
  readonly dom_id: string;
  readonly presets: readonly unknown[];
  readonly layout: string;
  readonly deepLinking: boolean;
  readonly validatorUrl: null;
  readonly queryConfigEnabled: boolean;
  readonly displayRequestDuration: boolean;
  readonly defaultModelsExpandDepth: number;
  readonly tryItOutEnabled: boolean;
}

interface SwaggerUIGlobal {
  SwaggerUIBundle?: ((options: SwaggerUIOptions) => unknown) & { presets: { apis: unknown } };
}

const root = document.getElementById('swagger-ui');
const url = document.querySelector<HTMLMetaElement>(`meta[name="${OPENAPI_URL_META}"]`)?.content;
const { SwaggerUIBundle } = window as unknown as SwaggerUIGlobal;
if (root && url && SwaggerUIBundle) {
  SwaggerUIBundle({
    url,
    dom_id: '#swagger-ui',
    presets: [SwaggerUIBundle.presets.apis],
    // Without the standalone preset's top bar, whose box loads any URL typed into it.
    layout: 'BaseLayout',
    deepLinking: true,
    // Swagger UI would otherwise send the document to validator.swagger.io for its badge.
    validatorUrl: null,
    // ?url=… and ?configUrl=… stay ignored: a link to /docs cannot make it render another document.
    queryConfigEnabled: false,
    displayRequestDuration: true,
    // The schemas are shown with each operation; the list of models at the bottom starts closed.
    defaultModelsExpandDepth: 0,
    tryItOutEnabled: false,
  });
} else if (root) {
  root.textContent = `Swagger UI could not start (${!url ? 'the page names no OpenAPI document' : 'its script did not load'}); the description of the REST routes is at ${url ?? '/openapi.json'}.`;
}
