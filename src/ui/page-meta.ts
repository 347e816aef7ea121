/**
 * What a page's HTML tells its script (read in the browser by ui/src/app/gateway-client.ts, ui/src/app/request-split.ts and ui/src/docs/boot.ts):
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
