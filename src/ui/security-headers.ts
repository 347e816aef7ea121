/**
 * Security headers of every /ui and /docs response. Everything comes from this origin: no CDN,
 * no inline script. The app page allows nothing else; GraphiQL additionally needs inline
 * styles (Monaco and React set style attributes) and data: images/fonts from its CSS.
 */
import type { ServerResponse } from 'node:http';

const BASE_POLICY = {
  'default-src': "'self'",
  'script-src': "'self'",
  'style-src': "'self'",
  'img-src': "'self'",
  'font-src': "'self'",
  'connect-src': "'self'",
  'worker-src': "'self'",
  'object-src': "'none'",
  'base-uri': "'none'",
  'form-action': "'self'",
  'frame-ancestors': "'none'",
};

const policy = (overrides: Partial<Record<keyof typeof BASE_POLICY, string>>) =>
  Object.entries({ ...BASE_POLICY, ...overrides })
    .map(([directive, sources]) => `${directive} ${sources}`)
    .join('; ');

export const APP_CSP = policy({});
export const GRAPHIQL_CSP = policy({ 'style-src': "'self' 'unsafe-inline'", 'img-src': "'self' data:", 'font-src': "'self' data:" });
/** /docs: Swagger UI's CSS draws its icons as data: SVG images; nothing else beyond the app page's policy. */
export const DOCS_CSP = policy({ 'img-src': "'self' data:" });

// Only features Chromium knows: it warns on the console about every other one (this had 'bluetooth').
const PERMISSIONS_POLICY = ['camera', 'microphone', 'geolocation', 'payment', 'usb', 'serial', 'display-capture'].map((f) => `${f}=()`).join(', ');

export function setSecurityHeaders(res: ServerResponse, csp: string): void {
  res.setHeader('content-security-policy', csp);
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('permissions-policy', PERMISSIONS_POLICY);
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  res.setHeader('cross-origin-resource-policy', 'same-origin');
}
