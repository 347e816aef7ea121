/**
 * GraphQL error shapes with stable `extensions.code`s. Yoga's masking stays on: anything
 * not built here reaches clients as "Unexpected error." with no internals.
 */
import { createGraphQLError } from 'graphql-yoga';
import type { FieldNode, GraphQLError } from 'graphql';
import { MAX_LISTED_ISSUES } from '../contract.js';
import type { GatewayError } from '../errors.js';

export interface InputIssue {
  /** Path from the argument down, e.g. ["customers", 3, "tenure"]. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * A 400 naming what is wrong: the message summarizes the first 5 problems, and
 * `extensions.issues` lists up to MAX_LISTED_ISSUES of them, with `issueCount` the total.
 */
export function badUserInput(issues: readonly InputIssue[]): GraphQLError {
  const summary = issues.slice(0, 5).map((i) => `${i.path.map((p, k) => (typeof p === 'number' ? `[${p}]` : k === 0 ? p : `.${p}`)).join('')}: ${i.message}`);
  const more = issues.length > 5 ? '; …' : '';
  const listed = issues.length > MAX_LISTED_ISSUES ? `, the first ${MAX_LISTED_ISSUES} listed in extensions.issues` : '';
  const message = issues.length === 1 ? `Invalid input: ${summary[0]}` : `Invalid input (${issues.length} problems${listed}): ${summary.join('; ')}${more}`;
  return createGraphQLError(message, {
    extensions: {
      code: 'BAD_USER_INPUT',
      issues: issues.slice(0, MAX_LISTED_ISSUES).map((i) => ({ path: i.path, message: i.message })),
      issueCount: issues.length,
      http: { status: 400 },
    },
  });
}

/**
 * A known gateway failure (model not ready, inference failed, overloaded) as a 503 with its code
 * and the request id; located at `nodes` when given (else at the field that throws it).
 */
export function gatewayFailure(err: GatewayError, requestId: string, nodes?: readonly FieldNode[]): GraphQLError {
  // No originalError: Yoga masks errors that wrap non-GraphQL errors, and this message is meant for callers.
  return createGraphQLError(err.message, {
    ...(nodes === undefined ? {} : { nodes }),
    extensions: {
      code: err.code,
      requestId,
      http: { status: 503, ...(err.retryAfterSeconds === undefined ? {} : { headers: { 'retry-after': String(err.retryAfterSeconds) } }) },
    },
  });
}

export function forbidden(message: string): GraphQLError {
  return createGraphQLError(message, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
}
