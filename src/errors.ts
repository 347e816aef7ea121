/**
 * Error classes with a stable `code`. Callers (REST, GraphQL, start-up) map codes to
 * HTTP statuses and exit codes; the message is written for the person who must act.
 */
import { inspect } from 'node:util';
import type { z } from 'zod';

export class GatewayError extends Error {
  /**
   * Seconds after which repeating the same request may succeed, sent as Retry-After with the
   * 503 (RFC 9110 §10.2.3); undefined for failures that repeating does not cure.
   */
  readonly retryAfterSeconds?: number;

  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Retry-After for the transient 503s: a starting gateway is ready within seconds (or falls back
 * to its bundle within the load deadline), a draining one's callers are sent to another task by
 * the load balancer, a lost inference worker is replaced at the next run, and the explanations
 * that fill the budget of risk drivers in flight are answered within a second or two.
 */
export const TRANSIENT_RETRY_AFTER_SECONDS = 1;

/** The model bundle is missing, corrupt, or disagrees with the gateway's contract. */
export class BundleError extends GatewayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODEL_BUNDLE_INVALID', message, options);
  }
}

/** Inference failed on a model that was loaded and warmed up. */
export class InferenceError extends GatewayError {
  override readonly retryAfterSeconds = TRANSIENT_RETRY_AFTER_SECONDS;
  constructor(message: string, options?: { cause?: unknown }) {
    super('INFERENCE_FAILED', message, options);
  }
}

/**
 * No model is ready to serve (starting up or shutting down). Its default, what a request before the
 * first model gets, says it passes and what to do: GraphiQL shows the message only, not Retry-After,
 * and "the model is not ready" left a newcomer to guess whether anything would change.
 */
export class NotReadyError extends GatewayError {
  override readonly retryAfterSeconds = TRANSIENT_RETRY_AFTER_SECONDS;
  constructor(message = 'the gateway is still starting: its model is not loaded yet; repeat the request in a few seconds') {
    super('MODEL_NOT_READY', message);
  }
}

/**
 * Too much of a budget shared by all requests is in use now (the risk drivers being explained at
 * once: explanation.ts DriverBudget); the same request may fit once others are answered.
 */
export class OverloadedError extends GatewayError {
  override readonly retryAfterSeconds = TRANSIENT_RETRY_AFTER_SECONDS;
  constructor(message: string) {
    super('OVERLOADED', message);
  }
}

export function describeError(err: unknown): string {
  // The cause is added unless the message already says it: a cause with no message (node's fetch
  // gives one for several refusals) added "(cause: )", and an error whose message quotes its
  // cause (the MLflow client's "…: fetch failed (cause: connect ECONNREFUSED …)") said it twice.
  if (err instanceof Error) return err.cause instanceof Error && !err.message.includes(err.cause.message) ? `${err.message} (cause: ${err.cause.message})` : err.message;
  // Not an Error (a rejected plain object, a string): show what it is, not "[object Object]".
  return typeof err === 'object' && err !== null ? inspect(err, { depth: 3, breakLength: Infinity }) : String(err);
}

/** A zod error's issues on one line, each as `path: message` (`(root)` for the value itself). */
export function zodIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}
