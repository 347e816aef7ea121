/**
 * Gives every GraphQL error a stable `extensions.code`, including those graphql-js raises
 * before any resolver runs: a variable that does not fit CustomerInput is BAD_USER_INPUT
 * with the field path; a document that does not parse or validate says so, and a value
 * written in the document that does not fit names its argument path too. A variable sent null
 * inside such a value where null is not taken is BAD_USER_INPUT, named by argument path.
 */
import {
  BREAK,
  Kind,
  TypeInfo,
  isNonNullType,
  visit,
  visitWithTypeInfo,
  type ASTNode,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLError,
  type GraphQLSchema,
  type ValueNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { CONTRACT_ENUMS, MAX_LISTED_ISSUES, type ContractEnumName } from '../contract.js';
import { OVERFLOW_REASON } from '../json-body.js';

type IssuePath = (string | number)[];

const VARIABLE_ERROR = /^Variable "\$(\w+)" (?:got invalid value|of required type|of non-null type)/;

/** After a variable's name, the rest of a path as graphql-js prints it: `.tenure`, `[3]`. */
const PRINTED_PATH_REST = /^(?:\.\w+|\[\d+\])*$/;

/** A required field left out, as coerceInputValue says it (the name is the schema's). */
const MISSING_FIELD = /^Field "(\w+)" of required type /;

/** The end of coerceInputValue's "Field "<key as sent>" is not defined by type "…"." (before any suggestion). */
const NOT_DEFINED_BY = '" is not defined by type "';

/**
 * The path of a problem in variable `name`, from the executor's message `Variable "$cs" got invalid
 * value <value> at "cs[1].tenure"; <reason>` (no "at" when the problem is the variable itself), with
 * the field a reason names (missing, or not defined: the key as sent) at the end.
 *
 * The value printed and the reason hold the caller's text (an object's keys are printed unquoted,
 * an enum value as sent), so neither a search for ` at "` nor for `; Field "` can tell it from
 * graphql-js's: a key `x at "c.tenure"` put "tenure" on the path of a missing field. The reason is
 * the message of the error's originalError, so it is cut off first; the path is then at the very end
 * of what is left, and the field at the very start of the reason. Linear: one lastIndexOf each.
 */
function variablePath(name: string, message: string, reason: string | undefined): IssuePath {
  const path: IssuePath = [name];
  if (reason === undefined || !message.endsWith(`; ${reason}`)) return path;
  const head = message.slice(0, message.length - reason.length - 2);
  // The printed value ends with `}`, `]`, a JSON string's unescaped `"`, or a number: never ` at "<path>"`.
  const at = head.lastIndexOf(' at "');
  const printed = at >= 0 && head.endsWith('"') ? head.slice(at + 5, -1) : '';
  if (printed.startsWith(name) && PRINTED_PATH_REST.test(printed.slice(name.length))) {
    for (const [, key, index] of printed.slice(name.length).matchAll(/\.(\w+)|\[(\d+)\]/g)) path.push(key ?? Number(index));
  }
  const missing = MISSING_FIELD.exec(reason)?.[1];
  if (missing !== undefined) path.push(missing);
  else if (reason.startsWith('Field "')) {
    const end = reason.lastIndexOf(NOT_DEFINED_BY);
    if (end >= 0) path.push(reason.slice('Field "'.length, end));
  }
  return path;
}

/**
 * The executor's error after VARIABLE_ERROR_CAP variable errors: it names no variable, but like the
 * 50 before it is about the values sent (answered GRAPHQL_VALIDATION_FAILED, a client read the 51st
 * error of one refused input as a document to fix). No path: an empty issues list.
 */
const TOO_MANY_VARIABLE_ERRORS = /^Too many errors processing variables, error limit reached\./;

/** A variable with a default sent as null where the argument takes no null (graphql-js finds it only while executing). */
const NULL_ARGUMENT = /^Argument "(\w+)" of non-null type "[^"]+" must not be null\./;

