/**
 * The code a problem's detail starts with (`OVERLOADED: the gateway already holds …`,
 * `REQUEST_TIMEOUT: …`, `SHUTTING_DOWN: …`), or null when it starts with none. A problem's code
 * (HttpProblem.code, http.ts) is read from it, and the UI reads it as a GraphQL error's code
 * (ui/src/app/gateway-client.ts): one reading of the convention for both. Never the rest of the detail, which may quote what was sent.
 * No imports: the browser bundle includes it.
 */
const LEADING_CODE = /^([A-Z][A-Z0-9_]*[A-Z0-9]):/;

export const problemCode = (detail: string): string | null => LEADING_CODE.exec(detail)?.[1] ?? null;
