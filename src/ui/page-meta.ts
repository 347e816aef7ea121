/**
 * What the app page's HTML tells its script (read in the browser by ui/src/app/gateway-client.ts):
 * here, with no imports, so the browser bundle takes the name without the server's modules.
 */

/** `<meta name=… content=…>` holding REQUEST_TIMEOUT_MS. */
export const REQUEST_TIMEOUT_META = 'gateway-request-timeout-ms';
