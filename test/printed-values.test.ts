/**
 * What src/schema/printed-values.ts counts when it decides whether an invalid value prints long:
 * the strings it holds, and only the levels graphql-js prints.
 */
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHQL_CUSTOMER, startTestGateway, type TestGateway } from './helpers/index.js';
import { MAX_MESSAGE_CHARS } from '../src/schema/error-codes.js';
import { schema } from '../src/schema/index.js';
import { printsLongerThan, withShortPrintedValues } from '../src/schema/printed-values.js';

const SINGLE = 'mutation P($c: CustomerInput!) { predict(customer: $c) { churnProbability } }';

/** A list of `n` strings of `length` characters: printed, about n × (length + 4) characters. */
const strings = (n: number, length: number) => Array.from({ length: n }, (_, i) => String(i).padEnd(length, 'x'));

describe('printsLongerThan', () => {
  it('counts the characters of the strings a value holds', () => {
    expect(printsLongerThan(strings(4, 200), MAX_MESSAGE_CHARS)).toBe(false);
    expect(printsLongerThan(strings(20, 200), MAX_MESSAGE_CHARS)).toBe(true);
    expect(printsLongerThan({ note: 'x'.repeat(MAX_MESSAGE_CHARS) }, MAX_MESSAGE_CHARS)).toBe(true);
  });

  it('counts what lies below the third level as graphql-js prints it, [Object] or [Array], however large', () => {
    const deep = { a: { b: { c: { d: strings(100, 200) } } } };
    expect(printsLongerThan(deep, MAX_MESSAGE_CHARS)).toBe(false);
    const variables = { c: { ...GRAPHQL_CUSTOMER, extra: deep } };
    expect(withShortPrintedValues(schema, parse(SINGLE), undefined, variables)).toBe(variables);
  });
});

describe('an unknown field, on the real gateway', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ LOG_LEVEL: 'warn' });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
  });

  /** The one error's message for a customer with this `extra` field. */
  const messageFor = async (extra: unknown): Promise<string | undefined> => {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: SINGLE, variables: { c: { ...GRAPHQL_CUSTOMER, extra } } }),
    });
    expect(res.status).toBe(400);
    const { errors } = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) as unknown })]);
    return errors[0]?.message;
  };

  it('is named in a note, not printed', async () => {
    const message = await messageFor(strings(50, 200));
    expect(message).toContain('extra: [Array of 50 items, not printed] }');
    expect(message).not.toContain('0xxxxxxxxx');
  });

  it('a large value below the third level is printed as graphql-js prints it, short', async () => {
    expect(await messageFor({ a: { b: { c: { d: strings(100, 200) } } } })).toContain('extra: { a: { b: [Object] } } }');
  });
});
