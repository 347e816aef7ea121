/**
 * Request bodies as JSON text: valid UTF-8, and objects that name each field once. Both were
 * silently "repaired" before: an invalid byte became U+FFFD (two customer ids that differ in
 * one Latin-1 byte came back the same), and a field sent twice took its last value (a body
 * ending in a second "tenure" flipped the decision). Either is now refused, naming where.
 */
import { isUtf8 } from 'node:buffer';
import { CUSTOMER_FIELDS } from './contract.js';
import { HttpProblem, type BodyCharset } from './http.js';
import { underflows } from './number-text.js';
import { VARIABLE_LIMITS } from './schema/limits.js';

/**
 * Where the first ill-formed UTF-8 sequence starts (Unicode 15, table 3-7), or -1. Only
 * called once `isUtf8` has said there is one, to name it.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) low = 0xa0;
      else if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) low = 0x90;
      else if (b === 0xf4) high = 0x8f;
    } else return i;
    for (let k = 1; k < length; k++) {
      const next = bytes[i + k];
      if (next === undefined || next < (k === 1 ? low : 0x80) || next > (k === 1 ? high : 0xbf)) return i;
    }
    i += length;
  }
  return -1;
}

/**
 * What windows-1252 maps bytes 0x80 to 0x9F to (WHATWG's index-windows-1252: `€` for 0x80, `’` for
 * 0x92; five map to the control character of their own value); every other byte is the code point
 * of its value, as in ISO-8859-1. Decoded here, not by `new TextDecoder('windows-1252')`, which on
 * Node 20.18.3 and later decodes these 32 bytes as ISO-8859-1 does (nodejs/node#56542, #60888).
 */
const WINDOWS_1252_C1 = '\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178';
const C1 = /[\x80-\x9f]/;
const EVERY_C1 = /[\x80-\x9f]/g;

/** A body declared in a charset WHATWG reads as windows-1252 (http.ts checkJsonBodyHeaders): every byte is a character. */
function windows1252(bytes: Buffer): string {
  const text = bytes.toString('latin1');
  return C1.test(text) ? text.replace(EVERY_C1, (c) => WINDOWS_1252_C1[c.charCodeAt(0) - 0x80] as string) : text;
}

/**
 * A body's text: a UTF-8 byte order mark before the JSON is dropped (as the web platform's
 * UTF-8 decode and Express do, and RFC 8259 §8.1 allows: some Windows tools write one, and
 * JSON.parse would refuse the body quoting an invisible character); bytes that are not UTF-8,
 * the only encoding JSON has, are refused with 400 naming the first one and what precedes it.
 * A body whose content-type declared windows-1252 (`charset`, from checkJsonBodyHeaders) is
 * decoded so (a Latin-1 `é` is `é`), unless a byte order mark says otherwise, as WHATWG's
 * decode has it: one of UTF-8 reads it as UTF-8. One of UTF-16, which JSON.parse could not
 * read in any case, is refused with 415 saying so, instead of the byte 0xFF it starts with.
 */
export function bodyText(body: Buffer, charset: BodyCharset = 'utf-8'): string {
  const bom = body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  const bytes = body.subarray(bom);
  if (charset === 'utf-8' || bom !== 0) {
    if (isUtf8(bytes)) return bytes.toString('utf8');
  } else if (utf16ByteOrder(bytes) === null) return windows1252(bytes);
  const utf16 = bom === 0 ? utf16ByteOrder(bytes) : null;
  if (utf16 !== null) {
    throw new HttpProblem(415, 'Unsupported Media Type', `request body is UTF-16 (${utf16}: it starts with the byte order mark ${utf16 === 'little-endian' ? 'FF FE' : 'FE FF'}); send JSON in UTF-8`, [
      { path: '(body)', message: 'must be UTF-8 text' },
    ]);
  }
  const at = firstInvalidUtf8(bytes);
  // Up to 40 bytes before it, from the start of a character (not in the middle of one).
  let from = Math.max(0, at - 40);
  while (from < at && ((bytes[from] as number) & 0xc0) === 0x80) from++;
  const before = bytes.subarray(from, at).toString('utf8');
  throw new HttpProblem(
    400,
    'Bad Request',
    `request body is not valid UTF-8: byte 0x${(bytes[at] ?? 0).toString(16).toUpperCase().padStart(2, '0')} at offset ${bom + at}, after ${JSON.stringify(before)}; send JSON in UTF-8 (other encodings are not converted)`,
    [{ path: '(body)', message: 'must be UTF-8 text' }],
  );
}

