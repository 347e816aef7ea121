/**
 * Yoga's executor (@graphql-tools/executor, over graphql-js's coercion) prints an invalid
 * variable value into the message of each error it finds in it: a CustomerInput object is
 * printed once per missing or unknown field (up to the executor's 50-error cap), three levels
 * deep and every list item included. A 4 MB object of 64 unknown fields, each an object of 64
 * more, was printed 51 times (200 MB of text, cut to MAX_MESSAGE_CHARS afterwards) and held the
 * event loop ~550 ms, every other caller (the load balancer's GET / included) waiting.
 *
 * Before the executor reads the variables, each object or list sent where it is only printed
 * (the value of a field CustomerInput does not define; an object or list where a scalar or enum
 * goes) and whose print would be longer than an answered message is put in place of a short
 * note saying what it was. Such values are refused whatever they hold, so the same errors are
 * reported, with the same paths and field names, in the same order.
 *
 * And the executor copies a list variable whole before it reads any item: 1.7 million empty
 * customers (5 MB) held the event loop 7-10 s, to report the first 50 problems (of the first
 * three rows). A list is cut after the item that certainly brings the errors past the cap:
 * reading stops before it anyway, so the answer is the same.
 *
 * Everything else is left as sent: valid variables are not copied.
 */
import {
  getOperationAST,
  isInputObjectType,
  isListType,
  isNonNullType,
  typeFromAST,
  type DocumentNode,
  type ExecutionArgs,
  type GraphQLInputFieldMap,
  type GraphQLInputObjectType,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { MAX_MESSAGE_CHARS } from './error-codes.js';

/**
 * Levels of objects and lists printed; deeper ones are `[Object]` / `[Array]`. (The executor's
 * inspect, cross-inspect, prints three and every list item; graphql-js's own, in the reason of
 * an enum or scalar refused, two and ten items: the larger is counted.)
 */
const PRINTED_LEVELS = 3;

/**
 * Errors the executor reports for a request's variables; it stops reading them at the next one
 * (getVariableValues' maxErrors in @graphql-tools/executor's execute, as in graphql-js).
 */
export const VARIABLE_ERROR_CAP = 50;

/**
 * Whether `value` is printed in more than `limit` characters (closely: strings' escapes are
 * not counted). Stops as soon as it is: the cost is bounded by `limit`.
 */
export function printsLongerThan(value: unknown, limit: number): boolean {
  let left = limit;
  const over = (v: unknown, level: number): boolean => {
    if (typeof v === 'string') left -= v.length + 2;
    else if (typeof v !== 'object' || v === null) left -= 6;
    else if (level >= PRINTED_LEVELS) left -= 8;
    else if (Array.isArray(v)) {
      left -= 4;
      for (let i = 0; i < v.length && left >= 0; i++) if (over(v[i] as unknown, level + 1)) return true;
    } else {
      left -= 4;
      for (const key in v) {
        if (!Object.hasOwn(v, key)) continue;
        left -= key.length + 2;
        if (left < 0 || over((v as Record<string, unknown>)[key], level + 1)) return true;
      }
    }
    return left < 0;
  };
  return over(value, 0);
}

/** A value left out of the messages: graphql-js prints an object's toJSON() string as is. */
class Elided {
  readonly #note: string;
  constructor(value: object) {
    const count = Array.isArray(value) ? value.length : Object.keys(value).length;
    this.#note = Array.isArray(value) ? `[Array of ${count} ${count === 1 ? 'item' : 'items'}, not printed]` : `[Object of ${count} ${count === 1 ? 'key' : 'keys'}, not printed]`;
  }

  toJSON(): string {
    return this.#note;
  }
}

/** `value` as graphql-js only prints it: itself when short (or not an object), else an Elided. */
const printOnly = (value: unknown): unknown =>
  typeof value === 'object' && value !== null && printsLongerThan(value, MAX_MESSAGE_CHARS) ? new Elided(value) : value;

/** An input object type's fields, and those that must be sent (non-null, no default). */
interface FieldsOf {
  readonly fields: GraphQLInputFieldMap;
  readonly required: ReadonlySet<string>;
}

const fieldsCache = new WeakMap<GraphQLInputObjectType, FieldsOf>();

function fieldsOf(type: GraphQLInputObjectType): FieldsOf {
  let known = fieldsCache.get(type);
  if (!known) {
    const fields = type.getFields();
    const required = new Set(Object.values(fields).filter((f) => isNonNullType(f.type) && f.defaultValue === undefined).map((f) => f.name));
    fieldsCache.set(type, (known = { fields, required }));
  }
  return known;
}

/** Set by `shortened`: whether the value it read certainly brings at least one error (when it can tell). */
let certainlyRefused = false;

/**
 * `value` sent for `type`, with its print-only parts that print long replaced (see above) and
 * lists cut past the error cap; the same object when nothing is, a shallow copy along the way
 * to each that is. Sets certainlyRefused for an input object's value: null where none is
 * allowed, not an object, a required field left out or a field the type does not define.
 */
function shortened(value: unknown, type: GraphQLInputType): unknown {
  certainlyRefused = false;
  const inner = isNonNullType(type) ? type.ofType : type;
  if (value === null || value === undefined) {
    certainlyRefused = inner !== type && isInputObjectType(inner);
    return value;
  }
  if (isListType(inner)) {
    // A list's items are coerced one by one; a value that is not a list, as a list of one.
    if (!Array.isArray(value)) return shortened(value, inner.ofType);
    let errors = 0;
    let copy: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const item = value[i] as unknown;
      const next = shortened(item, inner.ofType);
      if (next !== item) (copy ??= [...(value as unknown[])])[i] = next;
      // Past the cap within this list alone: the executor never reads the items after this one.
      if (certainlyRefused && ++errors > VARIABLE_ERROR_CAP && i + 1 < value.length) return (copy ?? value).slice(0, i + 1);
    }
    certainlyRefused = false;
    return copy ?? value;
  }
  if (!isInputObjectType(inner)) {
    // An object (or list) where a scalar or enum goes is refused, printed, whatever it holds.
    return typeof value === 'object' ? printOnly(value) : value; // strings are bounded by VARIABLE_LIMITS
  }
  // Anything but an object where one goes is refused, printed once (a list too: left as it is).
  if (typeof value !== 'object' || Array.isArray(value)) {
    certainlyRefused = true;
    return value;
  }
  const { fields, required } = fieldsOf(inner);
  let refused = false;
  let requiredSent = 0;
  let copy: Record<string, unknown> | null = null;
  for (const key of Object.keys(value)) {
    const field = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (!field) refused = true;
    else if (required.has(key)) requiredSent++;
    const v = (value as Record<string, unknown>)[key];
    if (typeof v !== 'object' || v === null) continue;
    // A field the type does not define is refused and never read: only printed.
    const next = field ? shortened(v, field.type) : printOnly(v);
    if (next !== v) (copy ??= { ...(value as Record<string, unknown>) })[key] = next;
  }
  certainlyRefused = refused || requiredSent < required.size;
  return copy ?? value;
}

