/**
 * Abuse limits and exposure settings: GraphQL depth, aliases, tokens and cost; body size;
 * introspection and field suggestions; CORS closed unless configured.
 */
import { readFile } from 'node:fs/promises';
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printSortedSchema } from '../scripts/print-schema.js';
import { loadConfig } from '../src/config.js';
import { SUGGESTION_MASK } from '../src/schema/error-codes.js';
import { MAX_DIRECTIVES, SCHEMA_SDL_FILE } from '../src/schema/limits.js';
import { GRAPHQL_CUSTOMER, customerLiteral, gql, startTestGateway, type TestGateway } from './helpers/index.js';

let open: TestGateway;
let prod: TestGateway;
let tight: TestGateway;
beforeAll(async () => {
  [open, tight, prod] = await Promise.all([
    startTestGateway({ BODY_LIMIT_BYTES: '100000', CORS_ORIGINS: 'https://retention.example.com', GRAPHQL_MAX_DEPTH: '4' }),
    startTestGateway({ GRAPHQL_MAX_COST: '12' }),
    startTestGateway({ NODE_ENV: 'production', INTROSPECTION_ENABLED: 'false' }),
  ]);
});
afterAll(() => Promise.all([open.close(), prod.close(), tight.close()]));

const rejected = async (gw: TestGateway, query: string, message: RegExp) => {
  const res = await gql(gw.url, query);
  expect(res.status).toBe(400);
  expect(res.body.errors?.[0]?.message).toMatch(message);
  expect(res.body.errors?.[0]?.extensions?.['code']).toMatch(/^GRAPHQL_(PARSE|VALIDATION)_FAILED$/);
};

