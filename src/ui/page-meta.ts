/**
 * What a page's HTML tells its script (read in the browser by ui/src/app/gateway-client.ts, ui/src/app/request-split.ts, ui/src/app/page-check.ts and ui/src/docs/boot.ts):
 * here, with no imports, so the browser bundle takes the name without the server's modules.
 */

/** `<meta name=… content=…>` holding REQUEST_TIMEOUT_MS. */
export const REQUEST_TIMEOUT_META = 'gateway-request-timeout-ms';

/** `<meta name=… content=…>` on /docs holding the path of the OpenAPI document Swagger UI renders. */
export const OPENAPI_URL_META = 'gateway-openapi-url';

/** `<meta name=… content=…>` on /ui and /ui/batch holding MAX_BATCH: the rows one predictBatch request may carry. */
export const MAX_BATCH_META = 'gateway-max-batch';

/** `<meta name=… content=…>` on /ui and /ui/batch holding BODY_LIMIT_BYTES: the largest request body the gateway reads. */
export const BODY_LIMIT_META = 'gateway-body-limit-bytes';

/**
 * The attribute marking the element of /ui and /ui/batch their script replaces the content of as it starts
 * (the form's, the file chooser's): ui/src/app/page-check.ts says there when the script did not run.
 */
export const PAGE_ROOT_ATTRIBUTE = 'data-page-root';

/** The attribute marking what a page shows only until its script starts ("Loading model information…"): removed when it did not run. */
export const UNTIL_STARTED_ATTRIBUTE = 'data-until-started';