/** The byte order of a UTF-16 byte order mark at the start of `bytes`, or null. */
function utf16ByteOrder(bytes: Uint8Array): 'little-endian' | 'big-endian' | null {
  if (bytes.length < 2) return null;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'little-endian';
  return bytes[0] === 0xfe && bytes[1] === 0xff ? 'big-endian' : null;
}

const COLON = ':';

function colonsIn(text: string): number {
  let n = 0;
  for (let i = text.indexOf(COLON); i !== -1; i = text.indexOf(COLON, i + 1)) n++;
  return n;
}

/** `\u003a` / `\u003A` escapes (a colon once parsed), not those whose backslash is itself escaped. */
const ESCAPED_COLON = /(?<!\\)(?:\\\\)*\\u003[aA]/g;

/**
 * The colons of a JSON text, escaped ones included: one per member of every object, plus one
 * for each colon inside a string (key or value). The parsed value has one colon fewer per
 * member that a later member of the same name replaced; so a text whose count differs from
 * `colonsInValue` of its parse repeats a name (findDuplicateKey says where), and one whose
 * count agrees repeats none.
 */
export function colonsInText(text: string): number {
  let n = colonsIn(text);
  if (text.includes('\\u')) n += text.match(ESCAPED_COLON)?.length ?? 0;
  return n;
}

/**
 * The same count on the parsed value: its members, and the colons of its strings. A loop with
 * its own stack, not recursion: a body nested 6,000 levels deep (12 KB) overflowed the call
 * stack, a 500 where the limits below answer 400.
 */
export function colonsInValue(value: unknown): number {
  let n = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'string') {
      if (item.includes(COLON)) n += colonsIn(item);
    } else if (Array.isArray(item)) {
      // A number, boolean or null holds no colon: not pushed (a list of 1.5 million numbers pushed each).
      for (const element of item) if (typeof element === 'string' || (typeof element === 'object' && element !== null)) pending.push(element);
    } else if (typeof item === 'object' && item !== null) {
      // Own keys only: an enumerable property someone added to Object.prototype is no member.
      for (const key of Object.keys(item)) {
        n += 1;
        if (key.includes(COLON)) n += colonsIn(key);
        pending.push((item as Record<string, unknown>)[key]);
      }
    }
  }
  return n;
}

/**
 * How a 400 starts for a body with no JSON in it (Content-Length 0, only whitespace, or an HTTP/1.0
 * POST without a length, whose body node never reads), on either route, before what to send:
 * JSON.parse's own "Unexpected end of JSON input" read as if the JSON had been cut off.
 */
export const EMPTY_BODY = 'request body is empty';

/** Whether a body JSON.parse refused holds no JSON at all (EMPTY_BODY): only looked at once it has refused it. */
export const isEmptyBody = (text: string): boolean => text.trim() === '';

/** What a 400 says of a field sent twice, on either route. */
export const SENT_TWICE = 'is sent more than once; send each field once';

/** A field named twice in one object: the object's path and the name. */
export interface DuplicateKey {
  readonly path: readonly (string | number)[];
  readonly key: string;
}

interface Frame {
  /** Whether it is an object (else an array). */
  readonly object: boolean;
  /** The names read so far (objects, when a visitor reads names), else null. */
  readonly keys: Set<string> | null;
  /**
   * The member or element being read: its index (arrays), or its name as written (objects:
   * quotes and escapes included, decoded only for a path: pathOf).
   */
  at: string | number;
}

/** Where a frame of the stack is: names decoded, indexes as they are. */
const pathOf = (frames: readonly Frame[]): (string | number)[] => frames.map((f) => (typeof f.at === 'number' ? f.at : (JSON.parse(f.at) as string)));

/** What scanJsonText reports; returning true stops the scan. */
interface TextVisitor {
  /** A member's name, decoded, before the frame records it (`frame.keys` holds the earlier ones). */
  readonly key?: (key: string, frame: Frame, stack: readonly Frame[]) => boolean;
  /** A number, as written (`stack` leads to it). */
  readonly number?: (literal: string, stack: readonly Frame[]) => boolean;
  /** NaN, Infinity or -Infinity outside a string (`stack` leads to it): not JSON, so only in a text JSON.parse refused. */
  readonly nonJsonNumber?: (literal: string, stack: readonly Frame[]) => boolean;
}

/** A JSON number as written; `y`: matched where lastIndex says. */
const NUMBER_TOKEN = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/** What Python's json.dumps (and JavaScript's own number printing) writes for a float NaN or infinity. */
const NON_JSON_NUMBER = /NaN|-?Infinity/y;

