/**
 * The gateway's messages name GraphQL fields and values ("multipleLines must be
 * NO_PHONE_SERVICE exactly when phoneService is false"); the form shows labels ("Multiple
 * lines", "No phone service", No). inFormWords rewrites a message in the form's words,
 * reading the labels from the field definitions the form is built from, so a relabelled
 * field or option is renamed in the gateway's messages too.
 */
import { ALL_FIELDS, YES_NO, type FieldName, type FieldSpec } from './customer-fields.js';

const FIELDS = new Map<string, FieldSpec>(ALL_FIELDS.map((f) => [f.name, f]));

/** The labels of a field's values, by the value the gateway names (an enum value, true or false). */
function valueLabels(field: FieldSpec | undefined): Readonly<Record<string, string>> | null {
  if (field?.kind === 'choice') return field.options;
  if (field?.kind === 'yesNo') return YES_NO;
  return null;
}

/** The form's label of a field's value ("TWO_YEAR" of contract is "Two year", true is "Yes"); the value itself when the form has none. */
export const valueLabel = (field: FieldName, value: string): string => valueLabels(FIELDS.get(field))?.[value] ?? value;

/** The form's label of a field the gateway names ("tenure" is "Tenure (months)"); the name itself for one the form lacks. */
export const fieldLabel = (name: string): string => FIELDS.get(name)?.label ?? name;

/**
 * A label as a sentence's subject: without its parenthetical ("Tenure (months)" is "Tenure",
 * "Senior citizen (65 or older)" is "Senior citizen"), which the gateway's sentence says in
 * its own words ("must be an integer number of months").
 */
export const inSentence = (label: string) => label.replace(/ \([^)]*\)$/, '');

/** Quoted, as the page's own messages quote "No phone service": a value, not a word of the sentence. */
const asOption = (label: string) => `"${label}"`;

/**
 * A name in a message, with the path before it when there is one ("customer.contract",
 * "customers[2].tenure"); not a part of a number (3.4e+38) or of a variable ($customer).
 */
const NAME = /(?<![\w$.])((?:[A-Za-z_]\w*(?:\[\d+\])?\.)*)([A-Za-z_]\w*)/g;

/**
 * `field`: the field the message is about (the path), whose values it may name before
 * naming any field. A value is read as one of the field named last: "internetService is NO"
 * is "No internet service", "multipleLines=NO" is "No". Null is what the form calls empty.
 * Without `field` (a message about no one field), only names on a path ("customer.contract")
 * are fields: a bare word may be English ("the gateway's contract").
 */
/**
 * `spellings`: the values' words by field, instead of the form's option labels (the file page
 * names values as its file writes them: "No" for no internet service, 0/1 for a senior citizen).
 */
export function inFormWords(message: string, field: FieldName | null = null, spellings?: (field: FieldName) => Readonly<Record<string, string>> | null): string {
  let context = field === null ? undefined : FIELDS.get(field);
  return message.replace(NAME, (whole, path: string, name: string, at: number) => {
    const named = field === null && path === '' ? undefined : FIELDS.get(name);
    if (named) {
      context = named;
      return inSentence(named.label);
    }
    if (path !== '') return whole;
    const labels = spellings && context ? spellings(context.name) : valueLabels(context);
    // Already quoted in the message (graphql-js: 'the enum value "TWO_YEAR"'): not quoted again.
    const quoted = message[at - 1] === '"' && message[at + whole.length] === '"';
    if (labels && Object.hasOwn(labels, name)) return quoted ? (labels[name] as string) : asOption(labels[name] as string);
    return name === 'null' ? 'empty' : whole;
  });
}