describe('GraphQL limits', () => {
  it('refuses documents nested deeper than GRAPHQL_MAX_DEPTH', async () => {
    expect((await gql(open.url, '{ modelInfo { params { key } } }')).status).toBe(200);
    await rejected(open, '{ modelInfo { params { key { a { b } } } } }', /[Dd]epth limit of 4/);
  });

  it('refuses too many aliases', async () => {
    await rejected(open, `{ ${Array.from({ length: 7 }, (_, i) => `a${i}: modelInfo { name }`).join(' ')} }`, /[Aa]liases limit/);
  });

  it(`refuses more than MAX_DIRECTIVES (${MAX_DIRECTIVES}) directives in one document`, async () => {
    const withDirectives = (n: number) => `{ modelInfo { ${Array.from({ length: n }, () => 'name @include(if: true)').join(' ')} } }`;
    expect((await gql(open.url, withDirectives(MAX_DIRECTIVES))).status).toBe(200);
    await rejected(open, withDirectives(MAX_DIRECTIVES + 1), /[Dd]irectives limit/);
  });

  it('refuses too many tokens', async () => {
    await rejected(open, `{ modelInfo { ${'name '.repeat(1200)}} }`, /Token limit/);
  });

  it('says, when customers written in the document go over the token limit, to send them as variables, which are not counted', async () => {
    // GraphiQL's Explorer writes arguments inline: each customer is ~60 tokens, so ~16 reach the default limit.
    const n = loadConfig({}).GRAPHQL_MAX_TOKENS;
    // A customer is 20 fields of at least 3 tokens each: n / 20 of them are well over the limit.
    const count = Math.ceil(n / 20);
    const written = await gql(open.url, `mutation Batch { predictBatch(customers: [${Array.from({ length: count }, () => customerLiteral()).join(', ')}]) { churnProbability } }`);
    expect(written.status).toBe(400);
    expect(written.body.errors).toEqual([
      {
        message: `Syntax Error: Token limit of ${n} exceeded. Values written in the document count, variables do not: send customers as variables, as in mutation Batch($customers: [CustomerInput!]!) { predictBatch(customers: $customers) { churnProbability } } with {"customers": [...]}.`,
        extensions: { code: 'GRAPHQL_PARSE_FAILED' },
      },
    ]);
    // The cure, as the message writes it.
    const customers = Array.from({ length: count }, () => GRAPHQL_CUSTOMER);
    const sent = await gql<{ predictBatch: unknown[] }, { customers: typeof customers }>(open.url, 'mutation Batch($customers: [CustomerInput!]!) { predictBatch(customers: $customers) { churnProbability } }', { customers });
    expect(sent.status).toBe(200);
    expect(sent.body.data?.predictBatch).toHaveLength(count);
  });

  it('refuses documents over GRAPHQL_MAX_COST', async () => {
    expect((await gql(tight.url, '{ modelInfo { name version } }')).status).toBe(200);
    await rejected(tight, '{ modelInfo { params { key value } metrics { key value } features { name kind allowedValues } riskBands { mediumFrom highFrom } } }', /Cost limit of 12/);
  });

  it('refuses bodies above BODY_LIMIT_BYTES on /graphql with 413', async () => {
    const res = await fetch(`${open.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ modelInfo { name } }', variables: { pad: 'x'.repeat(200_000) } }),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
  });
});

describe('exposure', () => {
  it('serves introspection by default, for auditors and GraphiQL', async () => {
    const res = await gql(open.url, '{ __schema { queryType { name } } }');
    expect(res.body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });

  it('refuses introspection when INTROSPECTION_ENABLED=false', async () => {
    await rejected(prod, '{ __schema { queryType { name } } }', /introspection/i);
  });

  it('answers the standard introspection query, when introspection is off, with one error that says where the schema is', async () => {
    // A client generator's query: graphql-js's rule refused each of its 39 introspection fields, and none named the SDL.
    const res = await gql(prod.url, getIntrospectionQuery());
    expect(res.status).toBe(400);
    expect(res.body.errors).toHaveLength(1);
    const [error] = res.body.errors ?? [];
    expect(error?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(error?.message).toBe(
      'GraphQL introspection has been disabled, but the requested query contained the field "__schema". The schema is published as ' +
        `${SCHEMA_SDL_FILE} in the gateway's repository (its README's GraphQL section links it): generate clients from that file.`,
    );
    // The file named is the committed SDL, and the README links it.
    expect(await readFile(new URL(`../${SCHEMA_SDL_FILE}`, import.meta.url), 'utf8')).toBe(printSortedSchema());
    expect(await readFile(new URL('../README.md', import.meta.url), 'utf8')).toContain(`[${SCHEMA_SDL_FILE}](${SCHEMA_SDL_FILE})`);
    // Still refused, each: __type too; __typename is no introspection of the schema.
    await rejected(prod, '{ __type(name: "Query") { name } }', /contained the field "__type"/);
    await rejected(prod, '{ modelInfo { name } __schema { types { name } } }', /contained the field "__schema"/);
    const typename = await gql(prod.url, '{ __typename modelInfo { __typename } }');
    expect([typename.status, typename.body]).toEqual([200, { data: { __typename: 'Query', modelInfo: { __typename: 'ModelInfo' } } }]);
  });

  it('suggests field names in development but not in production', async () => {
    const dev = await gql(open.url, '{ modelInfo { nam } }');
    expect(dev.body.errors?.[0]?.message).toMatch(/Did you mean "name"/);
    const production = await gql(prod.url, '{ modelInfo { nam } }');
    expect(production.status).toBe(400);
    expect(production.body.errors?.[0]?.message).not.toMatch(/Did you mean/);
    // Nor in enum literals or variables, which graphql-armor's masking does not see.
    const customer = { ...GRAPHQL_CUSTOMER, tenur: 1, gender: 'FEMAL' };
    const doc = 'mutation P($c: CustomerInput!) { predict(customer: $c) { riskLevel } }';
    for (const [gw, hidden] of [[prod, true], [open, false]] as const) {
      const variableErrors = await gql(gw.url, doc, { c: customer });
      const literal = await gql(gw.url, 'mutation { predict(customer: {gender: FEMAL}) { riskLevel } }');
      const messages = [...(variableErrors.body.errors ?? []), ...(literal.body.errors ?? [])].map((e) => e.message);
      expect(messages.length).toBeGreaterThanOrEqual(3);
      expect(messages.some((m) => /Did you mean/.test(m))).toBe(!hidden);
      expect(messages.some((m) => m.includes(SUGGESTION_MASK))).toBe(hidden);
      const issues = variableErrors.body.errors?.flatMap((e) => (e.extensions?.['issues'] as { message: string }[]) ?? []) ?? [];
      expect(issues.some((i) => /Did you mean/.test(i.message))).toBe(!hidden);
    }
  });

  it('names the allowed values of a refused enum value, in production too, in variables and in literals', async () => {
    const doc = 'mutation P($c: CustomerInput!) { predict(customer: $c) { riskLevel } }';
    for (const gw of [prod, open]) {
      for (const [field, value] of [['gender', 'Female'], ['contract', 'monthly'], ['paymentMethod', 3]] as const) {
        const res = await gql(gw.url, doc, { c: { ...GRAPHQL_CUSTOMER, [field]: value } });
        expect(res.status).toBe(400);
        const issues = (res.body.errors?.[0]?.extensions?.['issues'] ?? []) as { path: unknown[]; message: string }[];
        expect(issues).toHaveLength(1);
        expect(issues[0]?.path).toEqual(['c', field]);
        const allowed = { gender: 'FEMALE, MALE', contract: 'MONTH_TO_MONTH, ONE_YEAR, TWO_YEAR', paymentMethod: 'ELECTRONIC_CHECK, MAILED_CHECK, BANK_TRANSFER_AUTOMATIC, CREDIT_CARD_AUTOMATIC' }[field];
        expect(issues[0]?.message).toMatch(new RegExp(`; allowed: ${allowed}\\.$`));
      }
      const literal = await gql(gw.url, 'mutation { predict(customer: {gender: Female}) { riskLevel } }');
      expect(literal.body.errors?.map((e) => e.message)).toContain('Value "Female" does not exist in "Gender" enum; allowed: FEMALE, MALE.');
    }
  });

  it('sends no CORS headers to origins that are not configured', async () => {
    const res = await fetch(`${prod.url}/graphql`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const other = await fetch(`${open.url}/`, { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows exactly the configured origins', async () => {
    const preflight = await fetch(`${open.url}/graphql`, { method: 'OPTIONS', headers: { origin: 'https://retention.example.com', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://retention.example.com');
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/POST/);
    // A browser may send the JSON body, the admin token (reloadModel) and its own request id.
    const allowed = preflight.headers.get('access-control-allow-headers')?.split(',').map((h) => h.trim());
    expect(allowed).toEqual(expect.arrayContaining(['content-type', 'authorization', 'x-request-id']));
  });
});
