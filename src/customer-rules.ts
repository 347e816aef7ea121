/**
 * Business rules on a customer that types alone cannot express: ranges and the
 * cross-field consistency of the training data. Shared by REST and GraphQL so both
 * interfaces accept and reject exactly the same customers; each passes a `Naming` so
 * messages use the caller's vocabulary (data set columns or GraphQL fields).
 */
import {
  ADD_ON_COLUMNS,
  CONTRACT_ENUMS,
  CUSTOMER_FIELDS,
  MAX_CHARGE,
  MAX_TENURE_MONTHS,
  type ColumnName,
  type CustomerRecord,
} from './contract.js';

export interface RuleIssue {
  /** Column (data set name) the issue is reported on. */
  readonly column: ColumnName;
  readonly message: string;
}

export interface Naming {
  field(column: ColumnName): string;
  value(column: ColumnName, value: string): string;
}

/** Names as in the data set: REST callers' vocabulary. */
export const datasetNaming: Naming = {
  field: (column) => column,
  value: (_column, value) => JSON.stringify(value),
};

const fieldByColumn = new Map(CUSTOMER_FIELDS.map((f) => [f.column, f]));

/** Names as in the GraphQL schema: camelCase fields, enum values, booleans. */
export const graphqlNaming: Naming = {
  field: (column) => fieldByColumn.get(column)?.field ?? column,
  value: (column, value) => {
    const f = fieldByColumn.get(column);
    if (f?.kind === 'yesNo') return value === 'Yes' ? 'true' : 'false';
    if (f?.kind === 'enum') {
      const entry = Object.entries(CONTRACT_ENUMS[f.enumName]).find(([, v]) => v === value);
      if (entry) return entry[0];
    }
    return value;
  },
};

function checkMoney(record: CustomerRecord, column: 'MonthlyCharges' | 'TotalCharges', naming: Naming, out: RuleIssue[]): void {
  const v = record[column];
  if (v === null || v === undefined) return; // present-or-null is checkPresent's
  if (!Number.isFinite(v) || v < 0 || v > MAX_CHARGE) {
    out.push({ column, message: `${naming.field(column)} must be a finite number ≥ 0 (at most ${MAX_CHARGE}); got ${v}` });
  }
}

/**
 * Every column is there, and null only where the contract allows it (TotalCharges: not yet
 * billed). The interfaces' own type checks already ensure this; this is the last gate before
 * the encoder, so that no path into inference can turn a missing value into a default or
 * reach the model with a hole in a row.
 */
function checkPresent(record: CustomerRecord, naming: Naming, out: RuleIssue[]): void {
  for (const f of CUSTOMER_FIELDS) {
    const v = (record as Record<string, unknown>)[f.column];
    if (v === undefined || (v === null && !(f.kind === 'money' && f.nullable))) {
      out.push({ column: f.column, message: `${naming.field(f.column)} is required and must not be null` });
    }
  }
}

/** A rule and the columns it reads: it runs only when all of them hold a well-typed value. */
interface Rule {
  readonly reads: readonly ColumnName[];
  readonly check: (record: CustomerRecord, naming: Naming, out: RuleIssue[]) => void;
}

const RULES: readonly Rule[] = [
  {
    reads: ['tenure'],
    check(record, naming, out) {
      const t = record.tenure;
      if (!Number.isInteger(t) || t < 0 || t > MAX_TENURE_MONTHS) {
        out.push({ column: 'tenure', message: `${naming.field('tenure')} must be an integer number of months from 0 to ${MAX_TENURE_MONTHS}; got ${t}` });
      }
    },
  },
  { reads: ['MonthlyCharges'], check: (record, naming, out) => checkMoney(record, 'MonthlyCharges', naming, out) },
  { reads: ['TotalCharges'], check: (record, naming, out) => checkMoney(record, 'TotalCharges', naming, out) },
  {
    // Not yet billed is a tenure-0 customer's state, as in the data set (its 11 blank totals),
    // whose validation refuses a blank total at any other tenure. The model reads a null total as
    // 0: a long-standing customer sent with null would be scored as one who never paid anything.
    reads: ['TotalCharges', 'tenure'],
    check(record, naming, out) {
      const t = record.tenure;
      if (record.TotalCharges === null && Number.isInteger(t) && t > 0) {
        out.push({
          column: 'TotalCharges',
          message: `${naming.field('TotalCharges')} may be null (not yet billed) only when ${naming.field('tenure')} is 0; got ${naming.field('tenure')}=${t}: send the total billed so far`,
        });
      }
    },
  },
  {
    reads: ['PhoneService', 'MultipleLines'],
    check(record, naming, out) {
      const noPhone = record.PhoneService === 'No';
      if (noPhone !== (record.MultipleLines === 'No phone service')) {
        out.push({
          column: 'MultipleLines',
          message:
            `${naming.field('MultipleLines')} must be ${naming.value('MultipleLines', 'No phone service')} exactly when ` +
            `${naming.field('PhoneService')} is ${naming.value('PhoneService', 'No')}; got ${naming.field('PhoneService')}=` +
            `${naming.value('PhoneService', record.PhoneService)} and ${naming.field('MultipleLines')}=${naming.value('MultipleLines', record.MultipleLines)}`,
        });
      }
    },
  },
  ...ADD_ON_COLUMNS.map(
    (column): Rule => ({
      reads: ['InternetService', column],
      check(record, naming, out) {
        const noInternet = record.InternetService === 'No';
        if (noInternet !== (record[column] === 'No internet service')) {
          out.push({
            column,
            message:
              `${naming.field(column)} must be ${naming.value(column, 'No internet service')} exactly when ` +
              `${naming.field('InternetService')} is ${naming.value('InternetService', 'No')}; got ${naming.field('InternetService')}=` +
              `${naming.value('InternetService', record.InternetService)} and ${naming.field(column)}=${naming.value(column, record[column])}`,
          });
        }
      },
    }),
  ),
];

export function checkCustomerRules(record: CustomerRecord, naming: Naming): RuleIssue[] {
  const out: RuleIssue[] = [];
  checkPresent(record, naming, out);
  if (out.length > 0) return out;
  for (const rule of RULES) rule.check(record, naming, out);
  return out;
}

/**
 * The rules a customer whose type check failed still breaks: those that read only columns in
 * `checked` (the columns that passed it). So one bad field does not hide the customer's other
 * problems, and the count of problems an answer gives is the count there are.
 */
export function checkRulesOfCheckedColumns(record: Readonly<Record<string, unknown>>, checked: ReadonlySet<string>, naming: Naming): RuleIssue[] {
  const out: RuleIssue[] = [];
  // The columns a rule reads passed the type check: they hold what CustomerRecord says.
  for (const rule of RULES) if (rule.reads.every((c) => checked.has(c))) rule.check(record as unknown as CustomerRecord, naming, out);
  return out;
}
