/**
 * The rule of the input field a variable path points into, for the problem that refuses a value
 * over VARIABLE_LIMITS (graphql-endpoint.ts): the limits bound what the gateway reads at all, not
 * what a field takes, and a form that trimmed a customerId to the 1,024 characters it was told
 * met a second refusal at 256. The rules are read from the schema (built from the contract) and
 * CUSTOMER_ID_MAX_LENGTH, never restated.
 */
import {
  getNamedType,
  getNullableType,
  getOperationAST,
  isEnumType,
  isInputObjectType,
  isListType,
  isScalarType,
  parse,
  typeFromAST,
  type GraphQLInputField,
  type GraphQLInputType,
} from 'graphql';
import { CUSTOMER_ID_MAX_LENGTH } from '../contract.js';
import { schema } from './index.js';

/** Unknown keys of a customer named in one message, each cut to this many characters: they are what was too many or too long. */
const NAMED_KEYS = 5;
const NAME_CHARS = 40;

/**
 * What the field at `path` (its first segment a variable of `query`'s operation) takes, such as
 * "customerId takes at most 256 characters", or null when the path leads to no input field
 * of the schema (an undeclared variable, a document that does not parse). `value` is the
 * variables object, for the keys of an input object that are none of its fields.
 */
export function inputRuleAt(query: string, operationName: string | null, variables: object, path: readonly (string | number)[]): string | null {
  const [name, ...rest] = path;
  if (typeof name !== 'string') return null;
  let operation;
  try {
    // Only on the way to a 400: the document was held to MAX_DOCUMENT_CHARS before.
    operation = getOperationAST(parse(query, { noLocation: true }), operationName);
  } catch {
    return null;
  }
  const definition = operation?.variableDefinitions?.find((d) => d.variable.name.value === name);
  if (!definition) return null;
  let type: GraphQLInputType | undefined = typeFromAST(schema, definition.type) as GraphQLInputType | undefined;
  let field: { parent: string; field: GraphQLInputField } | null = null;
  let value: unknown = (variables as Record<string, unknown>)[name];
  for (const segment of rest) {
    const nullable: GraphQLInputType | undefined = type && getNullableType(type);
    if (typeof segment === 'number' && isListType(nullable)) type = nullable.ofType;
    else if (typeof segment === 'string' && isInputObjectType(nullable)) {
      const f = nullable.getFields()[segment];
      if (!f) return null;
      field = { parent: nullable.name, field: f };
      type = f.type;
    } else return null;
    value = (value as Record<string | number, unknown>)[segment];
  }
  if (!type) return null;
  const named = getNamedType(type);
  const subject = field ? field.field.name : `$${name}`;
  if (isEnumType(named)) return `${subject} takes ${orList(named.getValues().map((v) => v.name))}`;
  if (isInputObjectType(named)) {
    const fields = named.getFields();
    const count = Object.keys(fields).length;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return `a ${named.name} has ${count} fields`;
    const unknown = Object.keys(value).filter((key) => !Object.hasOwn(fields, key));
    if (unknown.length === 0) return `a ${named.name} has ${count} fields`;
    const cut = (key: string) => JSON.stringify(key.length > NAME_CHARS ? `${key.slice(0, NAME_CHARS)}…`.toWellFormed() : key);
    const listed = unknown.slice(0, NAMED_KEYS).map(cut).join(', ') + (unknown.length > NAMED_KEYS ? ', …' : '');
    return `a ${named.name} has ${count} fields, and ${unknown.length === 1 ? '1 of its keys is' : `${unknown.length} of its keys are`} none of them: ${listed}`;
  }
  if (field?.parent === 'CustomerInput' && field.field.name === 'customerId') return `customerId takes at most ${CUSTOMER_ID_MAX_LENGTH} characters`;
  if (isScalarType(named) && named.name !== 'String') return `${subject} takes ${/^[AEIOU]/.test(named.name) ? 'an' : 'a'} ${named.name}`;
  return null;
}

/** "A, B or C". */
const orList = (names: readonly string[]): string => (names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names.at(-1) ?? ''}`);
