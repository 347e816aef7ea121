/**
 * Where the gateway's refusal of a customer goes on the form: each BAD_USER_INPUT issue next to
 * the control its path names (the customer id too), in the form's words with the gateway's own
 * wording kept; what names no control (an error without issues, an issue about no field) goes to
 * the result area.
 */
import { ALL_FIELDS } from './customer-fields.js';
import { inFormWords } from './form-words.js';
import type { GraphQLErrorBody, GraphQLIssue } from './gateway-client.js';
import type { FieldIssues, FormFieldName } from './validate.js';

export interface PlacedErrors {
  /** By control, in the form's words. */
  readonly issues: FieldIssues;
  /** By control, the gateway's own words for the same issues. */
  readonly wording: FieldIssues;
  /** The gateway's words for what has no control, one entry per error. */
  readonly general: readonly string[];
}

const CONTROLS = new Set<string>(['customerId', ...ALL_FIELDS.map((f) => f.name)]);

/** The control named by an issue path such as ["customer", "tenure"]; null when the form has none. */
export function fieldOfIssuePath(path: readonly (string | number)[]): FormFieldName | null {
  const last = path[path.length - 1];
  return typeof last === 'string' && CONTROLS.has(last) ? (last as FormFieldName) : null;
}

/** An issue as the gateway's own summary writes it: "customer.tenure: must be …", "top: must be …". */
const issueText = (issue: GraphQLIssue) => `${issue.path.map((p, k) => (typeof p === 'number' ? `[${p}]` : k === 0 ? p : `.${p}`)).join('')}: ${issue.message}`;

const joined = (before: string | undefined, message: string) => (before ? `${before} ${message}` : message);

/**
 * Places every issue by itself: one error may name a field of the form and something else (a
 * customer's tenure and the request's `top`), and the second is shown, not dropped. An error
 * none of whose issues has a control is shown by its own message, which names them.
 */
export function placeErrors(errors: readonly GraphQLErrorBody[]): PlacedErrors {
  const issues: FieldIssues = {};
  const wording: FieldIssues = {};
  const general: string[] = [];
  for (const error of errors) {
    const listed = error.extensions?.code === 'BAD_USER_INPUT' ? (error.extensions.issues ?? []) : [];
    const unplaced: GraphQLIssue[] = [];
    for (const issue of listed) {
      const field = fieldOfIssuePath(issue.path);
      if (!field) {
        unplaced.push(issue);
        continue;
      }
      // The customer id's messages name no field or value of the form.
      issues[field] = joined(issues[field], inFormWords(issue.message, field === 'customerId' ? null : field));
      wording[field] = joined(wording[field], issue.message);
    }
    if (unplaced.length === listed.length) general.push(error.message);
    else if (unplaced.length > 0) general.push(`Invalid input: ${unplaced.map(issueText).join('; ')}`);
  }
  return { issues, wording, general };
}
