/**
 * Starts Swagger UI on /docs without inline script (the page's CSP forbids it): loaded with
 * `defer` after Swagger UI's own bundle (swagger-ui-dist's swagger-ui-bundle.js, which defines
 * `SwaggerUIBundle`), it renders the gateway's own OpenAPI document, whose path the page names
 * in a meta tag (src/ui/pages.ts). The document declares no `servers`, so "Try it out" sends
 * its requests to the origin the page came from.
 */
import { OPENAPI_URL_META } from '../../../src/ui/page-meta.js';
import { couldNotStart, SCRIPT_NOT_LOADED, sayNotStarted } from '../not-loaded.js';

/** The options of swagger-ui's config this page sets (docs/usage/configuration.md of swagger-ui). */
interface SwaggerUIOptions {
  readonly url: string;
  readonly plugins: readonly (() => SwaggerUIPlugin)[];
  readonly dom_id: string;
  readonly presets: readonly unknown[];
  readonly layout: string;
  readonly deepLinking: boolean;
  readonly validatorUrl: null;
  readonly queryConfigEnabled: boolean;
  readonly displayRequestDuration: boolean;
  readonly defaultModelsExpandDepth: number;
  readonly tryItOutEnabled: boolean;
  readonly syntaxHighlight: { readonly activated: boolean; readonly theme: string };
}

/** The part of Swagger UI's plugin API (docs/customization/plugin-api.md) this page uses. */
interface SwaggerUISystem {
  readonly React: { createElement(type: unknown, props: Record<string, unknown> | null, ...children: unknown[]): unknown };
}
type Props = Record<string, unknown>;
interface SwaggerUIPlugin {
  readonly wrapComponents: Record<string, (Original: unknown, system: SwaggerUISystem) => (props: Props) => unknown>;
}

/**
 * What Swagger UI's own markup lacks for assistive technology, added through its plugin API:
 * the title and description sit above its <main>, in no landmark, so they become a named
 * region; the request body's editor (a bare <textarea>) gets the name its heading shows.
 */
const accessibility = (): SwaggerUIPlugin => ({
  wrapComponents: {
    InfoContainer:
      (Original, { React }) =>
      (props) =>
        React.createElement('section', { 'aria-label': 'About the REST API' }, React.createElement(Original, props)),
    TextArea:
      (Original, { React }) =>
      (props) =>
        React.createElement(Original, /\bbody-param__text\b/.test(String(props['className'])) ? { ...props, 'aria-label': 'Request body' } : props),
  },
});

interface SwaggerUIGlobal {
  SwaggerUIBundle?: ((options: SwaggerUIOptions) => unknown) & { presets: { apis: unknown } };
}

const root = document.getElementById('swagger-ui');
const url = document.querySelector<HTMLMetaElement>(`meta[name="${OPENAPI_URL_META}"]`)?.content;
const { SwaggerUIBundle } = window as unknown as SwaggerUIGlobal;
if (root && url && SwaggerUIBundle) {
  SwaggerUIBundle({
    url,
    plugins: [accessibility],
    dom_id: '#swagger-ui',
    presets: [SwaggerUIBundle.presets.apis],
    // Without the standalone preset's top bar, whose box loads any URL typed into it.
    layout: 'BaseLayout',
    // Off: on, each operation's path is a link inside the button that opens it (nested
    // controls, WCAG 4.1.2), one more Tab stop per operation that only changes the address.
    deepLinking: false,
    // Swagger UI would otherwise send the document to validator.swagger.io for its badge.
    validatorUrl: null,
    // ?url=… and ?configUrl=… stay ignored: a link to /docs cannot make it render another document.
    queryConfigEnabled: false,
    displayRequestDuration: true,
    // The schemas are shown with each operation; the list of models at the bottom starts closed.
    defaultModelsExpandDepth: 0,
    tryItOutEnabled: false,
    // Examples and answers in a theme whose every JSON colour is 4.5:1 or more on its background
    // (the default, agate, writes numbers #d36363 on #333, 3.5:1).
    syntaxHighlight: { activated: true, theme: 'obsidian' },
  });
} else if (root) {
  const why = !url ? 'the page names no OpenAPI document' : SCRIPT_NOT_LOADED;
  sayNotStarted(root, couldNotStart('Swagger UI', why, `the description of the REST routes is at ${url ?? '/openapi.json'}`));
}
