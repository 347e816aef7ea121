/**
 * Which requests for a compiled document may run on graphql-jit. graphql-jit answers like
 * graphql-js for well-formed variables, but not for every malformed or missing one:
 * - it turns a variable left out of an input-object literal into null, and passes an explicit
 *   null for a nullable variable with a default into non-null positions (graphql-js refuses
 *   both), so callers would get a silent default;
 * - it reports every problem of every list item, with the whole item printed in each message,
 *   where graphql-js stops at 50: 10,000 empty customers (30 KB) held the event loop for ~2 s.
 * So a request runs compiled only when its variables are already what CustomerInput accepts,
 * every variable without a default is sent, and none with a default is null; everything else
 * goes to Yoga (graphql-js), which answers it or refuses it. The check only chooses the path:
 * a request it sends to Yoga gets Yoga's answer, so being stricter than GraphQL costs time,
 * never a different answer. It is read from the same contract as the schema (contract.ts).
 */
import { Kind, type OperationDefinitionNode, type TypeNode } from 'graphql';
import { CONTRACT_ENUMS, CUSTOMER_FIELDS, type CustomerField } from '../contract.js';

const INT_MAX = 2 ** 31 - 1;

type ValueCheck = (v: unknown) => boolean;

const isBoolean: ValueCheck = (v) => typeof v === 'boolean';
const isInt: ValueCheck = (v) => Number.isInteger(v) && Math.abs(v as number) <= INT_MAX;
const isFiniteNumber: ValueCheck = (v) => typeof v === 'number' && Number.isFinite(v);

/** One of CustomerInput's contract fields: the check of a sent value, and whether null is allowed. */
interface FieldRule {
  readonly name: string;
  readonly check: ValueCheck;
  readonly nullable: boolean;
}

function checkOf(f: CustomerField): ValueCheck {
  switch (f.kind) {
    case 'enum': {
      const names = new Set(Object.keys(CONTRACT_ENUMS[f.enumName]));
      return (v) => typeof v === 'string' && names.has(v);
    }
    case 'yesNo':
    case 'flag01':
      return isBoolean;
    case 'months':
      return isInt;
    case 'money':
      return isFiniteNumber;
  }
}

/** Every contract field must be sent; totalCharges too (null when not yet billed: customer-input.ts). */
const REQUIRED: readonly FieldRule[] = CUSTOMER_FIELDS.map((f) => ({ name: f.field, check: checkOf(f), nullable: f.kind === 'money' && f.nullable }));

/**
 * A plain object of CustomerInput's fields only, each of its type, every required one sent
 * (customerId optional, a string or null). Field by field, then a count of the object's own
 * keys: this runs for every row of every compiled batch.
 */
export function isWellFormedCustomer(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const row = value as Record<string, unknown>;
  for (const field of REQUIRED) {
    if (!Object.hasOwn(row, field.name)) return false;
    const v = row[field.name];
    if (v === null ? !field.nullable : !field.check(v)) return false;
  }
  let keys = REQUIRED.length;
  if (Object.hasOwn(row, 'customerId')) {
    const id = row['customerId'];
    if (id !== null && typeof id !== 'string') return false;
    keys++;
  }
  // Every own key is a field: no unknown ones besides.
  return Object.keys(row).length === keys;
}

type VariableRule = (variables: Readonly<Record<string, unknown>>) => boolean;

function namedType(type: TypeNode): { name: string; list: boolean } | null {
  const inner = type.kind === Kind.NON_NULL_TYPE ? type.type : type;
  if (inner.kind === Kind.NAMED_TYPE) return { name: inner.name.value, list: false };
  const item = inner.type.kind === Kind.NON_NULL_TYPE ? inner.type.type : inner.type;
  return item.kind === Kind.NAMED_TYPE ? { name: item.name.value, list: true } : null;
}

/** The admission test of one operation's requests, built once per compiled document. */
export function admissionFor(op: OperationDefinitionNode): (variables: Readonly<Record<string, unknown>>) => boolean {
  const rules: VariableRule[] = [];
  for (const def of op.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    const sent = (variables: Readonly<Record<string, unknown>>) => Object.hasOwn(variables, name);
    if (def.defaultValue === undefined) rules.push(sent);
    else rules.push((variables) => variables[name] !== null);
    const type = namedType(def.type);
    if (type?.name !== 'CustomerInput') continue;
    rules.push((variables) => {
      const v = variables[name];
      if (v === undefined) return true; // its default (checked when the document was validated)
      return type.list ? Array.isArray(v) && v.every(isWellFormedCustomer) : isWellFormedCustomer(v);
    });
  }
  return (variables) => rules.every((rule) => rule(variables));
}
