/**
 * json-body.ts on generated input: the UTF-8 check against Node's own validator, and the
 * repeated-field check against texts whose repeats are known (none, or one put there).
 */
import { isUtf8 } from 'node:buffer';
import { describe, expect, it, vi } from 'vitest';
import { HttpProblem } from '../src/http.js';
import { bodyText, colonsInText, colonsInValue, findDuplicateKey, findUnderflowingNumber, firstInvalidUtf8, quotedNumber } from '../src/json-body.js';
import { underflows } from '../src/number-text.js';
import { MAX_COUNTED_ISSUES, parseLegacyBody, validCustomerColons } from '../src/rest/predict.js';
import { LEGACY_PAYLOAD } from './helpers/index.js';

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('UTF-8', () => {
  it('finds an ill-formed sequence exactly when Node finds one, and the text before it is well formed', () => {
    const next = random(1);
    // Bytes drawn mostly from the multi-byte ranges, so that well- and ill-formed sequences both occur often.
    const pool = [0x41, 0x3a, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
    let invalid = 0;
    for (let n = 0; n < 20_000; n++) {
      const bytes = Uint8Array.from({ length: 1 + Math.floor(next() * 8) }, () => pool[Math.floor(next() * pool.length)] as number);
      const at = firstInvalidUtf8(bytes);
      expect(at === -1, Buffer.from(bytes).toString('hex')).toBe(isUtf8(bytes));
      if (at >= 0) {
        invalid++;
        expect(isUtf8(bytes.subarray(0, at)), Buffer.from(bytes).toString('hex')).toBe(true);
      }
    }
    expect(invalid).toBeGreaterThan(1000);
  });

  it.each([
    ['an overlong encoding', [0x41, 0xc0, 0x80], 1],
    ['a surrogate', [0xed, 0xa0, 0x80], 0],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
    ['a lone continuation byte', [0x41, 0x42, 0x80], 2],
    ['a sequence cut at the end', [0x41, 0xe2, 0x82], 1],
    ['Latin-1 É', [0x52, 0xc9, 0x22], 1],
  ])('names %s', (_name, bytes, at) => {
    expect(firstInvalidUtf8(Uint8Array.from(bytes))).toBe(at);
    expect(() => bodyText(Buffer.from(bytes))).toThrow(HttpProblem);
  });

  it('drops a byte order mark and reads UTF-8 as sent', () => {
    expect(bodyText(Buffer.from('\ufeff{"id":"RENÉ 😀"}'))).toBe('{"id":"RENÉ 😀"}');
  });

  it('reads a body declared windows-1252 as browsers do: every byte a character, 0x80 to 0x9F as WHATWG maps them', () => {
    const every = Buffer.from(Array.from({ length: 256 }, (_, b) => b));
    const text = bodyText(every, 'windows-1252');
    // As the browsers' TextDecoder('windows-1252') gives them (Node's since 20.18.3 gives U+0080 to U+009F).
    const c1 = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';
    expect(text).toBe(every.subarray(0, 0x80).toString('latin1') + c1 + every.subarray(0xa0).toString('latin1'));
    expect(bodyText(Buffer.from('{"id":"x"}'), 'windows-1252')).toBe('{"id":"x"}');
  });
});

/** JSON text for `value`, with some characters of its strings written as \u escapes (as Python's json.dumps does for non-ASCII). */
function stringify(value: unknown, next: () => number): string {
  if (typeof value === 'string') {
    let out = '"';
    for (const ch of value) {
      const code = ch.codePointAt(0) as number;
      if ((ch === '"' || ch === '\\') && next() < 0.5) out += `\\${ch}`; // the short escapes, \" and \\
      else if (code > 0xffff || ch === '"' || ch === '\\' || code < 0x20 || next() < 0.3) {
        for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0').replace(/[a-f]/g, (c) => (next() < 0.5 ? c.toUpperCase() : c))}`;
      } else out += ch;
    }
    return `${out}"`;
  }
  if (Array.isArray(value)) return `[${value.map((v) => stringify(v, next)).join(',')}]`;
  if (typeof value === 'object' && value !== null) return `{${Object.entries(value).map(([k, v]) => `${stringify(k, next)}${next() < 0.2 ? ' : ' : ':'}${stringify(v, next)}`).join(',')}}`;
  return JSON.stringify(value);
}

const CHARS = ['a', 'b', ':', '\\', '"', 'é', '😀', 'u', '0', '3', 'A', ' '];

function generate(next: () => number, depth: number): unknown {
  const pick = next();
  const text = () => Array.from({ length: Math.floor(next() * 6) }, () => CHARS[Math.floor(next() * CHARS.length)]).join('');
  if (depth > 3 || pick < 0.3) return pick < 0.1 ? null : pick < 0.2 ? Math.round(next() * 100) : text();
  if (pick < 0.55) return Array.from({ length: Math.floor(next() * 4) }, () => generate(next, depth + 1));
  const out: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 5); i > 0; i--) out[text()] = generate(next, depth + 1);
  return out;
}

