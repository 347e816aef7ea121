/**
 * POST /predict as its callers read it off the wire: problem answers every JSON reader can
 * decode, and the prototype's URLs. On a real port with the real model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEGACY_PAYLOAD, startTestGateway, type TestGateway } from './helpers/index.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

type Problem = { status: number; detail: string; errors: { path: string; message: string }[] };

/** JSON.stringify writes a lone surrogate as this escape; a paired one it writes as the character. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;

async function post(body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, text: await res.text() };
}

describe('a 400 answer about text that holds emoji', () => {
  it('quotes no half of a character when the body is not JSON (V8 names the first UTF-16 unit of the emoji)', async () => {
    const { status, text } = await post(`[${'😀'.repeat(20)}]`);
    expect(status).toBe(400);
    expect(text).not.toMatch(SURROGATE_ESCAPE);
    const problem = JSON.parse(text) as Problem;
    expect(problem.detail).toMatch(/^request body is not valid JSON: Unexpected token '\uFFFD'/);
    expect(problem.detail).toContain('😀😀');
  });

  it('cuts a long unknown field name between characters, not inside an emoji', async () => {
    const name = `${'x'.repeat(62)}😀yz`;
    const { status, text } = await post(JSON.stringify({ ...LEGACY_PAYLOAD, [name]: 1 }));
    expect(status).toBe(400);
    expect(text).not.toMatch(SURROGATE_ESCAPE);
    const problem = JSON.parse(text) as Problem;
    expect(problem.errors).toEqual([{ path: '(body)', message: expect.stringMatching(new RegExp(`^unknown field\\(s\\) "${'x'.repeat(62)}…"; allowed: customerID, `)) as unknown }]);
  });

  it('names a field the body sends twice with a lone surrogate in its name as U+FFFD, not as an escape', async () => {
    const { status, text } = await post(`{"\\ud83d":1,"\\ud83d":2}`);
    expect(status).toBe(400);
    expect(text).not.toMatch(SURROGATE_ESCAPE);
    const problem = JSON.parse(text) as Problem;
    expect(problem.errors[0]).toEqual({ path: '\uFFFD', message: 'is sent more than once; send each field once' });
  });
});

describe('the prototype URL with a trailing slash', () => {
  it('serves POST /predict/ as POST /predict (FastAPI redirected it there, and its callers followed)', async () => {
    const direct = await fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(LEGACY_PAYLOAD) });
    const slash = await fetch(`${gw.url}/predict/?source=legacy`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trailing-slash-1' },
      body: JSON.stringify(LEGACY_PAYLOAD),
    });
    expect(slash.status).toBe(200);
    expect(slash.headers.get('x-request-id')).toBe('trailing-slash-1');
    expect(await slash.text()).toBe(await direct.text());
    await expect.poll(() => gw.logs.find((l) => l['reqId'] === 'trailing-slash-1' && l['msg'] === 'request')).toMatchObject({ route: 'rest_predict', status: 200, rows: 1 });
  });

  it('refuses other methods on /predict/ as on /predict, and bad bodies alike', async () => {
    const get = await fetch(`${gw.url}/predict/`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const bad = await post(JSON.stringify({ ...LEGACY_PAYLOAD, tenure: -1 }));
    const slash = await fetch(`${gw.url}/predict/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...LEGACY_PAYLOAD, tenure: -1 }) });
    expect(slash.status).toBe(400);
    expect(((await slash.json()) as Problem).errors).toEqual((JSON.parse(bad.text) as Problem).errors);
  });

  it('still answers 404 for other paths under /predict', async () => {
    expect((await fetch(`${gw.url}/predict/x`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(`${gw.url}/predict//`, { method: 'POST', body: '{}' })).status).toBe(404);
  });
});
