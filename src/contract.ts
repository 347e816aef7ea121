/**
 * The customer contract: the one place that says which customer fields the gateway
 * accepts, under which names (GraphQL camelCase, data set column), and which values.
 *
 * The GraphQL input type, the REST body schema and the start-up check against the
 * model bundle are all generated from this table. A customer travels through the
 * gateway as a `CustomerRecord`: the data set's own column names and values, which is
 * also what the bundle's feature spec and parity vectors use.
 */

/** GraphQL enums: GraphQL value → data set value. */
export const CONTRACT_ENUMS = {
  Gender: { FEMALE: 'Female', MALE: 'Male' },
  MultipleLines: { YES: 'Yes', NO: 'No', NO_PHONE_SERVICE: 'No phone service' },
  InternetService: { DSL: 'DSL', FIBER_OPTIC: 'Fiber optic', NO: 'No' },
  AddOn: { YES: 'Yes', NO: 'No', NO_INTERNET_SERVICE: 'No internet service' },
  Contract: { MONTH_TO_MONTH: 'Month-to-month', ONE_YEAR: 'One year', TWO_YEAR: 'Two year' },
  PaymentMethod: {
    ELECTRONIC_CHECK: 'Electronic check',
    MAILED_CHECK: 'Mailed check',
    BANK_TRANSFER_AUTOMATIC: 'Bank transfer (automatic)',
    CREDIT_CARD_AUTOMATIC: 'Credit card (automatic)',
  },
} as const;

export type ContractEnumName = keyof typeof CONTRACT_ENUMS;
type EnumValue<E extends ContractEnumName> = (typeof CONTRACT_ENUMS)[E][keyof (typeof CONTRACT_ENUMS)[E]];

/** Longest customer id accepted (REST customerID, GraphQL customerId); it is echoed back, never a feature. */
export const CUSTOMER_ID_MAX_LENGTH = 256;

/**
 * Whether a customer id is within CUSTOMER_ID_MAX_LENGTH characters, counted as Unicode code
 * points (an emoji is one, as a reader counts it), for REST and GraphQL alike: they used to
 * count differently (GraphQL UTF-16 units), so 200 emoji were refused by one and echoed by the other.
 */
export function customerIdFits(id: string): boolean {
  if (id.length <= CUSTOMER_ID_MAX_LENGTH) return true; // never more code points than UTF-16 units
  let points = id.length;
  // A high surrogate followed by a low one is one code point written as two units.
  for (let i = 0; i < id.length - 1; i++) {
    const unit = id.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = id.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        points--;
        i++;
      }
    }
  }
  return points <= CUSTOMER_ID_MAX_LENGTH;
}

/** Half of a surrogate pair without its other half: a high one not followed by a low one, or a low one not after a high one (UTF-16 units: no `u` flag). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * What is wrong with a customer id, in the words both routes answer (REST customerID, GraphQL
 * customerId), or null when it is accepted: at most CUSTOMER_ID_MAX_LENGTH characters, and
 * well-formed Unicode. The id is echoed in the answer, and a lone UTF-16 surrogate (half of a
 * character written as two units, which JSON can carry as `"\ud83d"`) names no character:
 * JSON.stringify writes it back as that escape, which strict JSON readers refuse (Rust's
 * serde_json: "lone leading surrogate in hex escape"), so the caller could not read its own 200.
 */
export function customerIdProblem(id: string): string | null {
  const problems: string[] = [];
  if (!id.isWellFormed()) {
    const unit = (LONE_SURROGATE.exec(id)?.[0] ?? '').charCodeAt(0).toString(16);
    problems.push(`must be well-formed Unicode; it holds \\u${unit}, half of a UTF-16 surrogate pair without the other half, which names no character (strict JSON readers refuse it echoed in the answer)`);
  }
  if (!customerIdFits(id)) problems.push(`must be at most ${CUSTOMER_ID_MAX_LENGTH} characters`);
  return problems.length > 0 ? problems.join('; ') : null;
}