/**
 * A value written in the document that the executor could not read although it validated: a
 * variable in it, declared nullable with a default (so validation lets it stand where null is not
 * taken), was sent null. The values are the caller's; named in useErrorCodes' onExecute (nullVariableIssues).
 */
const INVALID_ARGUMENT = /^Argument "(\w+)" has invalid value /;

type Issue = { path: IssuePath; message: string };

/** Longest error message answered; longer ones (a large invalid value printed in full) are cut with "…". */
export const MAX_MESSAGE_CHARS = 1000;

const CALLER_ERRORS = new Set(['BAD_USER_INPUT', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED']);

function codeFor(error: GraphQLError): { code: string; issues?: Issue[]; issueCount?: number } {
  const variable = VARIABLE_ERROR.exec(error.message)?.[1];
  if (variable !== undefined) {
    // Read by shape, as in addCode: graphql may be loaded twice.
    const reason = (error.originalError as { message?: unknown } | null | undefined)?.message;
    const path = variablePath(variable, error.message, typeof reason === 'string' ? reason : undefined);
    return { code: 'BAD_USER_INPUT', issues: [{ path, message: error.message }] };
  }
  if (TOO_MANY_VARIABLE_ERRORS.test(error.message)) return { code: 'BAD_USER_INPUT', issues: [] };
  const argument = NULL_ARGUMENT.exec(error.message)?.[1];
  if (argument !== undefined) return { code: 'BAD_USER_INPUT', issues: [{ path: [argument], message: error.message }] };
  // Only the executor says it, once the document validated (so the error has a response path).
  const invalid = error.path ? INVALID_ARGUMENT.exec(error.message)?.[1] : undefined;
  if (invalid !== undefined) {
    // On the field's response path, as the resolvers' BAD_USER_INPUT (errors.ts badUserInput): listed and counted alike.
    const issues = nullVariables.get(error) ?? [{ path: [invalid], message: error.message }];
    return { code: 'BAD_USER_INPUT', issues: issues.slice(0, MAX_LISTED_ISSUES), issueCount: issues.length };
  }
  if (error.message.startsWith('Syntax Error')) return { code: 'GRAPHQL_PARSE_FAILED' };
  return { code: 'GRAPHQL_VALIDATION_FAILED' };
}

/** A required field missing from an object value ("Field "CustomerInput.contract" of required type …"), named only in the message. */
const MISSING_LITERAL_FIELD = /^Field "\w+\.(\w+)" of required type "[^"]+" was not provided\./;

/**
 * Validation errors about a value written in the document, with the path to it (see
 * literalPath), noted by useErrorCodes' onValidate and read by addCode. The same error objects
 * reach the result, and Yoga's validation cache answers the same document with them again.
 */
const literalPaths = new WeakMap<GraphQLError, IssuePath>();

/** Whether `inner` lies within `outer`'s text (the document is parsed with locations). */
const within = (outer: ASTNode, inner: ASTNode): boolean =>
  outer.loc !== undefined && inner.loc !== undefined && outer.loc.start <= inner.loc.start && inner.loc.end <= outer.loc.end;

/**
 * The path from `path` (an argument or variable) down to `target` inside `value`: object field
 * names and list indexes, as variable errors name them. By identity (graphql-js reports the
 * nodes of the document it validated) or else by location, the deepest value holding it.
 */
function pathIn(value: ValueNode, target: ASTNode, path: IssuePath): IssuePath | undefined {
  if (value === target) return path;
  if (value.kind === Kind.OBJECT) {
    for (const field of value.fields) {
      const fieldPath = [...path, field.name.value];
      if (field === target || field.name === target) return fieldPath;
      const found = pathIn(field.value, target, fieldPath);
      if (found) return found;
      if (within(field, target)) return fieldPath;
    }
  } else if (value.kind === Kind.LIST) {
    for (const [i, item] of value.values.entries()) {
      const found = pathIn(item, target, [...path, i]);
      if (found) return found;
    }
  }
  return within(value, target) ? path : undefined;
}

/**
 * Where in the document's arguments (or variables' default values) a validation error's node
 * is: `["customer", "onlineBackup"]` for `predict(customer: { onlineBackup: Yes … })`,
 * `["customers", 1, "tenure"]` in a list; undefined for an error about anything else (a
 * field, a fragment, an operation). A required field left out of an object is named at the end.
 */
function literalPath(error: GraphQLError, document: DocumentNode): IssuePath | undefined {
  let found: IssuePath | undefined;
  for (const target of error.nodes ?? []) {
    // A variable where a value goes is about the variable's type, not a value written here.
    if (target.kind === Kind.VARIABLE || target.kind === Kind.VARIABLE_DEFINITION) continue;
    // false: no need to look inside the argument again; BREAK: found, stop.
    const search = (root: string, value: ValueNode): unknown => {
      found = pathIn(value, target, [root]);
      return found ? BREAK : false;
    };
    visit(document, {
      Argument: (node) => search(node.name.value, node.value),
      VariableDefinition: (node) => (node.defaultValue ? search(node.variable.name.value, node.defaultValue) : false),
    });
    if (found) break;
  }
  const missing = found && MISSING_LITERAL_FIELD.exec(error.message)?.[1];
  return found && missing !== undefined ? [...found, missing] : found;
}

/**
 * The variables sent null where the executor could not take null, by the INVALID_ARGUMENT error
 * they caused (noted by useErrorCodes' onExecute, read by codeFor).
 */
const nullVariables = new WeakMap<GraphQLError, Issue[]>();

/**
 * Each variable sent null (`sent`: the request's variables) that stands in a value written in the
 * document where its type takes no null, by the argument value holding it: the path from the
 * argument down (`["customer", "tenure"]`, `["customers", 0, "gender"]`), as literalPath names a
 * value written there. One walk of the document, whatever the number of errors: each path is read
 * off the walk's own ancestors (visit's `path[i]` is the key of the child in `[...ancestors, parent][i]`).
 */
function nullVariablesIn(document: DocumentNode, schema: GraphQLSchema, sent: Readonly<Record<string, unknown>>): Map<ASTNode, Issue[]> {
  const found = new Map<ASTNode, Issue[]>();
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Variable(node, _key, parent, keys, ancestors) {
        const name = node.name.value;
        const type = typeInfo.getInputType();
        if (!isNonNullType(type) || !Object.hasOwn(sent, name) || sent[name] !== null) return;
        const path: IssuePath = [];
        const holders = [...ancestors, parent] as (ASTNode | readonly ASTNode[])[];
        for (let i = holders.length - 1; i >= 0; i--) {
          const holder = holders[i] as ASTNode | readonly ASTNode[];
          if ('kind' in holder && holder.kind === Kind.OBJECT_FIELD) path.unshift(holder.name.value);
          else if (Array.isArray(holder) && (holders[i - 1] as ASTNode | undefined)?.kind === Kind.LIST) path.unshift(keys[i] as number);
          else if ('kind' in holder && holder.kind === Kind.ARGUMENT) {
            const issue = { path: [holder.name.value, ...path], message: `Variable "$${name}" is sent null where type "${String(type)}" takes no null: send a value, or leave it out for its default.` };
            const issues = found.get(holder.value);
            if (issues) issues.push(issue);
            else found.set(holder.value, [issue]);
            return;
          }
        }
      },
    }),
  );
  return found;
}

