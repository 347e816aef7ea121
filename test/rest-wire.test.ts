/**
 * POST /predict as its callers read it off the wire: problem answers every JSON reader can
 * decode, and the prototype's URLs. On a real port with the real model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyLimitAdvice } from '../src/http.js';
import { DEFAULT_SETTINGS } from '../src/rest/openapi.js';
import { LEGACY_PAYLOAD, spawnGateway, startTestGateway, type SpawnedGateway, type TestGateway } from './helpers/index.js';

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

describe('a caller that sends no content-type', () => {
  it('is read as JSON on POST /predict, as the prototype read it (POST /graphql refuses it)', async () => {
    // A byte body: fetch adds no content-type of its own (a string body would get text/plain).
    const bytes = new TextEncoder().encode(JSON.stringify(LEGACY_PAYLOAD));
    const rest = await fetch(`${gw.url}/predict`, { method: 'POST', body: bytes });
    expect(rest.status).toBe(200);
    expect(await rest.json()).toMatchObject({ prediction: expect.any(String) as unknown, churn_probability: expect.any(Number) as unknown });
    const graphql = await fetch(`${gw.url}/graphql`, { method: 'POST', body: new TextEncoder().encode(JSON.stringify({ query: '{ modelInfo { name } }' })) });
    expect(graphql.status).toBe(415);
    expect(((await graphql.json()) as Problem).detail).toBe('POST /graphql takes content-type: application/json; got none');
  });
});

describe('a body in a charset other than UTF-8', () => {
  /** What the JSON text is in windows-1252 (é is 0xE9, € is 0x80, where ISO-8859-1 has a control character). */
  const windows1252 = (text: string): Buffer => Buffer.from(text.replace(/€/g, '\x80'), 'latin1');
  const send = (body: Uint8Array, contentType: string, path = '/predict') => fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(body) });
  const ID = 'Renée €';

  it.each(['us-ascii', 'ascii', 'ISO-8859-1', 'latin1', 'windows-1252', 'cp1252', '"iso-8859-1"'])(
    'is read as declared when declared charset=%s (a name WHATWG gives windows-1252), as the prototype took it: a Latin-1 é is é',
    async (label) => {
      const body = JSON.stringify({ ...LEGACY_PAYLOAD, customerID: ID });
      const res = await send(windows1252(body), `application/json; charset=${label}`);
      expect(res.status).toBe(200);
      const utf8 = await send(new TextEncoder().encode(body), 'application/json');
      expect(await res.json()).toEqual(await utf8.json());
    },
  );

  it('reads an ASCII body exactly as without a charset, and a UTF-8 byte order mark as UTF-8 whatever the charset says', async () => {
    const ascii = new TextEncoder().encode(JSON.stringify(LEGACY_PAYLOAD));
    expect(await (await send(ascii, 'application/json;charset=us-ascii')).text()).toBe(await (await send(ascii, 'application/json')).text());
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ ...LEGACY_PAYLOAD, customerID: ID }))]);
    const res = await send(withBom, 'application/json; charset=latin1');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { customerID: string }).customerID).toBe(ID);
  });

  it('refuses any other charset with 415 naming those read; POST /graphql reads UTF-8 only, as GraphQL over HTTP has it', async () => {
    const body = new TextEncoder().encode(JSON.stringify(LEGACY_PAYLOAD));
    for (const charset of ['shift_jis', 'utf-16', 'iso-8859-2']) {
      const res = await send(body, `application/json; charset=${charset}`);
      expect(res.status, charset).toBe(415);
      expect(((await res.json()) as Problem).detail).toBe(
        `POST /predict takes JSON in UTF-8 (charset=utf-8, or none), or in windows-1252 (charset=us-ascii, iso-8859-1, latin1 or windows-1252); got charset=${charset}`,
      );
    }
    const graphql = await send(new TextEncoder().encode(JSON.stringify({ query: '{ modelInfo { name } }' })), 'application/json; charset=us-ascii', '/graphql');
    expect(graphql.status).toBe(415);
    expect(((await graphql.json()) as Problem).detail).toBe('POST /graphql takes JSON in UTF-8; got charset=us-ascii');
  });

  it('refuses a UTF-16 body (a byte order mark first) with 415 saying it is UTF-16, on both routes, whatever the charset says', async () => {
    const text = `\ufeff${JSON.stringify(LEGACY_PAYLOAD)}`;
    const little = Buffer.from(text, 'utf16le');
    const big = Buffer.from(little).swap16();
    const cases: [Buffer, string, string, string][] = [
      [little, 'application/json', '/predict', 'little-endian: it starts with the byte order mark FF FE'],
      [big, 'application/json', '/predict', 'big-endian: it starts with the byte order mark FE FF'],
      [little, 'application/json; charset=windows-1252', '/predict', 'little-endian: it starts with the byte order mark FF FE'],
      [big, 'application/json', '/graphql', 'big-endian: it starts with the byte order mark FE FF'],
    ];
    for (const [body, type, path, order] of cases) {
      const res = await send(body, type, path);
      expect(res.status, `${path} ${type} ${order}`).toBe(415);
      const problem = (await res.json()) as Problem;
      expect(problem.detail).toBe(`request body is UTF-16 (${order}); send JSON in UTF-8`);
      expect(problem.errors).toEqual([{ path: '(body)', message: 'must be UTF-8 text' }]);
    }
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
    // expect.poll's default deadline is 1 s: the access line, flushed 10 ms after the answer, can take longer on a loaded machine.
    await expect.poll(() => gw.logs.find((l) => l['reqId'] === 'trailing-slash-1' && l['msg'] === 'request'), { timeout: 30_000 }).toMatchObject({ route: 'rest_predict', status: 200, rows: 1 });
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

describe('a field of the wrong type', () => {
  // The prototype's pydantic read "12" as 12; here it is refused, and the answer must say why:
  // "must be an integer number of months" alone is true of 12.
  it.each([
    ['tenure as a string', { tenure: '12' }, 'tenure', 'must be an integer number of months; got the string "12"'],
    ['a charge as a string', { MonthlyCharges: '29.85' }, 'MonthlyCharges', 'must be a number from 0 to 3.4e+38; got the string "29.85"'],
    ['TotalCharges as the CSV blank', { TotalCharges: ' ' }, 'TotalCharges', 'must be a number from 0 to 3.4e+38, or null when not yet billed; got the string " "'],
    ['SeniorCitizen as a boolean', { SeniorCitizen: true }, 'SeniorCitizen', 'must be 0 or 1; got true'],
    ['SeniorCitizen as a string', { SeniorCitizen: '1' }, 'SeniorCitizen', 'must be 0 or 1; got the string "1"'],
    ['SeniorCitizen 2', { SeniorCitizen: 2 }, 'SeniorCitizen', 'must be 0 or 1; got 2'],
    ['tenure null', { tenure: null }, 'tenure', 'must be an integer number of months; got null'],
    ['a charge as an object', { MonthlyCharges: { amount: 1 } }, 'MonthlyCharges', 'must be a number from 0 to 3.4e+38; got an object'],
    ['customerID as a number', { customerID: 7590 }, 'customerID', 'must be a string or null; got 7590'],
    ['a long string, cut', { tenure: `${'1'.repeat(100)}` }, 'tenure', `must be an integer number of months; got the string "${'1'.repeat(63)}…"`],
    ['a value not allowed', { Contract: 'Monthly' }, 'Contract', 'must be one of "Month-to-month", "One year", "Two year"; got "Monthly"'],
    ['a value in another case', { gender: 'female' }, 'gender', 'must be one of "Female", "Male"; got "female" (spelled "Female" here)'],
    ['a value with a space after it', { PaymentMethod: 'Mailed check ' }, 'PaymentMethod', 'must be one of "Electronic check", "Mailed check", "Bank transfer (automatic)", "Credit card (automatic)"; got "Mailed check " (spelled "Mailed check" here)'],
    ['Yes as a boolean', { Partner: true }, 'Partner', 'must be one of "Yes", "No"; got true'],
    ['a value missing', { Contract: undefined }, 'Contract', 'is required; must be one of "Month-to-month", "One year", "Two year"'],
  ])('%s: says what was sent', async (_name, change, path, message) => {
    const { status, text } = await post(JSON.stringify({ ...LEGACY_PAYLOAD, ...change }));
    expect(status).toBe(400);
    expect((JSON.parse(text) as Problem).errors).toEqual([{ path, message }]);
  });

  it('says what was sent in place of a customer', async () => {
    const { text } = await post(JSON.stringify([LEGACY_PAYLOAD, [LEGACY_PAYLOAD], 'x', null]));
    expect((JSON.parse(text) as Problem).errors).toEqual([
      { path: '[1]', message: 'must be a JSON object of customer fields; got an array' },
      { path: '[2]', message: 'must be a JSON object of customer fields; got the string "x"' },
      { path: '[3]', message: 'must be a JSON object of customer fields; got null' },
    ]);
  });

  it('adds nothing to a missing field, and names an amount JSON can only carry as Infinity as too large', async () => {
    const withoutContract = (({ Contract: _c, ...rest }) => rest)(LEGACY_PAYLOAD);
    expect((JSON.parse((await post(JSON.stringify(withoutContract))).text) as Problem).errors).toEqual([
      { path: 'Contract', message: 'is required; must be one of "Month-to-month", "One year", "Two year"' },
    ]);
    const infinite = JSON.stringify({ ...LEGACY_PAYLOAD, MonthlyCharges: 1 }).replace('"MonthlyCharges":1', '"MonthlyCharges":1e400');
    expect((JSON.parse((await post(infinite)).text) as Problem).errors).toEqual([
      { path: 'MonthlyCharges', message: "must be a number from 0 to 3.4e+38; got a number beyond a 64-bit number's range (±1.8e308), so it would be read as an infinity" },
    ]);
  });
});

describe('a body over BODY_LIMIT_BYTES still being sent', () => {
  // Its own process, as callers meet it: in this one, fetch's writes and the gateway's reads
  // share an event loop, and the reset below did not happen.
  let small: SpawnedGateway;
  beforeAll(async () => {
    small = await spawnGateway({ BODY_LIMIT_BYTES: '1024', LOG_LEVEL: 'warn' });
  });
  afterAll(async () => {
    small.child.kill('SIGTERM');
    await small.exited;
  });

  // The 413 is answered as soon as the content-length is read, while the caller is still
  // sending: a connection closed with bytes unread is reset (RST), and Node's fetch, like curl,
  // then lost the answer (fetch failed: EPIPE) for about half of such bodies.
  it('gets its 413, not a reset connection: the gateway reads and drops the rest before closing', async () => {
    const body = Buffer.alloc(8_000_000, 0x20);
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) {
      try {
        const res = await fetch(`${small.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        answers.push(`${res.status} ${res.headers.get('connection')} ${((await res.json()) as Problem).detail}`);
      } catch (err) {
        answers.push(`fetch failed: ${String((err as Error).cause ?? err)}`);
      }
    }
    expect(answers).toEqual(Array.from({ length: 6 }, () => `413 close request body is 8000000 bytes; the limit is 1024 bytes (BODY_LIMIT_BYTES); ${bodyLimitAdvice(1024, DEFAULT_SETTINGS.MAX_BATCH)}`));
  });
});

describe("a body from Python's json.dumps with a NaN or an infinity in it", () => {
  // json.dumps writes float('nan') as NaN (pandas reads the data set's blank TotalCharges as one)
  // and infinities as Infinity: not JSON, which JSON.parse's message said without naming where.
  const dumped = (value: string, column: string, index: number) =>
    JSON.stringify([LEGACY_PAYLOAD, LEGACY_PAYLOAD, LEGACY_PAYLOAD]).replace(new RegExp(`("${column}":)[^,}]+`, 'g'), (all, name: string) => (index-- === 0 ? `${name} ${value}` : all));

  it.each([
    ['NaN', 'TotalCharges', 1, '[1].TotalCharges', 'is NaN, which JSON does not have (Python\'s json.dumps writes it for a float NaN, such as a blank TotalCharges pandas read); send a number, or null for a TotalCharges not yet billed'],
    ['Infinity', 'MonthlyCharges', 2, '[2].MonthlyCharges', "is Infinity, which JSON does not have (Python's json.dumps writes it for a float infinity); send a number"],
    ['-Infinity', 'tenure', 0, '[0].tenure', "is -Infinity, which JSON does not have (Python's json.dumps writes it for a float infinity); send a number"],
  ])('%s in %s is refused naming the customer and the field', async (value, column, index, path, message) => {
    const { status, text } = await post(dumped(value, column, index));
    expect(status).toBe(400);
    const problem = JSON.parse(text) as Problem;
    expect(problem.errors).toEqual([{ path, message }]);
    expect(problem.detail).toBe(`request body is not valid JSON: ${path} ${message}`);
  });

  it('leaves other faults of the text to JSON.parse, never a 500', async () => {
    for (const body of ['{"\\q":NaN}', '[-x,NaN]', '{"a":-Inf}']) {
      const { status, text } = await post(body);
      expect([status, (JSON.parse(text) as Problem).errors], body).toEqual([400, [{ path: '(body)', message: 'must be valid JSON' }]]);
    }
  });

  it('is named in a single customer too, and NaN inside a string is no such number', async () => {
    const body = JSON.stringify({ ...LEGACY_PAYLOAD, customerID: 'NaN: Infinity' }).replace(/("TotalCharges":)[^,}]+/, '$1NaN');
    expect((JSON.parse((await post(body)).text) as Problem).errors).toEqual([{ path: 'TotalCharges', message: expect.stringMatching(/^is NaN, which JSON does not have/) as unknown }]);
  });
});