/** The variables of `operationName` in `document`, with print-only values that print long replaced; the same object when none is. */
export function withShortPrintedValues(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>>,
): Readonly<Record<string, unknown>> {
  const op = getOperationAST(document, operationName);
  let copy: Record<string, unknown> | null = null;
  for (const def of op?.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    if (!Object.hasOwn(variables, name)) continue;
    const type = typeFromAST(schema, def.type);
    const value = variables[name];
    // Validation has checked the type exists and is an input type.
    if (type === undefined || typeof value !== 'object' || value === null) continue;
    const next = shortened(value, type as GraphQLInputType);
    if (next !== value) (copy ??= { ...variables })[name] = next;
  }
  return copy ?? variables;
}

/** Runs the executor on the variables withShortPrintedValues gives (Yoga's path; the compiled path admits valid variables only). */
export function useShortPrintedValues(): Plugin {
  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn((args): unknown => {
        // Envelop types the arguments as any: they are graphql's.
        const { schema, document, operationName, variableValues } = args as ExecutionArgs;
        if (!variableValues) return executeFn(args) as unknown;
        const shortVariables = withShortPrintedValues(schema, document, operationName, variableValues);
        return executeFn(shortVariables === variableValues ? args : { ...(args as ExecutionArgs), variableValues: shortVariables }) as unknown;
      });
    },
  };
}