/**
 * The start and the end of a long message (graphql-js puts the printed value in the middle and the
 * reason last). A cut inside a character leaves its half as U+FFFD (toWellFormed), never a lone surrogate.
 */
const cut = (message: string): string =>
  message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, 300)} … ${message.slice(message.length - (MAX_MESSAGE_CHARS - 303))}`.toWellFormed() : message;

function isExecutionResult(value: unknown): value is ExecutionResult {
  return typeof value === 'object' && value !== null && !(Symbol.asyncIterator in value) && !Array.isArray(value);
}

/**
 * Adds the code in place: graphql may be loaded twice (ESM and CJS builds), so an
 * `instanceof GraphQLError` test or a re-created error could miss or confuse Yoga.
 */
function addCode(error: GraphQLError, tidy: (message: string) => string): void {
  const extensions = error.extensions as Record<string, unknown> | undefined;
  if (!extensions) return;
  if (!extensions['code']) {
    const { code, issues, issueCount } = codeFor(error);
    Object.assign(extensions, issues ? { code, issues: issues.map((i) => ({ ...i, message: tidy(i.message) })) } : { code }, issueCount === undefined ? {} : { issueCount });
  }
  (error as { message: string }).message = tidy(error.message);
  // A value written in the document: named by argument path, as a variable's is by variable path.
  const literal = literalPaths.get(error);
  if (literal && !extensions['issues']) extensions['issues'] = [{ path: literal, message: error.message }];
  // Yoga's BAD_REQUEST for a body that is not JSON carries the parser's message, which quotes the body.
  const original = extensions['originalError'] as { message?: unknown } | undefined;
  if (original && typeof original.message === 'string') extensions['originalError'] = { ...original, message: tidy(original.message) };
  // Every pre-execution failure is the caller's: 400, whatever the accept header. (Yoga marks
  // them `spec` and answers 200 to application/json clients; callers here expect a 4xx.)
  const http = extensions['http'] as { status?: number; spec?: boolean } | undefined;
  if (CALLER_ERRORS.has(extensions['code'] as string) && (http?.spec || !http?.status)) {
    extensions['http'] = { ...http, status: http?.status ?? 400, spec: false };
  }
}

/**
 * graphql-js's refusals of an enum value, in variables and in documents: "Value "Female" does
 * not exist in "Gender" enum.", "Enum "Gender" cannot represent non-string value: 3." or
 * "… non-enum value: "Female".", each with "Did you mean …?" only for a near miss.
 *
 * The value is printed as sent (an object's keys unquoted, "Value "…"" raw), so these are found
 * without a lazy `.*?` run from every place the caller's text could start one: that was
 * quadratic in the message, and 200 KB of variables whose keys repeated `Value "` held the event
 * loop 70 s (every other request waited).
 */
