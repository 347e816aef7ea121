/**
 * The compiled path's admission check: it must never admit variables that graphql-js would
 * refuse (then graphql-jit's looser coercion would answer them), and it must turn away the
 * shapes that make graphql-jit slow or wrong (empty or unknown-keyed customers, missing
 * variables, nulls where a default stands).
 */
import fc from 'fast-check';
import { getVariableValues, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { CONTRACT_ENUMS, CUSTOMER_FIELDS } from '../src/contract.js';
import { CACHED_DOCUMENTS } from '../src/graphql-endpoint.js';
import { admissionFor, isWellFormedCustomer } from '../src/schema/fast-path-admission.js';
import { PreparedOperations } from '../src/schema/prepared-operations.js';
import { schema } from '../src/schema/index.js';
import { GRAPHQL_CUSTOMER } from './helpers/index.js';

const operation = (text: string) => parse(text).definitions[0] as OperationDefinitionNode;
const SINGLE = operation('mutation P($c: CustomerInput!) { predict(customer: $c) { churnProbability } }');
const BATCH = operation('mutation B($cs: [CustomerInput!]!) { predictBatch(customers: $cs) { churnProbability } }');

/** What graphql-js says of the variables (the reference the admission must never contradict). */
const graphqlAccepts = (op: OperationDefinitionNode, variables: Record<string, unknown>) => getVariableValues(schema, op.variableDefinitions ?? [], variables, { maxErrors: 1 }).errors === undefined;

// A value of any kind a field might be sent, right or wrong.
const anyValue = fc.oneof(
  fc.boolean(),
  fc.integer({ min: -(2 ** 33), max: 2 ** 33 }),
  fc.double(),
  fc.constantFrom(0, 1, -0, 1.5, 2 ** 31 - 1, 2 ** 31, 1e309, Number.NaN),
  fc.constantFrom(...Object.values(CONTRACT_ENUMS).flatMap((e) => [...Object.keys(e), ...Object.values(e)]), 'female', ''),
  fc.string({ maxLength: 4 }),
  fc.constant(null),
  fc.constant({}),
  fc.constant([]),
);
const FIELD_NAMES = ['customerId', ...CUSTOMER_FIELDS.map((f) => f.field)];
// A valid customer with up to three fields changed, removed or added.
const customer = fc
  .array(fc.tuple(fc.constantFrom(...FIELD_NAMES, 'colour', '__proto__'), fc.oneof(anyValue, fc.constant(undefined))), { maxLength: 3 })
  .map((edits) => {
    const c: Record<string, unknown> = { ...GRAPHQL_CUSTOMER };
    for (const [key, value] of edits) {
      if (value === undefined) delete c[key];
      else Object.defineProperty(c, key, { value, enumerable: true, configurable: true, writable: true });
    }
    return c;
  });

describe('compiled documents', () => {
  it('are kept up to CACHED_DOCUMENTS, the oldest learned going first; conditional ones are not compiled', () => {
    const prepared = new PreparedOperations(schema, CACHED_DOCUMENTS);
    const doc = (i: number) => `query Q${i} { modelInfo { name } }`;
    for (let i = 0; i < CACHED_DOCUMENTS + 50; i++) prepared.learn(doc(i), null);
    expect(prepared.size).toBe(CACHED_DOCUMENTS);
    expect(prepared.get(doc(0), null)).toBeUndefined();
    expect(prepared.get(doc(CACHED_DOCUMENTS + 49), null)?.label).toBe(`Q${CACHED_DOCUMENTS + 49}`);
    prepared.learn('query C($x: Boolean!) { modelInfo { name @include(if: $x) } }', null);
    expect(prepared.get('query C($x: Boolean!) { modelInfo { name @include(if: $x) } }', null)).toBeUndefined();
  });
});

describe('fast-path admission', () => {
  it('never admits a customer graphql-js refuses, and admits the valid ones it is given', () => {
    let admitted = 0;
    let accepted = 0;
    fc.assert(
      fc.property(customer, (c) => {
        const wellFormed = isWellFormedCustomer(c);
        const accepts = graphqlAccepts(SINGLE, { c });
        if (wellFormed) {
          admitted++;
          expect(accepts).toBe(true);
          expect(graphqlAccepts(BATCH, { cs: [c, GRAPHQL_CUSTOMER] })).toBe(true);
        }
        // Whatever graphql-js accepts is admitted, but for the two shapes left to Yoga: totalCharges
        // left out (the resolver asks for it to be sent) and an integer customerId (an ID
        // graphql-js turns into a string).
        if (accepts && Object.hasOwn(c, 'totalCharges') && typeof c['customerId'] !== 'number') {
          accepted++;
          expect(wellFormed, JSON.stringify(c)).toBe(true);
        }
      }),
      { numRuns: 5000, seed: 20261129 },
    );
    expect(admitted).toBeGreaterThan(500);
    expect(accepted).toBe(admitted);
    expect(isWellFormedCustomer(GRAPHQL_CUSTOMER)).toBe(true);
    expect(isWellFormedCustomer({ ...GRAPHQL_CUSTOMER, tenure: 0, totalCharges: null, customerId: null })).toBe(true);
  });

  it('turns away what makes graphql-jit slow or answer differently', () => {
    const batch = admissionFor(BATCH);
    expect(batch({ cs: [GRAPHQL_CUSTOMER, GRAPHQL_CUSTOMER] })).toBe(true);
    expect(batch({ cs: Array.from({ length: 10_000 }, () => ({})) })).toBe(false); // one error per missing field per row in jit
    expect(batch({ cs: [{ ...GRAPHQL_CUSTOMER, colour: 'red' }] })).toBe(false);
    expect(batch({ cs: GRAPHQL_CUSTOMER })).toBe(false); // a single object for a list: coerced by graphql-js, left to it
    expect(batch({})).toBe(false); // not sent
    const withoutTotal: Record<string, unknown> = { ...GRAPHQL_CUSTOMER };
    delete withoutTotal['totalCharges'];
    expect(isWellFormedCustomer(withoutTotal)).toBe(false); // must be sent, null included
    expect(isWellFormedCustomer({ ...GRAPHQL_CUSTOMER, monthlyCharges: null })).toBe(false);
    expect(isWellFormedCustomer({ ...GRAPHQL_CUSTOMER, contract: 'Month-to-month' })).toBe(false);
    expect(isWellFormedCustomer(Object.assign(Object.create({ gender: 'FEMALE' }) as object, GRAPHQL_CUSTOMER))).toBe(true); // inherited keys are not sent keys
  });

  it('sends a variable left out (no default) or null over a default to Yoga', () => {
    const admits = admissionFor(operation('mutation M($t: Float, $k: Contract = MONTH_TO_MONTH, $x: Boolean! = true) { modelInfo { name } }'));
    expect(admits({ t: 1, k: 'ONE_YEAR', x: false })).toBe(true);
    expect(admits({ t: null })).toBe(true); // defaults stand in for k and x
    expect(admits({})).toBe(false); // t left out: graphql-js omits the field, graphql-jit would pass null
    expect(admits({ t: 1, k: null })).toBe(false);
    expect(admits({ t: 1, x: null })).toBe(false);
  });
});
