/**
 * Numbers that are not zero but read as 0 (1e-400), on /graphql, as callers meet the refusal:
 * the problem's detail names the field (not only its errors entry), a body that is a bare
 * number is named "(body)", and a Float literal of a document is quoted cut when long and
 * located in the document. A mutation sweep found each of these could be broken with every
 * test passing (test/protocol-edges.test.ts checks the errors entries of variables and short
 * literals; test/json-body.test.ts the scanner and REST's checking).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHQL_CUSTOMER, gql, startTestGateway, type TestGateway } from './helpers/index.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

type Problem = { status: number; detail: string; errors?: { path: string; message: string }[] };

const REASON = 'not zero, but too small for a 64-bit number, so it would be read as 0; send 0 if 0 is meant';
const SINGLE = 'mutation S($c: CustomerInput!) { predict(customer: $c) { churnProbability } }';

const post = async (text: string): Promise<{ status: number; problem: Problem }> => {
  const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
  return { status: res.status, problem: (await res.json()) as Problem };
};

describe('a number that reads as 0 without being zero, on /graphql', () => {
  it("is named in the problem's detail by its path, as in its errors entry", async () => {
    const variables = JSON.stringify({ c: GRAPHQL_CUSTOMER }).replace('"monthlyCharges":29.85', '"monthlyCharges":1e-400');
    const { status, problem } = await post(`{"query":${JSON.stringify(SINGLE)},"variables":${variables}}`);
    expect(status).toBe(400);
    expect(problem.detail).toBe(`variables.c.monthlyCharges is 1e-400: ${REASON}`);
    expect(problem.errors).toEqual([{ path: 'variables.c.monthlyCharges', message: `is 1e-400: ${REASON}` }]);
  });

  it('is named "(body)" when the body is that number alone', async () => {
    const { status, problem } = await post('1e-400');
    expect(status).toBe(400);
    expect(problem.detail).toBe(`(body) is 1e-400: ${REASON}`);
    expect(problem.errors).toEqual([{ path: '(body)', message: `is 1e-400: ${REASON}` }]);
  });

  it('as a Float literal of 400 zeros, is quoted cut with its length, and located where the document has it', async () => {
    const literal = `0.${'0'.repeat(400)}1`;
    const document = `query Q($m: Float = ${literal}) { modelInfo { name } }`;
    const { status, body } = await gql(gw.url, document);
    expect(status).toBe(400);
    const error = body.errors?.[0] as { message: string; locations?: unknown; extensions?: Record<string, unknown> };
    expect(error.message).toBe(`Float literal ${literal.slice(0, 40)}… (a number of ${literal.length} characters) is ${REASON}`);
    expect(error.locations).toEqual([{ line: 1, column: document.indexOf(literal) + 1 }]);
    expect(error.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
