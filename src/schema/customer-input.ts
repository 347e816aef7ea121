/**
 * CustomerInput, built field by field from the contract, and its conversion to a
 * CustomerRecord checked against the same business rules as REST.
 */
import { CUSTOMER_FIELDS, CUSTOMER_ID_MAX_LENGTH, MAX_CHARGE, customerIdProblem, MAX_TENURE_MONTHS, type CustomerRecord, type FieldName } from '../contract.js';
import { checkCustomerRules, graphqlNaming } from '../customer-rules.js';
import { builder } from './builder.js';
import { contractEnums } from './enums.js';
import type { InputIssue } from './errors.js';
import { VARIABLE_LIMITS } from './limits.js';
import { grouped } from './stated-values.js';

/** What GraphQL hands the resolver: booleans and numbers as sent, enums already mapped to data set values. */
export type CustomerInputShape = { customerId?: string | null } & { [F in FieldName]?: string | number | boolean | null };

const SCALAR_OF_KIND = { yesNo: 'Boolean', flag01: 'Boolean', months: 'Int', money: 'Float' } as const;

export const CustomerInput = builder.inputRef<CustomerInputShape>('CustomerInput').implement({
  description: [
    "One customer, with the data set's columns in camelCase. Rules beyond the types (BAD_USER_INPUT, naming each field that breaks one):",
    `- tenure 0–${MAX_TENURE_MONTHS};`,
    `- charges finite, ≥ 0 and at most ${MAX_CHARGE};`,
    '- totalCharges must be sent, although its type lets it be left out: null (not yet billed) only when tenure is 0;',
    '- multipleLines is NO_PHONE_SERVICE exactly when phoneService is false;',
    '- every add-on is NO_INTERNET_SERVICE exactly when internetService is NO;',
    `- customerId at most ${CUSTOMER_ID_MAX_LENGTH} characters, and well-formed Unicode (no lone UTF-16 surrogate).`,
  ].join('\n'),
  fields: (t) => {
    const fields: Record<string, unknown> = {
      customerId: t.string({
        required: false,
        description:
          "Caller's customer id, echoed back in the prediction; not a model feature, and not checked for uniqueness (two rows of a predictBatch may " +
          `carry the same id, or none: match results to rows by position, the input order). At most ${CUSTOMER_ID_MAX_LENGTH} characters, counted as ` +
          'Unicode code points, and well-formed: half of a UTF-16 surrogate pair without the other half (JSON\'s "\\ud83d" alone) names no ' +
          `character, and echoed it would make the answer unreadable to strict JSON readers (BAD_USER_INPUT for either); a variable string over ${grouped(VARIABLE_LIMITS.maxStringChars)} characters is refused ` +
          'before GraphQL runs, as application/problem+json (see Mutation).',
      }),
    };
    for (const f of CUSTOMER_FIELDS) {
      const nullable = f.kind === 'money' && f.nullable;
      // Nullable in GraphQL, so generated client types make it optional; leaving it out is refused (customerFromInput).
      const description = nullable ? `Required, although nullable: send null explicitly, leaving it out is refused. ${f.description}` : f.description;
      const opts = { required: !nullable, description };
      const type = f.kind === 'enum' ? contractEnums[f.enumName] : SCALAR_OF_KIND[f.kind];
      fields[f.field] = t.field({ type, ...opts });
    }
    return fields;
  },
});

/** Booleans to the data set's values; a null or missing value stays so, for checkCustomerRules to refuse (never a default). */
function toRecord(input: CustomerInputShape): CustomerRecord {
  const record: Record<string, string | number | null | undefined> = {};
  for (const f of CUSTOMER_FIELDS) {
    const v = input[f.field];
    switch (f.kind) {
      case 'yesNo':
        record[f.column] = v === true ? 'Yes' : v === false ? 'No' : v;
        break;
      case 'flag01':
        record[f.column] = v === true ? 1 : v === false ? 0 : v;
        break;
      default:
        record[f.column] = v as string | number | null | undefined;
    }
  }
  return record as CustomerRecord;
}

/** Converts and checks; the issues' paths start at `path` (e.g. ["customers", 3]). */
export function customerFromInput(
  input: CustomerInputShape,
  path: readonly (string | number)[],
  issues: InputIssue[],
): { customerId: string | null; record: CustomerRecord } {
  // GraphQL lets a nullable input field be left out; here null has a meaning (not yet
  // billed), so it must be sent, never assumed.
  let unsentTotal = false;
  for (const f of CUSTOMER_FIELDS) {
    if (f.kind === 'money' && f.nullable && input[f.field] === undefined) {
      issues.push({ path: [...path, f.field], message: 'is required; send the total billed so far, or null for a customer not billed yet (tenure 0)' });
      unsentTotal = true;
    }
  }
  const idProblem = typeof input.customerId === 'string' ? customerIdProblem(input.customerId) : null;
  if (idProblem !== null) issues.push({ path: [...path, 'customerId'], message: idProblem });
  const record = toRecord(input);
  if (unsentTotal) (record as Record<string, unknown>)['TotalCharges'] = null; // named above, with what to send
  for (const issue of checkCustomerRules(record, graphqlNaming)) {
    if (unsentTotal && issue.column === 'TotalCharges') continue; // the same field, already named
    issues.push({ path: [...path, graphqlNaming.field(issue.column)], message: issue.message });
  }
  return { customerId: input.customerId ?? null, record };
}
