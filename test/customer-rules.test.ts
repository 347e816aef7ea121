/**
 * The customer rules are the last gate before the encoder, whatever the interface: a null
 * or missing value where the contract has none is refused by name, never turned into a
 * default ("No", 0) or passed on as a hole in the row.
 */
import { describe, expect, it } from 'vitest';
import { ADD_ON_COLUMNS, CONTRACT_ENUMS, CUSTOMER_FIELDS, MAX_CHARGE } from '../src/contract.js';
import { checkCustomerRules, checkRulesOfCheckedColumns, datasetNaming, graphqlNaming } from '../src/customer-rules.js';
import type { HttpProblem } from '../src/http.js';
import { parseLegacyBody } from '../src/rest/predict.js';
import type { InputIssue } from '../src/schema/errors.js';
import { customerFromInput, type CustomerInputShape } from '../src/schema/customer-input.js';
import { GRAPHQL_CUSTOMER, LEGACY_PAYLOAD } from './helpers/index.js';

const required = CUSTOMER_FIELDS.filter((f) => !(f.kind === 'money' && f.nullable));

/** GRAPHQL_CUSTOMER as the resolver receives it: enum values already mapped to the data set's. */
const resolverInput: CustomerInputShape = Object.fromEntries(
  Object.entries(GRAPHQL_CUSTOMER).map(([k, v]) => {
    const f = CUSTOMER_FIELDS.find((c) => c.field === k);
    return [k, f?.kind === 'enum' ? (CONTRACT_ENUMS[f.enumName] as Record<string, string>)[v as string] : v];
  }),
);

describe('GraphQL input with null where a value is required', () => {
  it.each(required.map((f) => [f.field]))('%s: null is refused on its path', (field) => {
    const issues: InputIssue[] = [];
    customerFromInput({ ...resolverInput, [field]: null }, ['customer'], issues);
    expect(issues).toEqual([{ path: ['customer', field], message: `${field} is required and must not be null` }]);
  });

  it('a valid customer has no issues, and neither has totalCharges null (not yet billed)', () => {
    for (const input of [resolverInput, { ...resolverInput, tenure: 0, totalCharges: null }]) {
      const issues: InputIssue[] = [];
      customerFromInput(input, ['customer'], issues);
      expect(issues).toEqual([]);
    }
  });
});

describe('records in the data set vocabulary', () => {
  it.each(required.map((f) => [f.column]))('%s: missing or null is refused', (column) => {
    const record = { ...LEGACY_PAYLOAD, SeniorCitizen: 0 } as Record<string, unknown>;
    for (const value of [null, undefined]) {
      const issues = checkCustomerRules({ ...record, [column]: value } as never, datasetNaming);
      expect(issues).toEqual([{ column, message: `${column} is required and must not be null` }]);
    }
  });
});

describe('a null TotalCharges (not yet billed)', () => {
  const record = (tenure: number) => ({ ...LEGACY_PAYLOAD, SeniorCitizen: 0, tenure, TotalCharges: null }) as never;

  it('is accepted at tenure 0, as the data set has it', () => {
    expect(checkCustomerRules(record(0), datasetNaming)).toEqual([]);
  });

  it.each([[1], [6], [72]])('is refused at tenure %i, in each interface\'s names', (tenure) => {
    expect(checkCustomerRules(record(tenure), datasetNaming)).toEqual([
      { column: 'TotalCharges', message: `TotalCharges may be null (not yet billed) only when tenure is 0; got tenure=${tenure}: send the total billed so far` },
    ]);
    expect(checkCustomerRules(record(tenure), graphqlNaming)).toEqual([
      { column: 'TotalCharges', message: `totalCharges may be null (not yet billed) only when tenure is 0; got tenure=${tenure}: send the total billed so far` },
    ]);
  });

  it('leaves an invalid tenure to its own message', () => {
    expect(checkCustomerRules(record(1.5), datasetNaming).map((i) => i.column)).toEqual(['tenure']);
  });
});

describe('a customer whose type check failed', () => {
  const allBut = (column: string) => new Set(CUSTOMER_FIELDS.map((f) => f.column).filter((c) => c !== column));

  it('runs only the rules whose columns all passed: a field refused for its value is not refused again by a rule that reads it', () => {
    const base = { ...LEGACY_PAYLOAD, SeniorCitizen: 0 };
    // PhoneService "No" passed, MultipleLines did not: the rule on the two stays quiet.
    expect(checkRulesOfCheckedColumns({ ...base, PhoneService: 'No', MultipleLines: 'maybe' }, allBut('MultipleLines'), datasetNaming)).toEqual([]);
    const noInternet = { ...base, InternetService: 'No', ...Object.fromEntries(ADD_ON_COLUMNS.map((c) => [c, 'No internet service'])), OnlineSecurity: 'sometimes' };
    expect(checkRulesOfCheckedColumns(noInternet, allBut('OnlineSecurity'), datasetNaming)).toEqual([]);
    // A rule whose columns all passed still runs beside the failed field.
    expect(checkRulesOfCheckedColumns({ ...base, PhoneService: 'No', MultipleLines: 'Yes', tenure: 'x' }, allBut('tenure'), datasetNaming).map((i) => i.column)).toEqual(['MultipleLines']);
  });

  it('on POST /predict: one problem for one bad value, not a second from a rule', () => {
    const body = { ...LEGACY_PAYLOAD, PhoneService: 'No', MultipleLines: 'maybe' };
    let problem: HttpProblem | undefined;
    try {
      parseLegacyBody(JSON.stringify(body), body, 10);
    } catch (err) {
      problem = err as HttpProblem;
    }
    expect(problem?.status).toBe(400);
    expect(problem?.errors).toEqual([{ path: 'MultipleLines', message: 'must be one of "Yes", "No", "No phone service"; got "maybe"' }]);
    expect(problem?.detail).toMatch(/^1 invalid field\(s\): MultipleLines: /);
  });
});

describe('charges at the ends of their range', () => {
  const record = (fields: Record<string, number>) => ({ ...LEGACY_PAYLOAD, SeniorCitizen: 0, ...fields }) as never;

  // A customer not yet billed who is sent with a total of 0 rather than null, or on a free plan.
  it('takes 0 and MAX_CHARGE (the largest finite float32 the model reads) for each charge, and refuses just outside', () => {
    for (const column of ['MonthlyCharges', 'TotalCharges']) {
      for (const value of [0, MAX_CHARGE]) expect(checkCustomerRules(record({ [column]: value, tenure: 0 }), datasetNaming), `${column}=${value}`).toEqual([]);
      for (const value of [-Number.MIN_VALUE, MAX_CHARGE * (1 + Number.EPSILON)]) {
        expect(checkCustomerRules(record({ [column]: value, tenure: 0 }), datasetNaming), `${column}=${value}`).toEqual([{ column, message: expect.stringMatching(/must be a finite number ≥ 0 \(at most 3\.4e\+38\)/) as unknown }]);
      }
    }
  });
});
