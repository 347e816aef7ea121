/**
 * CORS_ORIGINS' rules, with no dependencies: src/config.ts parses the gateway's environment with
 * them, and the CDK app (infra/lib/gateway-service.ts) checks its corsOrigins setting with them at
 * synth, where the gateway's zod is not installed (infra is its own package). One copy of the
 * rules, so a value the synth accepts is one the gateway starts with.
 */

/** The entries of a CORS_ORIGINS value: comma-separated, each trimmed, empty ones dropped. */
export function corsOriginEntries(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * Why a CORS_ORIGINS entry can never equal a browser's Origin header, or undefined if it can.
 * A browser sends its origin serialized: lower-case scheme and host, no default port, no path,
 * no trailing slash (`https://app.example`, `http://localhost:5173`); the gateway compares it with
 * each entry as a string. An entry is taken only if it is already in that form.
 */
export function originProblem(entry: string): string | undefined {
  const form = 'an origin: scheme://host[:port], no path';
  if (entry.includes('*')) return `entry "${entry}": a wildcard is not supported; list the origins allowed instead, comma-separated (each scheme://host[:port], no path)`;
  let url: URL | undefined;
  try {
    url = new URL(entry);
  } catch {
    url = undefined;
  }
  // Origins run together with another separator: a semicolon parses as part of the host
  // ("https://a.example;https://b.example" suggested "https://a.example;https").
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || /[\s;]/.test(entry)) {
    return `entry "${entry}" must be an http(s) origin: scheme://host[:port], no path${/[\s;]/.test(entry) ? ' (separate origins with commas)' : ''}`;
  }
  if (url.origin !== entry) return `entry "${entry}" must be ${form} (did you mean "${url.origin}"?)`;
  return undefined;
}