const VALUE_REFUSED = /" does not exist in "(\w+)" enum\./g;
const NON_ENUM_REFUSED = /Enum "(\w+)" cannot represent non-(?:string|enum) value: /;
const SUGGESTION_AT = / Did you mean [^?]*\?/y;

/** Where graphql-js's trailing " Did you mean …?" starts, or the message's length when it has none. */
function suggestionStart(message: string): number {
  if (!message.endsWith('?')) return message.length;
  const at = message.lastIndexOf(' Did you mean ');
  return at >= 0 && message.indexOf('?', at) === message.length - 1 ? at : message.length;
}

const allowedValues = (name: string | undefined): string | null =>
  name !== undefined && Object.hasOwn(CONTRACT_ENUMS, name) ? Object.keys(CONTRACT_ENUMS[name as ContractEnumName]).join(', ') : null;

/**
 * An enum value refused says which ones are allowed, as REST's messages do, whatever was sent
 * (graphql-js suggests only near misses: "monthly" for Contract got no hint) and in production
 * too, where suggestions are hidden: the values are the published contract (the SDL), not a
 * secret a suggestion could leak. The refusal ends the message, so the last one is graphql-js's.
 */
function withAllowedEnumValues(message: string): string {
  const start = message.indexOf('Value "');
  if (start >= 0) {
    let last: RegExpExecArray | null = null;
    VALUE_REFUSED.lastIndex = start + 'Value "'.length;
    for (let m = VALUE_REFUSED.exec(message); m !== null; m = VALUE_REFUSED.exec(message)) last = m;
    const values = allowedValues(last?.[1]);
    if (last && values) {
      const reasonEnd = last.index + last[0].length;
      SUGGESTION_AT.lastIndex = reasonEnd;
      const after = SUGGESTION_AT.test(message) ? SUGGESTION_AT.lastIndex : reasonEnd;
      return `${message.slice(0, reasonEnd - 1)}; allowed: ${values}.${message.slice(after)}`;
    }
  }
  const nonEnum = NON_ENUM_REFUSED.exec(message);
  const values = allowedValues(nonEnum?.[1]);
  const end = suggestionStart(message);
  if (nonEnum && values && message.charAt(end - 1) === '.') return `${message.slice(0, end - 1)}; allowed: ${values}.`;
  return message;
}