describe('fields sent twice', () => {
  it('counts the same colons in the text as in its parse when no object repeats a name, escapes included', () => {
    const next = random(2);
    for (let n = 0; n < 5_000; n++) {
      const value = generate(next, 0);
      const text = stringify(value, next);
      expect(JSON.parse(text), text).toEqual(value);
      expect(colonsInText(text), text).toBe(colonsInValue(value));
      expect(findDuplicateKey(text), text).toBeNull();
    }
  });

  it('finds a repeated name wherever it is put, and names the path to it', () => {
    const next = random(3);
    for (let n = 0; n < 3_000; n++) {
      // The inner object's first member is written again, after the others, in a random spelling.
      const text = `{"list":[${stringify(generate(next, 2), next)},{"k":1,"x:y":"a:b",${stringify('k', next)}:2}],"other":${stringify(generate(next, 2), next)}}`;
      const parsed: unknown = JSON.parse(text);
      expect(colonsInText(text), text).not.toBe(colonsInValue(parsed));
      expect(findDuplicateKey(text), text).toEqual({ path: ['list', 1], key: 'k' });
    }
  });

  it('is not fooled by an escaped colon beside a repeat (their counts would cancel without the escapes)', () => {
    const text = '{"id":"x\\u003a","tenure":1,"tenure":2}';
    expect(colonsInText(text)).toBe(4);
    expect(colonsInValue(JSON.parse(text))).toBe(3);
    expect(findDuplicateKey(text)).toEqual({ path: [], key: 'tenure' });
    // An escaped backslash before u003a is no colon.
    expect(colonsInText('{"id":"x\\\\u003a"}')).toBe(1);
  });

  it('walks a body nested thousands of levels deep without running out of stack', () => {
    const deep = `${'['.repeat(20_000)}{"a:":1}${']'.repeat(20_000)}`;
    expect(colonsInValue(JSON.parse(deep))).toBe(2);
    expect(colonsInText(deep)).toBe(2);
    expect(findDuplicateKey(deep)).toBeNull();
  });

  it('names the first repeat in text order when there are several', () => {
    expect(findDuplicateKey('{"a":{"x":1,"x":2},"b":1,"b":2}')).toEqual({ path: ['a'], key: 'x' });
  });
});

