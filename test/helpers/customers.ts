/**
 * Sample customers in both vocabularies: the legacy REST payload (data set columns)
 * and the GraphQL CustomerInput.
 */
import type { CustomerInput } from '../../src/generated/graphql.js';
import { EXAMPLE_CUSTOMER } from '../../src/rest/openapi.js';

/**
 * The payload today's REST callers send (README example): 18 fields, no SeniorCitizen. It is the
 * OpenAPI document's example, which test/openapi.test.ts checks is README.md's REST body.
 */
export const LEGACY_PAYLOAD = EXAMPLE_CUSTOMER;

/** The same customer as GraphQL input. */
export const GRAPHQL_CUSTOMER: CustomerInput = {
  gender: 'FEMALE',
  seniorCitizen: false,
  partner: true,
  dependents: false,
  tenure: 1,
  phoneService: false,
  multipleLines: 'NO_PHONE_SERVICE',
  internetService: 'DSL',
  onlineSecurity: 'NO',
  onlineBackup: 'YES',
  deviceProtection: 'NO',
  techSupport: 'NO',
  streamingTV: 'NO',
  streamingMovies: 'NO',
  contract: 'MONTH_TO_MONTH',
  paperlessBilling: true,
  paymentMethod: 'ELECTRONIC_CHECK',
  monthlyCharges: 29.85,
  totalCharges: 29.85,
};

/** A loyal customer: two-year contract, long tenure, automatic payment. */
export const LOYAL_CUSTOMER: CustomerInput = {
  ...GRAPHQL_CUSTOMER,
  partner: true,
  dependents: true,
  tenure: 70,
  phoneService: true,
  multipleLines: 'YES',
  onlineSecurity: 'YES',
  techSupport: 'YES',
  contract: 'TWO_YEAR',
  paperlessBilling: false,
  paymentMethod: 'CREDIT_CARD_AUTOMATIC',
  monthlyCharges: 65.5,
  totalCharges: 4585,
};

/**
 * GRAPHQL_CUSTOMER as a GraphQL object literal, for a value written in the document; `patch` holds
 * raw GraphQL text per field (`'$t'`, `'"1"'`; undefined leaves the field out).
 */
export function customerLiteral(patch: Record<string, string | undefined> = {}): string {
  const fields: Record<string, string | undefined> = Object.fromEntries(
    Object.entries(GRAPHQL_CUSTOMER).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]), // enums bare, numbers and booleans as JSON
  );
  Object.assign(fields, patch);
  return `{ ${Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${v as string}`)
    .join(', ')} }`;
}
