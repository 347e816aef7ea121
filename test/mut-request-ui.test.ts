/**
 * /ui's pages over HTTP, as a browser's cache reads them: each page names the content-hashed
 * assets of the build it came from, so a browser must revalidate it (no-cache, by its ETag)
 * before using it again. A page kept fresh for a while after a deploy would keep loading
 * assets of the old build, which the new gateway no longer has (404): a broken form.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/index.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

describe('/ui pages', () => {
  it('are revalidated before every use: cache-control no-cache with an ETag, on GET, HEAD and 304', async () => {
    for (const page of ['/ui', '/ui/', '/ui/graphiql', '/ui/graphiql/', '/ui/batch', '/ui/batch/', '/docs']) {
      const res = await fetch(`${gw.url}${page}`);
      expect(res.status, page).toBe(200);
      expect(res.headers.get('content-type'), page).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control'), page).toBe('no-cache');
      const etag = res.headers.get('etag');
      expect(etag, page).toMatch(/^"[\w-]{22}"$/);
      const head = await fetch(`${gw.url}${page}`, { method: 'HEAD' });
      expect([head.status, head.headers.get('cache-control'), head.headers.get('etag')], `HEAD ${page}`).toEqual([200, 'no-cache', etag]);
      const again = await fetch(`${gw.url}${page}`, { headers: { 'if-none-match': etag as string } });
      expect([again.status, again.headers.get('cache-control'), again.headers.get('etag')], `304 ${page}`).toEqual([304, 'no-cache', etag]);
    }
  });
});
