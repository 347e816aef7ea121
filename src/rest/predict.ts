/**
 * POST /predict, kept byte-for-byte compatible with the old prototype's callers: one
 * customer (or an array of them) in the data set's column names and values, answered
 * with "prediction" first. Shape errors (zod) and business rules (customer-rules) both
 * come back as one 400 problem listing every field path and what is allowed.
 */
import { z } from 'zod';
import { CUSTOMER_FIELDS, MAX_CHARGE, MAX_LISTED_ISSUES, allowedColumnValues, customerIdProblem, type CustomerField, type CustomerRecord } from '../contract.js';
import { forEachInChunks, handledInChunks } from '../chunked.js';
import { checkCustomerRules, checkRulesOfCheckedColumns, datasetNaming } from '../customer-rules.js';
import { InputProblem, problemPath } from '../http.js';
import { OVERFLOW_REASON, SENT_TWICE, colonsInText, colonsInValue, findDuplicateKey, findUnderflowingNumber, underflowMessage } from '../json-body.js';
import type { CustomerRequest, Prediction } from '../prediction.js';

/**
 * Checking a body stops once this many problems are found: 10,000 empty customers (30 KB) have
 * 180,000, which took the event loop ~170 ms to collect (zod builds every one), so a caller
 * could hold it for seconds with a few kilobytes a second. Below this, the count is exact.
 */
export const MAX_COUNTED_ISSUES = 1000;

/**
 * SeniorCitizen is the only feature old callers may leave out; the default is named in the answer
 * (and in openapi.ts). null is left out too: a client generated from the OpenAPI document
 * (datamodel-code-generator's pydantic models) sends `"SeniorCitizen": null` for a field its caller
 * did not set, as it sends `"customerID": null`.
 */
export const DEFAULTS = { SeniorCitizen: 0 } as const;
const DEFAULT_ENTRIES = Object.entries(DEFAULTS);
const NO_DEFAULTS: readonly string[] = [];