/** graphql-js's refusal of a variable's Float read as Infinity, at the end of its message. */
const INFINITE_FLOAT = /Float cannot represent non numeric value: -?Infinity$/;

/**
 * A variable's number too large for a 64-bit float (1e400) is read as Infinity by JSON.parse, and
 * graphql-js names it so ("got invalid value Infinity"): the message says what was sent instead, as
 * REST's and a document literal's do.
 */
function withOverflowNote(message: string): string {
  return INFINITE_FLOAT.test(message) ? `${message}; the number sent is ${OVERFLOW_REASON}` : message;
}

/** What graphql-armor's blockFieldSuggestion puts in place of a suggestion. */
export const SUGGESTION_MASK = '[Suggestion hidden]';

/**
 * `hideSuggestions` (production): "Did you mean …?" is masked in every message, as
 * graphql-armor masks it in validation errors only; variable errors ("Field "tenur" is not
 * defined … Did you mean "tenure"?", enum values) would otherwise spell the schema out.
 */
export function useErrorCodes(options: { hideSuggestions: boolean }): Plugin {
  // graphql-js prints the invalid value into the message: answers stay small whatever was sent.
  // A suggestion runs to its "?" and holds no other "Did you mean": a scan from each "Did you mean"
  // to the next "?" (or the end, when there is none) was quadratic in text the caller sent.
  const hide = options.hideSuggestions ? (m: string) => m.replace(/Did you mean (?:[^?D]|D(?!id you mean ))*\?/g, SUGGESTION_MASK) : (m: string) => m;
  const tidy = (m: string) => cut(hide(withOverflowNote(withAllowedEnumValues(m))));
  // Yoga answers a document it has seen fail validation with the same error objects: each is
  // changed once (tidy is not idempotent: a second pass listed an enum's allowed values twice).
  const answered = new WeakSet<GraphQLError>();
  return {
    onValidate({ params: { documentAST } }: { params: { documentAST: DocumentNode } }) {
      return ({ valid, result }: { valid: boolean; result: readonly unknown[] }) => {
        if (valid) return;
        for (const error of result) {
          // Read by shape, as in addCode: graphql may be loaded twice.
          if (typeof error !== 'object' || error === null || !('nodes' in error) || literalPaths.has(error as GraphQLError)) continue;
          const path = literalPath(error as GraphQLError, documentAST);
          if (path) literalPaths.set(error as GraphQLError, path);
        }
      };
    },
    onExecute({ args }: { args: { schema: GraphQLSchema; document: DocumentNode; variableValues?: Readonly<Record<string, unknown>> | null } }) {
      return {
        onExecuteDone({ result }: { result: ExecutionResult | AsyncIterable<ExecutionResult> }) {
          if (!isExecutionResult(result) || !result.errors?.some((e) => e.path && INVALID_ARGUMENT.test(e.message))) return;
          const byValue = nullVariablesIn(args.document, args.schema, args.variableValues ?? {});
          for (const error of result.errors) {
            const issues = error.nodes?.[0] && byValue.get(error.nodes[0]);
            if (issues && INVALID_ARGUMENT.test(error.message)) nullVariables.set(error, issues);
          }
        },
      };
    },
    onResultProcess({ result }) {
      if (!isExecutionResult(result)) return;
      for (const error of result.errors ?? []) {
        if (answered.has(error)) continue;
        answered.add(error);
        addCode(error, tidy);
      }
    },
  };
}
