/**
 * Conditional GETs for /ui's pages and assets. If-None-Match (RFC 9110 §13.1.2) is `*` or a
 * list of entity tags, compared weakly: `W/"x"` matches `"x"`. Browsers send back the tag they
 * were given, but a cache or proxy in between may weaken it (e.g. after compressing the answer)
 * or send every tag it holds, as a list.
 */

/** Whether If-None-Match matches `etag`: then a GET or HEAD is answered 304. */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag;
  // Each entity tag, weak or not, by its quoted part: a quoted tag may itself hold a comma.
  for (const [, tag] of header.matchAll(/(?:W\/)?("[^"]*")/g)) if (tag === opaque) return true;
  return false;
}