function fieldSchema(f: CustomerField): z.ZodType {
  const allowed = allowedColumnValues(f);
  switch (f.kind) {
    case 'enum':
    case 'yesNo': {
      const values = allowed as [string, ...string[]];
      const oneOf = `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
      return z.enum(values, { error: (issue) => `${oneOf}${sentInsteadOf(issue.input, values)}` });
    }
    case 'flag01':
      // Left out or null: DEFAULTS (SeniorCitizen is the only flag01 column).
      return z.union([z.literal(0), z.literal(1)], { error: (issue) => `must be 0 or 1${sentInstead(issue.input)}` }).nullable().optional();
    case 'months':
      return z.number({ error: (issue) => `must be an integer number of months${sentInstead(issue.input)}` });
    case 'money':
      // JSON's 1e400 arrives as Infinity, which z.number refuses here: the message gives the range.
      return f.nullable
        ? z.number({ error: (issue) => `must be a number from 0 to ${MAX_CHARGE}, or null when not yet billed${sentInstead(issue.input)}` }).nullable()
        : z.number({ error: (issue) => `must be a number from 0 to ${MAX_CHARGE}${sentInstead(issue.input)}` });
  }
}

/** `k` cut at 63 UTF-16 units, or 62 where the 63rd would be the first half of a character (an emoji is two). */
const cutKey = (k: string): string => k.slice(0, k.charCodeAt(62) >= 0xd800 && k.charCodeAt(62) <= 0xdbff ? 62 : 63);

/** A string as a 400 quotes it: at most 64 characters, well-formed. */
const quote = (text: string): string => JSON.stringify((text.length > 64 ? `${cutKey(text)}…` : text).toWellFormed());

/**
 * What was sent instead of the type a field takes, for its message: `"tenure": "12"` was answered
 * only "must be an integer number of months", which 12 is (the prototype's pydantic took the
 * string). Nothing for a missing field (its message says it is required); a number JSON could only
 * carry as Infinity is named as too large, not as the Infinity it was read as. Only called for a field that failed.
 */
function sentInstead(input: unknown): string {
  if (input === undefined) return '';
  // JSON has no NaN or Infinity (findNonJsonNumber names those): a non-finite number was written as one such as 1e400.
  if (typeof input === 'number' && !Number.isFinite(input)) return `; got a number ${OVERFLOW_REASON}`;
  if (typeof input === 'string') return `; got the string ${quote(input)}`;
  if (Array.isArray(input)) return '; got an array';
  if (input === null) return '; got null';
  if (typeof input === 'number' || typeof input === 'boolean') return `; got ${String(input)}`;
  return '; got an object';
}

/**
 * What was sent instead of one of `values`: a string is quoted, and named as the data set spells it
 * when only its case or surrounding spaces differ (`"female"`, `"Month-To-Month"`, `"yes "`: the
 * prototype's callers wrote values by hand, and "must be one of" alone left them to spot the capital).
 */
function sentInsteadOf(input: unknown, values: readonly string[]): string {
  if (typeof input !== 'string') return sentInstead(input);
  const plain = input.trim().toLowerCase();
  const near = values.find((v) => v.toLowerCase() === plain);
  return `; got ${quote(input)}${near === undefined ? '' : ` (spelled ${JSON.stringify(near)} here)`}`;
}

/** The fields a customer may send, by their name in lower case without surrounding spaces. */
const FIELD_NAMES = new Map(['customerID', ...CUSTOMER_FIELDS.map((f) => f.column)].map((name) => [name.toLowerCase(), name]));

/**
 * The field an unknown key names when only its case or surrounding spaces differ (`"Gender"`,
 * `"customerid"`), or undefined: as sentInsteadOf names a value, since the prototype's callers
 * wrote names by hand too, and "unknown field" beside "is required" left them to spot the capital.
 */
const fieldNamed = (key: string): string | undefined => {
  const field = FIELD_NAMES.get(key.trim().toLowerCase());
  return field === key ? undefined : field;
};

/**
 * Unknown keys as the answer names them: the first 10, each cut at 64 characters (a body may hold
 * 200,000 of any length), quoted with any lone surrogate as U+FFFD (JSON.stringify would quote it
 * as the six characters `\ud83d`, which sendProblem cannot tell from text), and with the field
 * meant when only the case or surrounding spaces differ.
 */
function listKeys(keys: readonly string[]): string {
  const shown = keys.slice(0, 10).map((key) => {
    const field = fieldNamed(key);
    return field === undefined ? quote(key) : `${quote(key)} (spelled ${JSON.stringify(field)} here)`;
  });
  return keys.length > 10 ? `${shown.join(', ')} and ${keys.length - 10} more` : shown.join(', ');
}

/** For a field missing from `value`: that it was sent under another case (`(sent as "Gender")`), or ''. */
function sentAs(value: object, field: string): string {
  const key = Object.keys(value).find((k) => fieldNamed(k) === field);
  return key === undefined ? '' : ` (sent as ${quote(key)})`;
}

const customerSchema = z.strictObject(
  {
    // null is no id, as GraphQL's customerId: null is. Its length and well-formedness: the contract's words, both routes.
    customerID: z
      .string({ error: (issue) => `must be a string or null${sentInstead(issue.input)}` })
      .superRefine((id, ctx) => {
        const problem = customerIdProblem(id);
        if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
      })
      .nullable()
      .optional(),
    ...Object.fromEntries(CUSTOMER_FIELDS.map((f) => [f.column, fieldSchema(f)])),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field(s) ${listKeys(issue.keys)}; allowed: customerID, ${CUSTOMER_FIELDS.map((f) => f.column).join(', ')}`
        : `must be a JSON object of customer fields${sentInstead(issue.input)}`,
  },
);

export interface LegacyRequest extends CustomerRequest {
  readonly defaultsApplied: readonly string[];
}

type Issue = { path: string; message: string };

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * colonsInValue (json-body.ts) of a customer zod accepted, from what zod checked instead of a
 * walk: it holds every field but the `unsent` ones (defaulted because they were left out; one
 * sent as null was sent), and customerID when sent; only customerID may hold a colon (no allowed
 * value does, and the names are the contract's). `fields` is zod's output (it has customerID
 * exactly when it was sent).
 */
export function validCustomerColons(fields: Readonly<Record<string, unknown>>, unsent: number): number {
  const n = CUSTOMER_FIELDS.length - unsent;
  return Object.hasOwn(fields, 'customerID') ? n + 1 + colonsInValue(fields['customerID']) : n;
}

/**
 * The key of a body that wraps the customers' array in an object (`{"instances": […]}` as MLflow's
 * /invocations and TF Serving take it, `{"customers": […]}`, `{"dataframe_records": […]}`): one
 * that holds an array, in an object with no key naming a customer field (in any case). Such a body
 * was answered with 18 "is required" problems and the unknown key last, which said nothing of
 * sending the array itself.
 */
function wrappingKey(value: unknown): string | undefined {
  if (!isPlainObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.some((k) => FIELD_NAMES.has(k.trim().toLowerCase()))) return undefined;
  return keys.find((k) => Array.isArray(value[k]));
}

/**
 * Checks one customer; `colons` adds what colonsInValue would count for it (json-body.ts),
 * so that a field sent twice is found without walking every valid customer again.
 */
function parseOne(value: unknown, prefix: string, issues: Issue[], colons: { expected: number }): LegacyRequest | null {
  const parsed = customerSchema.safeParse(value);
  if (!parsed.success) {
    colons.expected += colonsInValue(value);
    const wrapper = prefix === '' ? wrappingKey(value) : undefined;
    if (wrapper !== undefined) {
      issues.push({ path: '(body)', message: `${quote(wrapper)} holds an array: POST the array of customers itself as the body ([{…}, …]), not wrapped in an object` });
      return null;
    }
    const failed = new Set<PropertyKey>();
    for (const i of parsed.error.issues) {
      const key = i.path[0];
      if (key !== undefined) failed.add(key);
      const missing = i.path.length === 1 && typeof value === 'object' && value !== null && !Object.hasOwn(value, key as PropertyKey);
      issues.push({ path: problemPath(i.path, prefix) || '(body)', message: missing ? `is required${sentAs(value, key as string)}; ${i.message}` : i.message });
    }
    if (isPlainObject(value)) {
      // The rules on the columns that passed still run: one bad field must not hide the others.
      const checked = new Set(CUSTOMER_FIELDS.map((f) => f.column).filter((c) => !failed.has(c) && Object.hasOwn(value, c)));
      for (const rule of checkRulesOfCheckedColumns(value, checked, datasetNaming)) issues.push({ path: problemPath([rule.column], prefix), message: rule.message });
    }
    return null;
  }
  // zod's output is a fresh object holding the customer's columns and, when sent, customerID.
  // It becomes the record as it is: the encoder reads columns by name, so customerID rides
  // along unread. (Copying it out with a rest pattern cost as much as the validation.)
  const fields = parsed.data as Record<string, unknown> & { customerID?: string | null };
  let defaultsApplied: string[] | null = null;
  let unsent = 0;
  for (const [column, fallback] of DEFAULT_ENTRIES) {
    const sent = fields[column];
    // Left out or null: the same default, named in the answer either way.
    if (sent === undefined || sent === null) {
      if (sent === undefined) unsent++;
      fields[column] = fallback;
      (defaultsApplied ??= []).push(column);
    }
  }
  colons.expected += validCustomerColons(fields, unsent);
  const record = fields as Record<string, unknown> as CustomerRecord;
  for (const rule of checkCustomerRules(record, datasetNaming)) issues.push({ path: problemPath([rule.column], prefix), message: rule.message });
  return { customerId: fields.customerID ?? null, record, defaultsApplied: defaultsApplied ?? NO_DEFAULTS };
}

/** A body being checked: its text and customers, those checked so far, and the problems found. */
interface Checking {
  readonly text: string;
  readonly batch: boolean;
  readonly items: readonly unknown[];
  readonly requests: (LegacyRequest | null)[];
  readonly issues: Issue[];
  /** colonsInValue of the customers checked so far. */
  readonly colons: { expected: number };
}

function startChecking(text: string, body: unknown, maxBatch: number): Checking {
  const batch = Array.isArray(body);
  if (batch && body.length > maxBatch) {
    throw new InputProblem(`the array has ${body.length} customers; at most ${maxBatch} are allowed per request (MAX_BATCH)`, [
      { path: '(body)', message: `at most ${maxBatch} items` },
    ]);
  }
  return { text, batch, items: batch ? body : [body], requests: [], issues: [], colons: { expected: 0 } };
}

/** Checks customer i; false once checking has stopped at MAX_COUNTED_ISSUES. */
function checkOne(c: Checking, i: number): boolean {
  c.requests.push(parseOne(c.items[i], c.batch ? `[${i}]` : '', c.issues, c.colons));
  return c.issues.length < MAX_COUNTED_ISSUES;
}

/** The checked requests, or the 400 problem listing what was found. */
function finishChecking({ text, batch, items, requests, issues, colons }: Checking): { batch: boolean; requests: LegacyRequest[] } {
  // A field sent twice: JSON.parse kept its last value, which must not be scored (or checked) as
  // if it were the only one. Known once every customer is counted (not when checking stopped early).
  if (requests.length === items.length && colons.expected !== colonsInText(text)) {
    const duplicate = findDuplicateKey(text);
    if (duplicate) issues.unshift({ path: problemPath([...duplicate.path, duplicate.key]), message: SENT_TWICE });
  }
  // A number JSON.parse read as 0 that is not 0 (1e-400): zod saw a valid 0.
  const tiny = findUnderflowingNumber(text);
  if (tiny) issues.unshift({ path: problemPath(tiny.path) || '(body)', message: underflowMessage(tiny.literal) });
  if (issues.length > 0) {
    // Exact once every customer was checked, however many problems (a repeated field found after checking counts one more).
    const count =
      requests.length < items.length
        ? `at least ${MAX_COUNTED_ISSUES} invalid field(s) (checking stopped there, after ${requests.length} of ${items.length} customers)`
        : `${issues.length} invalid field(s)`;
    const listed = issues.length > MAX_LISTED_ISSUES ? `; the first ${MAX_LISTED_ISSUES} are listed in errors` : '';
    throw new InputProblem(
      `${count}${listed}: ${issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`).join('; ')}${issues.length > 5 ? '; …' : ''}`,
      issues.slice(0, MAX_LISTED_ISSUES),
    );
  }
  return { batch, requests: requests as LegacyRequest[] };
}

/** Parses a legacy body: one customer object, or an array of at most `maxBatch`; `text` is the JSON it was parsed from. */
export function parseLegacyBody(text: string, body: unknown, maxBatch: number): { batch: boolean; requests: LegacyRequest[] } {
  const c = startChecking(text, body, maxBatch);
  for (let i = 0; i < c.items.length; i++) if (!checkOne(c, i)) break;
  return finishChecking(c);
}

/** Whether a body is checked in chunks (parseLegacyBodyInChunks) rather than at once. */
export const checkedInChunks = (body: unknown): body is unknown[] => Array.isArray(body) && handledInChunks(body.length);

/**
 * parseLegacyBody for a large array, a chunk of customers at a time (chunked.ts), so other
 * requests are served while it is checked. Same answer, same problems, in the same order.
 * `checkpoint` runs between chunks and throws to stop (forEachInChunks).
 */
export async function parseLegacyBodyInChunks(text: string, body: unknown, maxBatch: number, checkpoint?: () => void): Promise<{ batch: boolean; requests: LegacyRequest[] }> {
  const c = startChecking(text, body, maxBatch);
  await forEachInChunks(c.items.length, (i) => checkOne(c, i), checkpoint);
  return finishChecking(c);
}

/**
 * The legacy answer; "prediction" stays the first key because old callers read it first.
 * Typed by the fields it reads, so openapi.ts can call it to learn the keys and labels it writes.
 */
export function legacyResponse(
  p: Pick<Prediction, 'willChurn' | 'churnProbability' | 'threshold' | 'modelVersion' | 'riskLevel'> & { readonly model: { readonly lineage: { readonly runId: string } } },
  request: Pick<LegacyRequest, 'customerId' | 'defaultsApplied'>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    prediction: p.willChurn ? 'Likely to churn' : 'Not likely to churn',
    churn_probability: p.churnProbability,
    threshold: p.threshold,
    model_version: p.modelVersion,
    risk_level: p.riskLevel,
    // The version alone can name two models (README): the run names one, for audit.
    model_run_id: p.model.lineage.runId,
  };
  if (request.customerId !== null) out['customerID'] = request.customerId;
  if (request.defaultsApplied.length > 0) out['defaults_applied'] = Object.fromEntries(request.defaultsApplied.map((c) => [c, DEFAULTS[c as keyof typeof DEFAULTS]]));
  return out;
}
