/**
 * Says on /ui and /ui/batch when the page's own script did not run, as GraphiQL and /docs do: the
 * form card stayed empty under "Loading model information…", the file page had no file chooser, and
 * the cause was only in the console. Loaded with `defer` after the page's module script (src/ui/pages.ts):
 * module and deferred scripts run in document order once the page is parsed, so this runs after
 * that script has run, or failed to load. Starting, the page's script replaces what the server put
 * in its root (the `<noscript>`); a root still holding it was not started.
 */
import { PAGE_ROOT_ATTRIBUTE, UNTIL_STARTED_ATTRIBUTE } from '../../../src/ui/page-meta.js';
import { couldNotStart, RELOAD, SCRIPT_NOT_LOADED, sayNotStarted } from '../not-loaded.js';

const root = document.querySelector(`[${PAGE_ROOT_ATTRIBUTE}]`);
if (root?.querySelector('noscript')) {
  sayNotStarted(root, couldNotStart('This page', SCRIPT_NOT_LOADED, RELOAD), 'problem');
  // "Loading model information…" would wait for good.
  for (const waiting of document.querySelectorAll(`[${UNTIL_STARTED_ATTRIBUTE}]`)) waiting.remove();
}