describe('numbers JSON.parse reads as 0 though they are not zero', () => {
  const zeros = (n: number) => '0'.repeat(n);

  it.each([
    ['1e-400', true],
    ['-1E-400', true],
    ['100e-326', true], // 1e-324, below half the smallest double
    ['2e-324', true],
    [`0.${zeros(323)}2`, true],
    [`0.${zeros(330)}1e+5`, true],
    ['3e-324', false], // rounds to 5e-324, the smallest double
    ['5e-324', false],
    [`0.${zeros(323)}3`, false],
    ['1e-5', false],
    ['0e-400', false], // zero, however written
    ['-0.000e-9', false],
    ['0E-400', false],
    ['-0.000E-9', false],
    ['-5', false], // below 0 is not too small: the field's own range names it
    ['-1e-5', false],
    ['0', false],
    ['-0', false],
    ['29.85', false],
  ])('%s: %s', (literal, expected) => {
    expect(underflows(literal)).toBe(expected);
  });

  it('finds a number whose fraction matters (0.1e-323 is 1e-324, though 1e-323 is not too small), after text that looks like one and is not', () => {
    // The first look (a regex over the text) must take the number whole: its digits after the
    // point alone (1e-323, 5e-324) are not too small.
    for (const literal of ['0.1e-323', '1.5e-324', '-2.4E-324', `0.${zeros(322)}1e-1`]) {
      expect(underflows(literal), literal).toBe(true);
      expect(findUnderflowingNumber(`{"id":"2e-5 x1e-5","n":[1e-5,${literal}]}`), literal).toEqual({ path: ['n', 1], literal });
    }
  });

  it('names the path with names decoded, as sent in escapes', () => {
    expect(findUnderflowingNumber('{"ten\\u0075re":1e-400}')).toEqual({ path: ['tenure'], literal: '1e-400' });
    expect(findUnderflowingNumber('{"a\\"b":{"c\\\\":[0,1e-400]}}')).toEqual({ path: ['a"b', 'c\\', 1], literal: '1e-400' });
    expect(findDuplicateKey('{"x\\u002ey":{"k":1,"k":2}}')).toEqual({ path: ['x.y'], key: 'k' });
  });

  it('names the first such number by its path, in text order, and nothing in names or strings', () => {
    expect(findUnderflowingNumber('{"a":[1,{"b":2e-400}],"c":1e-999}')).toEqual({ path: ['a', 1, 'b'], literal: '2e-400' });
    expect(findUnderflowingNumber('[0,1.5E-5,-3e-500]')).toEqual({ path: [2], literal: '-3e-500' });
    expect(findUnderflowingNumber('1e-400')).toEqual({ path: [], literal: '1e-400' });
    expect(findUnderflowingNumber(`{"x":0.${zeros(400)}1}`)).toEqual({ path: ['x'], literal: `0.${zeros(400)}1` });
    // Looks like one, but is a name or a string (escapes included); a valid -0 and tiny zeros.
    expect(findUnderflowingNumber(`{"1e-400":"1e-400","s":"\\"1e-400","z":0e-400,"n":-0,"m":"${zeros(400)}1"}`)).toBeNull();
    expect(findUnderflowingNumber('{"contract":"Month-to-month","tenure":0,"charge":1.0e-3}')).toBeNull();
  });

  it('reads each number whole: one starting with 9, the fewest zeros that read as 0, and not the tail of one that does not', () => {
    expect(findUnderflowingNumber('{"t":9e-400}')).toEqual({ path: ['t'], literal: '9e-400' });
    expect(findUnderflowingNumber('[10E-330]')).toEqual({ path: [0], literal: '10E-330' });
    // 2e-324 written out: 323 zeros, the fewest such a number has (the pre-filter must still look at it).
    expect(findUnderflowingNumber(`[1,0.${zeros(323)}2]`)).toEqual({ path: [1], literal: `0.${zeros(323)}2` });
    // 31e-325 reads as 5e-324 (not 0); its tail 1e-325 alone would read as 0.
    expect([Number('31e-325'), underflows('1e-325')]).toEqual([5e-324, true]);
    expect(findUnderflowingNumber('{"c":31e-325}')).toBeNull();
  });

  it('walks a body only when it holds text that reads as 0 though it is not zero, so ids such as line-7, SALE-7 or 2e-5 do not make it walk a batch', () => {
    // The walk held the event loop 50-130 ms on a full batch of such ids. It reads each number
    // it passes with a sticky regex (json-body.ts NUMBER_TOKEN): no such call, no walk.
    const ids = ['line-7', 'SALE-7', 'Store E-12', '2e-5 in words', '1e-400 in words'];
    const body = JSON.stringify(ids.map((customerID) => ({ ...LEGACY_PAYLOAD, customerID })));
    const exec = vi.spyOn(RegExp.prototype, 'exec');
    const walked = () => exec.mock.contexts.some((re) => (re as RegExp).sticky);
    try {
      expect(findUnderflowingNumber(body.replace('1e-400 in words', 'x'))).toBeNull();
      expect(walked()).toBe(false);
      // A string holding what reads like one is walked, and found to be no number.
      expect(findUnderflowingNumber(body)).toBeNull();
      expect(walked()).toBe(true);
    } finally {
      exec.mockRestore();
    }
  });

  it('quotes a number of up to 40 characters in full, and cuts a longer one saying how long it is', () => {
    const forty = `0.${zeros(37)}1`;
    expect(forty).toHaveLength(40);
    expect(quotedNumber(forty)).toBe(forty);
    expect(quotedNumber(`${forty}1`)).toBe(`${forty}… (a number of 41 characters)`);
  });

  it("is REST's first problem, also when checking stopped early or the body is a bare number", () => {
    const refusal = (text: string): HttpProblem => {
      try {
        parseLegacyBody(text, JSON.parse(text), 10_000);
      } catch (err) {
        if (err instanceof HttpProblem) return err;
        throw err;
      }
      throw new Error(`accepted: ${text.slice(0, 80)}`);
    };
    const reason = 'not zero, but too small for a 64-bit number, so it would be read as 0; send 0 if 0 is meant';
    // Empty customers (every field missing) stop the checking long before the last one: its tenure is still named, first.
    const empties = Math.ceil(MAX_COUNTED_ISSUES / 10);
    const tiny = JSON.stringify(LEGACY_PAYLOAD).replace('"tenure":1', '"tenure":1e-400');
    const stopped = refusal(`[${'{},'.repeat(empties)}${tiny}]`);
    expect(stopped.detail).toMatch(/^at least \d+ invalid field\(s\) \(checking stopped there/);
    expect(stopped.errors[0]).toEqual({ path: `[${empties}].tenure`, message: `is 1e-400: ${reason}` });
    expect(refusal('1e-400').errors[0]).toEqual({ path: '(body)', message: `is 1e-400: ${reason}` });
  });

  it('finds one put anywhere in a generated body, and none in the same body without it', () => {
    const next = random(5);
    for (let n = 0; n < 2_000; n++) {
      const before = stringify(generate(next, 1), next);
      const after = stringify(generate(next, 1), next);
      const tiny = ['1e-400', '-7E-999', `0.${zeros(350)}9`][n % 3] as string;
      const text = `{"a":${before},"list":[1,2,{"t":${tiny}}],"b":${after}}`;
      expect(findUnderflowingNumber(text), text).toEqual({ path: ['list', 2, 't'], literal: tiny });
      expect(findUnderflowingNumber(text.replace(tiny, '0')), text).toBeNull();
    }
  });
});

describe("REST's count for a valid customer", () => {
  const ids: (string | null | undefined)[] = [undefined, null, 'c1', 'a:b', '::', 'x'.repeat(40)];
  // SeniorCitizen null is defaulted as one left out is, but it was sent: its member counts.
  it.each(ids.flatMap((id) => [1, null, undefined].map((senior) => [id, senior] as const)))(
    'equals the walk of the parsed body (customerID %j, SeniorCitizen %j)',
    (id, senior) => {
      const customer: Record<string, unknown> = { ...LEGACY_PAYLOAD };
      if (senior !== undefined) customer['SeniorCitizen'] = senior;
      if (id !== undefined) customer['customerID'] = id;
      // The id's colons also as \u003a escapes: the text has none, the parse has them.
      for (const text of [JSON.stringify(customer), JSON.stringify(customer).replaceAll(':', '\\u003a').replace(/"\\u003a/g, '":')]) {
        const parsed: unknown = JSON.parse(text);
        const { requests } = parseLegacyBody(text, parsed, 10);
        const request = requests[0];
        if (!request) throw new Error('no request');
        expect(validCustomerColons(request.record as unknown as Record<string, unknown>, senior === undefined ? 1 : 0), text).toBe(colonsInValue(parsed));
      }
    },
  );
});