/**
 * At most this many problems are listed in one 400 answer (REST `errors`, GraphQL
 * `extensions.issues`), which also says how many there were in all: a 10,000-row batch of
 * bad rows would otherwise come back as a body several times its own size.
 */
export const MAX_LISTED_ISSUES = 100;

/** Upper bound on tenure in months: 100 years, far above the data set's 72 but finite. */
export const MAX_TENURE_MONTHS = 1200;

/** Largest charge that stays finite in the model's float32 input. */
export const MAX_CHARGE = 3.4e38;

/**
 * Field kinds:
 * - `enum`: a GraphQL enum, the data set's string value;
 * - `yesNo`: GraphQL Boolean, data set "Yes"/"No";
 * - `flag01`: GraphQL Boolean, data set 0/1 (SeniorCitizen only);
 * - `months`: GraphQL Int, 0..MAX_TENURE_MONTHS;
 * - `money`: GraphQL Float, finite, ≥ 0 and at most MAX_CHARGE (nullable for TotalCharges: not yet billed).
 */
export const CUSTOMER_FIELDS = [
  { field: 'gender', column: 'gender', kind: 'enum', enumName: 'Gender', description: 'Customer gender.' },
  { field: 'seniorCitizen', column: 'SeniorCitizen', kind: 'flag01', description: 'Whether the customer is 65 or older.' },
  { field: 'partner', column: 'Partner', kind: 'yesNo', description: 'Whether the customer has a partner.' },
  { field: 'dependents', column: 'Dependents', kind: 'yesNo', description: 'Whether the customer has dependents.' },
  { field: 'tenure', column: 'tenure', kind: 'months', description: `Months with the company, 0 to ${MAX_TENURE_MONTHS}.` },
  { field: 'phoneService', column: 'PhoneService', kind: 'yesNo', description: 'Whether the customer has phone service.' },
  { field: 'multipleLines', column: 'MultipleLines', kind: 'enum', enumName: 'MultipleLines', description: 'Multiple phone lines; NO_PHONE_SERVICE exactly when phoneService is false.' },
  { field: 'internetService', column: 'InternetService', kind: 'enum', enumName: 'InternetService', description: 'Internet service type.' },
  { field: 'onlineSecurity', column: 'OnlineSecurity', kind: 'enum', enumName: 'AddOn', description: 'Online security add-on.' },
  { field: 'onlineBackup', column: 'OnlineBackup', kind: 'enum', enumName: 'AddOn', description: 'Online backup add-on.' },
  { field: 'deviceProtection', column: 'DeviceProtection', kind: 'enum', enumName: 'AddOn', description: 'Device protection add-on.' },
  { field: 'techSupport', column: 'TechSupport', kind: 'enum', enumName: 'AddOn', description: 'Tech support add-on.' },
  { field: 'streamingTV', column: 'StreamingTV', kind: 'enum', enumName: 'AddOn', description: 'Streaming TV add-on.' },
  { field: 'streamingMovies', column: 'StreamingMovies', kind: 'enum', enumName: 'AddOn', description: 'Streaming movies add-on.' },
  { field: 'contract', column: 'Contract', kind: 'enum', enumName: 'Contract', description: 'Contract term.' },
  { field: 'paperlessBilling', column: 'PaperlessBilling', kind: 'yesNo', description: 'Whether billing is paperless.' },
  { field: 'paymentMethod', column: 'PaymentMethod', kind: 'enum', enumName: 'PaymentMethod', description: 'Payment method.' },
  { field: 'monthlyCharges', column: 'MonthlyCharges', kind: 'money', nullable: false, description: `Current monthly charge; finite, ≥ 0 and at most ${MAX_CHARGE}.` },
  { field: 'totalCharges', column: 'TotalCharges', kind: 'money', nullable: true, description: `Total billed so far; finite, ≥ 0 and at most ${MAX_CHARGE}, or null when not yet billed, which only a tenure-0 customer is.` },
] as const;