/**
 * Walks a JSON text in text order, keeping the path to where it is, and reports names and
 * numbers to `visitor` until it returns true. Names are decoded only for a `key` visitor (a
 * JSON.parse each: most of the walk's time). `text` must be valid JSON (it was parsed first),
 * except for a `nonJsonNumber` visitor, which looks for those in a text JSON.parse refused.
 */
function scanJsonText(text: string, visitor: TextVisitor): void {
  const stack: Frame[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top?.object) {
        const written = text.slice(i, end + 1);
        if (top.keys && visitor.key) {
          const key = JSON.parse(written) as string;
          if (visitor.key(key, top, stack)) return;
          top.keys.add(key);
        }
        top.at = written;
        expectKey = false;
      }
      i = end;
    } else if (c === '{') {
      stack.push({ object: true, keys: visitor.key ? new Set() : null, at: '""' });
      expectKey = true;
    } else if (c === '[') {
      stack.push({ object: false, keys: null, at: 0 });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.object) expectKey = true;
      else if (top) top.at = (top.at as number) + 1;
    } else if (visitor.nonJsonNumber && (c === 'N' || c === 'I' || (c === '-' && text[i + 1] === 'I'))) {
      NON_JSON_NUMBER.lastIndex = i;
      const literal = NON_JSON_NUMBER.exec(text)?.[0];
      if (literal !== undefined && visitor.nonJsonNumber(literal, stack)) return;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER_TOKEN.lastIndex = i;
      const literal = (NUMBER_TOKEN.exec(text) as RegExpExecArray)[0];
      if (visitor.number?.(literal, stack)) return;
      i += literal.length - 1;
    }
  }
}

/**
 * The first field named twice in one object of a JSON text (in text order), or null. Names
 * are compared as parsed, escapes decoded. `text` must be valid JSON (it was parsed first).
 */
export function findDuplicateKey(text: string): DuplicateKey | null {
  let found: DuplicateKey | null = null;
  scanJsonText(text, {
    key: (key, frame, stack) => {
      if (!frame.keys?.has(key)) return false;
      found = { path: pathOf(stack.slice(0, -1)), key };
      return true;
    },
  });
  return found;
}

/** A number of a JSON text that JSON.parse reads as 0 although it is not zero, and where it is. */
export interface UnderflowingNumber {
  /** The path to the number: names and indexes from the text's top level. */
  readonly path: readonly (string | number)[];
  /** The number as written. */
  readonly literal: string;
}

/**
 * Zeros a number written without a negative exponent needs in a row to be read as 0: the
 * smallest double, 5e-324, has 323 after the decimal point. Fewer than this many anywhere in a
 * text, and no digit before an `e-` or `E-`, and it holds no such number.
 */
const UNDERFLOW_ZEROS = '0'.repeat(300);

/**
 * What a number that reads as 0 though it is not zero looks like: a negative exponent, or
 * UNDERFLOW_ZEROS after `0.`. Never starting after a digit or a point, where no JSON number starts:
 * without that, a run of n digits (in a string: `"111…"` beside a `1e-1` anywhere in the body) was
 * tried from each of its digits, each try reading to the run's end and backing off a digit at a
 * time, O(n²): 60,000 digits held the event loop 8 s, a 5 MB body hours.
 */
const UNDERFLOW_CANDIDATE = /(?<![0-9.])-?[0-9]+(?:\.[0-9]+)?[eE]-[0-9]+|(?<![0-9.])0\.0{300,}[0-9]*(?:[eE][+-]?[0-9]+)?/g;

/**
 * Whether a `-` of the text follows a digit and an `e` or `E` (a negative exponent, or text in a
 * string that looks like one). The digit keeps ids such as line-7 or SALE-7 from costing a walk
 * of the whole body (~130 ms on a full batch): a JSON number has one before its `e`.
 */
function hasNegativeExponent(text: string): boolean {
  for (let i = text.indexOf('-'); i !== -1; i = text.indexOf('-', i + 1)) {
    const before = text.charCodeAt(i - 1);
    if (before !== 0x65 && before !== 0x45) continue;
    const digit = text.charCodeAt(i - 2);
    if (digit >= 0x30 && digit <= 0x39) return true;
  }
  return false;
}

/**
 * The first number of a JSON text whose digits are not all zero but whose magnitude is below
 * the smallest double (1e-400, or 0. and 400 zeros and a 1), or null: JSON.parse reads it as 0
 * without a word, and a tenure or charge of 0 is a valid customer (a new one), so the caller
 * would be scored as one they did not send. `text` must be valid JSON. Costs two searches of
 * the text when it holds none (every request body).
 */
