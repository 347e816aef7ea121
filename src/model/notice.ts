/**
 * What is to be said about the serving model (the packaged bundle served because MLflow's model
 * could not be loaded, the alias naming a version that could not be loaded, the model's MLflow run
 * deleted), at two levels. The summary is for anyone: modelInfo.notice and GET /'s `notice` on
 * PORT, which the load balancer exposes. The detail is for operators: the log, GET / on OPS_PORT,
 * and modelInfo.noticeDetail with the admin token. Before the split, every caller was shown the
 * tracking server's address, MLflow's error texts (which can name internal hosts and addresses)
 * and the shell commands that restore a run.
 */
import { GatewayError } from '../errors.js';

export interface Notice {
  /** Names models, versions, runs, experiments and error codes only: no MLflow address, no error text, no command. */
  readonly summary: string;
  /** The summary's facts with the addresses, MLflow's answers and what the operator does next. */
  readonly detail: string;
}

export const notice = (summary: string, detail: string): Notice => ({ summary, detail });

/** Two notices as one, in order. */
export const joinNotices = (first: Notice, second: Notice): Notice => notice(`${first.summary} ${second.summary}`, `${first.detail} ${second.detail}`);

/** Whether two notices say the same (compared by their detail, which holds the summary's facts). */
export const sameNotice = (a: Notice | null, b: Notice | null): boolean => (a === null || b === null ? a === b : a.detail === b.detail);

/** `err`'s code in parentheses with a leading space (" (MLFLOW_UNAVAILABLE)"), for a summary; empty for an error without one. */
export const codeInParentheses = (err: unknown): string => (err instanceof GatewayError ? ` (${err.code})` : '');
