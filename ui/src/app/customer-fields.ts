/**
 * The form's view of CustomerInput: one entry per field, in the order a person reads a
 * customer record, with the labels of the data set. The option tables are typed against
 * the generated enum types, so a value added to the schema fails the typecheck here
 * until the form offers it.
 */
import type { AddOn, Contract, CustomerInput, Gender, InternetService, MultipleLines, PaymentMethod } from '../../../src/generated/graphql.js';

// The gateway's own bounds, bundled into the page from the contract (no copies to keep in step).
import { CUSTOMER_ID_MAX_LENGTH, MAX_TENURE_MONTHS } from '../../../src/contract.js';

export { CUSTOMER_ID_MAX_LENGTH, MAX_TENURE_MONTHS };

export type FieldName = Exclude<keyof CustomerInput, 'customerId'>;

export type FieldSpec =
  | { readonly name: FieldName; readonly label: string; readonly kind: 'choice'; readonly options: Readonly<Record<string, string>> }
  | { readonly name: FieldName; readonly label: string; readonly kind: 'yesNo' }
  | { readonly name: FieldName; readonly label: string; readonly kind: 'integer'; readonly min: number; readonly max: number; readonly hint: string }
  | { readonly name: FieldName; readonly label: string; readonly kind: 'money'; readonly optional: boolean; readonly hint: string };

/** A yes/no field's options, by the value its control holds (the boolean as text). */
export const YES_NO: Readonly<Record<'true' | 'false', string>> = { true: 'Yes', false: 'No' };

const genders: Record<Gender, string> = { FEMALE: 'Female', MALE: 'Male' };
const contracts: Record<Contract, string> = { MONTH_TO_MONTH: 'Month-to-month', ONE_YEAR: 'One year', TWO_YEAR: 'Two year' };
const internet: Record<InternetService, string> = { DSL: 'DSL', FIBER_OPTIC: 'Fiber optic', NO: 'No internet service' };
const lines: Record<MultipleLines, string> = { NO: 'No', YES: 'Yes', NO_PHONE_SERVICE: 'No phone service' };
const addOn: Record<AddOn, string> = { NO: 'No', YES: 'Yes', NO_INTERNET_SERVICE: 'No internet service' };
const payments: Record<PaymentMethod, string> = {
  ELECTRONIC_CHECK: 'Electronic check',
  MAILED_CHECK: 'Mailed check',
  BANK_TRANSFER_AUTOMATIC: 'Bank transfer (automatic)',
  CREDIT_CARD_AUTOMATIC: 'Credit card (automatic)',
};

export const ADD_ON_FIELDS = ['onlineSecurity', 'onlineBackup', 'deviceProtection', 'techSupport', 'streamingTV', 'streamingMovies'] as const;

export interface FieldGroup {
  readonly legend: string;
  readonly fields: readonly FieldSpec[];
}

export const FIELD_GROUPS: readonly FieldGroup[] = [
  {
    legend: 'Profile',
    fields: [
      { name: 'gender', label: 'Gender', kind: 'choice', options: genders },
      { name: 'seniorCitizen', label: 'Senior citizen (65 or older)', kind: 'yesNo' },
      { name: 'partner', label: 'Partner', kind: 'yesNo' },
      { name: 'dependents', label: 'Dependents', kind: 'yesNo' },
      { name: 'tenure', label: 'Tenure (months)', kind: 'integer', min: 0, max: MAX_TENURE_MONTHS, hint: `Whole months with the company, 0 to ${MAX_TENURE_MONTHS}.` },
    ],
  },
  {
    legend: 'Phone',
    fields: [
      { name: 'phoneService', label: 'Phone service', kind: 'yesNo' },
      { name: 'multipleLines', label: 'Multiple lines', kind: 'choice', options: lines },
    ],
  },
  {
    legend: 'Internet',
    fields: [
      { name: 'internetService', label: 'Internet service', kind: 'choice', options: internet },
      { name: 'onlineSecurity', label: 'Online security', kind: 'choice', options: addOn },
      { name: 'onlineBackup', label: 'Online backup', kind: 'choice', options: addOn },
      { name: 'deviceProtection', label: 'Device protection', kind: 'choice', options: addOn },
      { name: 'techSupport', label: 'Tech support', kind: 'choice', options: addOn },
      { name: 'streamingTV', label: 'Streaming TV', kind: 'choice', options: addOn },
      { name: 'streamingMovies', label: 'Streaming movies', kind: 'choice', options: addOn },
    ],
  },
  {
    legend: 'Contract and billing',
    fields: [
      { name: 'contract', label: 'Contract', kind: 'choice', options: contracts },
      { name: 'paperlessBilling', label: 'Paperless billing', kind: 'yesNo' },
      { name: 'paymentMethod', label: 'Payment method', kind: 'choice', options: payments },
      { name: 'monthlyCharges', label: 'Monthly charges', kind: 'money', optional: false, hint: 'Current monthly charge, 0 or more.' },
      { name: 'totalCharges', label: 'Total charges', kind: 'money', optional: true, hint: 'Billed so far, 0 or more; leave empty when not yet billed (tenure 0).' },
    ],
  },
];

export const ALL_FIELDS: readonly FieldSpec[] = FIELD_GROUPS.flatMap((g) => g.fields);

/** The form's starting point: a typical at-risk profile (new, month-to-month, fiber, no add-ons). */
export const DEFAULT_CUSTOMER: CustomerInput = {
  customerId: null,
  gender: 'FEMALE',
  seniorCitizen: false,
  partner: false,
  dependents: false,
  tenure: 3,
  phoneService: true,
  multipleLines: 'NO',
  internetService: 'FIBER_OPTIC',
  onlineSecurity: 'NO',
  onlineBackup: 'NO',
  deviceProtection: 'NO',
  techSupport: 'NO',
  streamingTV: 'NO',
  streamingMovies: 'NO',
  contract: 'MONTH_TO_MONTH',
  paperlessBilling: true,
  paymentMethod: 'ELECTRONIC_CHECK',
  monthlyCharges: 74.4,
  totalCharges: 223.2,
};

export interface ExampleCustomer {
  readonly id: string;
  readonly label: string;
  readonly customer: CustomerInput;
}

/** Checked against the bundled model by test/ui.test.ts: the first scores HIGH, the second LOW. */
export const EXAMPLES: readonly ExampleCustomer[] = [
  {
    id: 'high',
    label: 'Example: high risk',
    customer: {
      ...DEFAULT_CUSTOMER,
      customerId: 'example-high-risk',
      seniorCitizen: true,
      tenure: 1,
      streamingTV: 'YES',
      streamingMovies: 'YES',
      monthlyCharges: 95.7,
      totalCharges: 95.7,
    },
  },
  {
    id: 'low',
    label: 'Example: low risk',
    customer: {
      customerId: 'example-low-risk',
      gender: 'MALE',
      seniorCitizen: false,
      partner: true,
      dependents: true,
      tenure: 66,
      phoneService: true,
      multipleLines: 'YES',
      internetService: 'DSL',
      onlineSecurity: 'YES',
      onlineBackup: 'YES',
      deviceProtection: 'YES',
      techSupport: 'YES',
      streamingTV: 'NO',
      streamingMovies: 'NO',
      contract: 'TWO_YEAR',
      paperlessBilling: false,
      paymentMethod: 'BANK_TRANSFER_AUTOMATIC',
      monthlyCharges: 72.1,
      totalCharges: 4758.6,
    },
  },
];