export function findUnderflowingNumber(text: string): UnderflowingNumber | null {
  if (!hasNegativeExponent(text) && !text.includes(UNDERFLOW_ZEROS)) return null;
  // The walk costs ~50-130 ms on a full batch: first, whether any text that looks like such a
  // number, in a string or not, reads as 0 (a JSON number matches from its start).
  let candidate = false;
  for (const [written] of text.matchAll(UNDERFLOW_CANDIDATE)) {
    if (underflows(written)) {
      candidate = true;
      break;
    }
  }
  if (!candidate) return null;
  let found: UnderflowingNumber | null = null;
  scanJsonText(text, {
    number: (literal, stack) => {
      if (!underflows(literal)) return false;
      found = { path: pathOf(stack), literal };
      return true;
    },
  });
  return found;
}

/**
 * Where a text JSON.parse refused holds NaN, Infinity or -Infinity as a value, and what it
 * says of it, or null. Python's json.dumps writes them for float NaN and infinities (pandas
 * reads the data set's blank TotalCharges as NaN); JSON.parse's own message quotes the text
 * around the first one without saying which customer or field it is.
 */
export function findNonJsonNumber(text: string): { path: readonly (string | number)[]; message: string } | null {
  let found: { path: readonly (string | number)[]; message: string } | null = null;
  try {
    scanJsonText(text, {
      nonJsonNumber: (literal, stack) => {
        const why = literal === 'NaN' ? 'a float NaN, such as a blank TotalCharges pandas read); send a number, or null for a TotalCharges not yet billed' : 'a float infinity); send a number';
        found = { path: pathOf(stack), message: `is ${literal}, which JSON does not have (Python's json.dumps writes it for ${why}` };
        return true;
      },
    });
  } catch {
    // The walk reads JSON: other faults of the text before it (a name that is no JSON string, a
    // minus sign without a number) can stop it. JSON.parse's own message then stands.
    return null;
  }
  return found;
}

/** Longest number quoted in full in a message. */
const QUOTED_NUMBER_CHARS = 40;

/** A number as written, for a message: cut after QUOTED_NUMBER_CHARS characters (0. and 400 zeros is one). */
export function quotedNumber(literal: string): string {
  return literal.length <= QUOTED_NUMBER_CHARS ? literal : `${literal.slice(0, QUOTED_NUMBER_CHARS)}… (a number of ${literal.length} characters)`;
}

/** Why an UnderflowingNumber is refused, on either route and in GraphQL documents. */
export const UNDERFLOW_REASON = 'not zero, but too small for a 64-bit number, so it would be read as 0; send 0 if 0 is meant';

/**
 * What a number too large for a 64-bit float is read as, for the messages that refuse it: JSON.parse
 * and GraphQL read 1e400 as Infinity, and a message quoting "Infinity" names a value the caller never wrote.
 */
export const OVERFLOW_REASON = "beyond a 64-bit number's range (±1.8e308), so it would be read as an infinity";

/** What a 400 says of an UnderflowingNumber in a request body. */
export const underflowMessage = (literal: string): string => `is ${quotedNumber(literal)}: ${UNDERFLOW_REASON}`;

/**
 * JSON objects and arrays a body may hold beyond one per customer of a full batch (MAX_BATCH).
 * JSON.parse, and every walk of the parsed value after it, costs per value: a body of tiny ones
 * costs 10-25 times what a valid batch of its size does (4 MB of `[`, or of `{}` customers, held
 * the event loop 0.5-1.5 s; on /graphql, 1.7 million `{}` customers 7-10 s), and every other
 * caller waits meanwhile. Refused before JSON.parse, on both routes.
 */
export const EXTRA_CONTAINERS = 256;

/**
 * A body may also hold one object or array per this many characters: a batch too large (more
 * than MAX_BATCH real customers, ~400 characters each) is then still answered by the batch-size
 * check, in its route's shape (GraphQL's BAD_USER_INPUT naming MAX_BATCH), while JSON.parse of
 * values this large costs about what a valid batch of the same size does.
 */
export const CHARS_PER_CONTAINER = 64;

/** Bodies of at most this many characters are not counted: they cannot hold many (the single prediction's hot path). */
export const CONTAINERS_COUNTED_FROM = 65_536;

/** Occurrences of `c` in `text`, counting stopped past `max`. */
function countUpTo(text: string, c: string, max: number): number {
  let n = 0;
  for (let i = text.indexOf(c); i !== -1 && n <= max; i = text.indexOf(c, i + 1)) n++;
  return n;
}

/** Objects and arrays opened outside strings, counting stopped past `max`. */
function containersOutsideStrings(text: string, max: number): number {
  let n = 0;
  let inString = false;
  for (let i = 0; i < text.length && n <= max; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) n++;
  }
  return n;
}

