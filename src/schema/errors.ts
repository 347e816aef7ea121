/**
 * GraphQL error shapes with stable `extensions.code`s. Yoga's masking stays on: anything
 * not built here reaches clients as "Unexpected error." with no internals.
 */
import { createGraphQLError } from 'graphql-yoga';
import type { GraphQLError } from 'graphql';
import type { GatewayError } from '../errors.js';

export interface InputIssue {
  /** Path from the argument down, e.g. ["customers", 3, "tenure"]. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export function badUserInput(issues: readonly InputIssue[]): GraphQLError {
  const summary = issues.map((i) => `${i.path.map((p, k) => (typeof p === 'number' ? `[${p}]` : k === 0 ? p : `.${p}`)).join('')}: ${i.message}`);
  const message = issues.length === 1 ? `Invalid input: ${summary[0]}` : `Invalid input (${issues.length} problems): ${summary.join('; ')}`;
  return createGraphQLError(message, {
    extensions: { code: 'BAD_USER_INPUT', issues: issues.map((i) => ({ path: i.path, message: i.message })), http: { status: 400 } },
  });
}

/** A known gateway failure (model not ready, inference failed) as a 503 with its code and the request id. */
export function gatewayFailure(err: GatewayError, requestId: string): GraphQLError {
  // No originalError: Yoga masks errors that wrap non-GraphQL errors, and this message is meant for callers.
  return createGraphQLError(err.message, {
    extensions: { code: err.code, requestId, http: { status: 503 } },
  });
}

export function forbidden(message: string): GraphQLError {
  return createGraphQLError(message, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
}
