/**
 * Who sent a request, as its log lines name it: `client`, the address it came from, and on the
 * access line `userAgent`. Nothing else of the request is logged (README, "Logs and metrics").
 *
 * Behind proxies the socket's peer is the nearest proxy. Each proxy appends the address it saw to
 * X-Forwarded-For (the ALB does, infra/lib/load-balancer.ts), so only the right-most entries, one
 * per trusted proxy, can be believed: whatever is left of them the caller sent, and can be anything.
 */

/** The most of a header's text a log line carries: an address taken from X-Forwarded-For, a user agent. */
export const MAX_LOGGED_HEADER_CHARS = 200;

/** `text` cut to MAX_LOGGED_HEADER_CHARS, marked with … when it was longer. */
export function loggedHeader(text: string): string {
  return text.length > MAX_LOGGED_HEADER_CHARS ? `${text.slice(0, MAX_LOGGED_HEADER_CHARS)}…` : text;
}

/**
 * The client's address, with `trustedHops` proxies (TRUSTED_PROXY_HOPS) in front of the gateway:
 * the socket's `peer` when there are none; otherwise the `trustedHops`-th entry of `forwardedFor`
 * from the right (the address the farthest trusted proxy saw; empty entries are skipped). The
 * headers node joins several X-Forwarded-For into one, in order, with ", ".
 *
 * With fewer entries than trusted hops, the left-most: every entry there is was then appended by a
 * trusted proxy (a request that reached the ALB directly, past a CDN in front of it, has the one
 * the ALB appended), and the left-most is the address the farthest of them saw, the client; the
 * socket's peer would be the nearest proxy, known to be no client. With none (no header, or only
 * empty entries), the peer: no proxy appended one, so the request came to the gateway directly (a
 * metrics scraper in the VPC, or the load balancer's health check).
 *
 * null when the peer is wanted and the socket no longer knows it (closed before it was read).
 */
export function clientAddress(forwardedFor: string | undefined, peer: string | undefined, trustedHops: number): string | null {
  if (trustedHops === 0 || forwardedFor === undefined) return peer ?? null;
  let found: string | null = null;
  let taken = 0;
  // From the right, an entry at a time, without splitting the header: it is read for every request.
  let end = forwardedFor.length;
  while (end > 0 && taken < trustedHops) {
    const comma = forwardedFor.lastIndexOf(',', end - 1);
    const entry = forwardedFor.slice(comma + 1, end).trim();
    if (entry !== '') {
      found = entry;
      taken++;
    }
    end = comma;
  }
  return found === null ? (peer ?? null) : loggedHeader(found);
}