/**
 * Members one JSON object of a body over CONTAINERS_COUNTED_FROM may have, counted before
 * JSON.parse: GraphQL's bound on an object in variables (VARIABLE_LIMITS), so both routes refuse
 * at one number. A customer has 20 fields (customerID and the columns), a GraphQL body 4. One object of 600,000 unknown keys
 * (5 MB) cost JSON.parse ~0.94 s and held the event loop 1.5-2.6 s in all, where a valid batch of
 * that size holds it under 0.2 s; GraphQL's own check of the bound came only after the parse.
 */
export const MAX_OBJECT_MEMBERS = VARIABLE_LIMITS.maxObjectKeys;

/** Where the string opened by the `"` at `open` ends (its closing `"`: one after an even run of backslashes), or -1. */
function stringEnd(text: string, open: number): number {
  for (let j = text.indexOf('"', open + 1); j !== -1; j = text.indexOf('"', j + 1)) {
    let k = j - 1;
    while (text.charCodeAt(k) === 0x5c) k--;
    if ((j - 1 - k) % 2 === 0) return j;
  }
  return -1;
}

/**
 * Whether an object of the text has more than `max` members: colons outside strings, counted for
 * each open object (a stack of the enclosing ones' counts). Strings are jumped over with indexOf,
 * so a colon in a value (a customerID "a:b:c") or a name is never counted. Measured in-process
 * (medians of 200 runs on a loaded 2-core machine): 18-28 ms on a valid 10,000-customer batch of
 * data-set rows (4.6 MB; 21-23 ms written with json.dumps' spaces, 5.0 MB), 1.0-1.8 ms on a
 * 1,000-customer one; JSON.parse of the same bodies took 35-47 ms and 1.7-2.2 ms. A loop reading
 * strings a character at a time cost 2.5-4 times as much.
 */
function objectOverMembers(text: string, max: number): boolean {
  const enclosing: number[] = [];
  let members = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = stringEnd(text, i);
      if (end === -1) return false; // not JSON: JSON.parse says so
      i = end;
    } else if (c === 0x3a) {
      if (++members > max) return true;
    } else if (c === 0x7b || c === 0x5b) {
      enclosing.push(members);
      members = 0;
    } else if (c === 0x7d || c === 0x5d) {
      members = enclosing.pop() ?? 0;
    }
  }
  return false;
}

/** The objects and arrays a body of `length` characters may hold: MAX_BATCH + EXTRA_CONTAINERS, or one per CHARS_PER_CONTAINER characters if that is more. */
export function maxContainers(length: number, maxBatch: number): number {
  return Math.max(maxBatch + EXTRA_CONTAINERS, Math.floor(length / CHARS_PER_CONTAINER));
}

/**
 * Refuses, before it is parsed, a body over CONTAINERS_COUNTED_FROM that holds more objects and
 * arrays than maxContainers allows, or an object of more than MAX_OBJECT_MEMBERS members. `{` and
 * `[` are counted with indexOf (fast: a valid batch holds one `{` per customer); only a body over
 * the count is counted again skipping strings, where brackets are text (a customerId may hold
 * them). The members are counted in one pass skipping strings (objectOverMembers).
 */
export function checkJsonCounts(text: string, maxBatch: number): void {
  if (text.length <= CONTAINERS_COUNTED_FROM) return;
  const max = maxContainers(text.length, maxBatch);
  if (countUpTo(text, '{', max) + countUpTo(text, '[', max) > max && containersOutsideStrings(text, max) > max) {
    throw new HttpProblem(
      400,
      'Bad Request',
      `request body of ${text.length} characters holds more than ${max} JSON objects and arrays; a request needs one per customer (at most MAX_BATCH, ${maxBatch}) and a few more`,
      [{ path: '(body)', message: `must hold at most ${max} JSON objects and arrays (MAX_BATCH + ${EXTRA_CONTAINERS}, or one per ${CHARS_PER_CONTAINER} characters)` }],
    );
  }
  if (objectOverMembers(text, MAX_OBJECT_MEMBERS)) {
    throw new HttpProblem(
      400,
      'Bad Request',
      `request body of ${text.length} characters holds a JSON object of more than ${MAX_OBJECT_MEMBERS} members; at most ${MAX_OBJECT_MEMBERS} are accepted (a customer has ${CUSTOMER_FIELDS.length + 1} fields)`,
      [{ path: '(body)', message: `must hold at most ${MAX_OBJECT_MEMBERS} members in each JSON object` }],
    );
  }
}