export type CustomerField = (typeof CUSTOMER_FIELDS)[number];
export type ColumnName = CustomerField['column'];
export type FieldName = CustomerField['field'];

type ColumnValue<F extends CustomerField> = F extends { kind: 'enum'; enumName: infer E extends ContractEnumName }
  ? EnumValue<E>
  : F extends { kind: 'yesNo' }
    ? 'Yes' | 'No'
    : F extends { kind: 'flag01' }
      ? 0 | 1
      : F extends { kind: 'money'; nullable: true }
        ? number | null
        : number;

/** A customer in the data set's vocabulary: the input of the feature encoder. */
export type CustomerRecord = { [F in CustomerField as F['column']]: ColumnValue<F> };

type GraphQLValue<F extends CustomerField> = F extends { kind: 'enum'; enumName: infer E extends ContractEnumName }
  ? keyof (typeof CONTRACT_ENUMS)[E]
  : F extends { kind: 'yesNo' | 'flag01' }
    ? boolean
    : F extends { kind: 'money'; nullable: true }
      ? number | null
      : number;

/** A customer in GraphQL's vocabulary (CustomerInput's fields, without customerId): camelCase names, enum names, booleans. */
export type GraphQLCustomer = { [F in CustomerField as F['field']]: GraphQLValue<F> };

/** GraphQL enum name by data set value, per enum: CONTRACT_ENUMS turned around. */
const GRAPHQL_ENUM_NAME = new Map<ContractEnumName, ReadonlyMap<string, string>>(
  Object.entries(CONTRACT_ENUMS).map(([name, values]) => [name as ContractEnumName, new Map(Object.entries(values).map(([gql, value]) => [value, gql]))]),
);

/**
 * A data set row as GraphQL's CustomerInput, field by field from this table: for callers that
 * hold rows in the data set's vocabulary (the bundle's parity vectors, the bench's loads) and
 * send them over GraphQL, so that a field or enum value renamed here is renamed in what they send.
 * A value the contract does not have is thrown, naming its column (the rows are read from
 * files, whatever their type says).
 */
export function graphqlCustomer(record: CustomerRecord): GraphQLCustomer {
  const out: Record<string, string | number | boolean | null> = {};
  for (const f of CUSTOMER_FIELDS) {
    const v: unknown = record[f.column];
    const refuse = () => new Error(`${f.column}: ${JSON.stringify(v)} is not one of the contract's values (${allowedColumnValues(f)?.join(', ') ?? 'a number'})`);
    switch (f.kind) {
      case 'enum': {
        const name = GRAPHQL_ENUM_NAME.get(f.enumName)?.get(v as string);
        if (name === undefined) throw refuse();
        out[f.field] = name;
        break;
      }
      case 'yesNo':
        if (v !== 'Yes' && v !== 'No') throw refuse();
        out[f.field] = v === 'Yes';
        break;
      case 'flag01':
        if (v !== 0 && v !== 1) throw refuse();
        out[f.field] = v === 1;
        break;
      default:
        if (typeof v !== 'number' && !(v === null && f.kind === 'money' && f.nullable)) throw refuse();
        out[f.field] = v;
    }
  }
  return out as GraphQLCustomer;
}

/** The values a categorical column may take, as strings (the feature spec's `allowedValues`). */
export function allowedColumnValues(field: CustomerField): readonly string[] | null {
  switch (field.kind) {
    case 'enum':
      return Object.values(CONTRACT_ENUMS[field.enumName]);
    case 'yesNo':
      return ['Yes', 'No'];
    case 'flag01':
      return ['0', '1'];
    default:
      return null;
  }
}

export const ADD_ON_COLUMNS = [
  'OnlineSecurity',
  'OnlineBackup',
  'DeviceProtection',
  'TechSupport',
  'StreamingTV',
  'StreamingMovies',
] as const satisfies readonly ColumnName[];
