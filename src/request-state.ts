/**
 * What one HTTP request carries through the gateway: its id (from x-request-id or new),
 * its child logger (made on first use), and what the access-log line reports at the end.
 */
import { randomUUID } from 'node:crypto';
import type { BodyHold } from './http.js';
import type { Logger } from './logger.js';
import type { Prediction } from './prediction.js';

export interface RequestState {
  readonly id: string;
  /**
   * The address the request came from (client-address.ts, TRUSTED_PROXY_HOPS), null when the socket
   * closed before it was read: on its access line and, as a binding of `log`, on its every line.
   */
  readonly client: string | null;
  readonly log: Logger;
  readonly startedAt: bigint;
  route: string;
  operation: string | null;
  /** The code of the error it was answered with, for its access line (logger.ts AccessLogEntry.code); null while it has none. */
  code: string | null;
  rows: number | null;
  /** Whether it sent the admin token (Authorization: Bearer ADMIN_TOKEN), or why not: reloadModel's refusal says which. */
  admin: AdminAccess;
  /**
   * What this request scored (noteScored), and by which models, metered and named on its access
   * line once it is answered with 2xx: a request that fails after scoring some fields, or whose
   * compiled run is repeated by Yoga, has served no prediction.
   */
  scored: ScoredTally | null;
  /** Request-body bytes this request holds of the gateway's budget (given back when it is answered and its work has ended). */
  bodyHold: BodyHold | null;
  /**
   * Risk drivers this request holds of the gateway's budget of drivers being explained at once
   * (schema/explanation.ts DriverBudget), given back with its body's share (app.ts).
   */
  driversHeld: number;
  /**
   * Why nobody waits for this request's answer any more (null while someone does): the
   * connection closed first, or the request was answered by its timeout or by the shutdown's
   * (server.ts, SHUTDOWN_TIMEOUT_MS). Work still to do
   * on it stops at the next stopIfAbandoned.
   */
  abandoned: AbandonReason | null;
  /** Set when stopIfAbandoned stopped the work (GraphQL resolvers' errors do not reach the handler as thrown). */
  stopped: WorkAbandoned | null;
}

/**
 * `admin`: the request sent ADMIN_TOKEN as `Authorization: Bearer <token>`. Else why not: no
 * Authorization header (`none`), one that is not `Bearer <token>` (`malformed`), another token
 * (`mismatch`), or no ADMIN_TOKEN on the gateway (`disabled`, whatever was sent).
 */
export type AdminAccess = 'admin' | 'none' | 'malformed' | 'mismatch' | 'disabled';

export type AbandonReason = 'client_closed' | 'timed_out' | 'shutting_down';

/** Why nobody waits, in words (WorkAbandoned's message). */
const ABANDONED_BECAUSE: Readonly<Record<AbandonReason, string>> = {
  client_closed: 'the caller closed the connection',
  timed_out: 'the request timed out',
  shutting_down: 'the gateway answered it 503 at its shutdown deadline',
};

/**
 * Where a request's work stopped: between two chunks of a large batch's check, before its
 * session.run, or between two chunks of its explanations (scored already: the inference ran).
 */
export type AbandonedStage = 'checking' | 'scoring' | 'explaining';

/** Thrown by stopIfAbandoned: the request's work stops here and nothing is answered (app.ts). */
export class WorkAbandoned extends Error {
  constructor(
    readonly reason: AbandonReason,
    readonly stage: AbandonedStage,
  ) {
    super(`work stopped while ${stage}: ${ABANDONED_BECAUSE[reason]}`);
    this.name = 'WorkAbandoned';
  }
}

/**
 * Throws WorkAbandoned when nobody waits for the request's answer any more, so the work on a
 * batch whose caller left, or that already got its 503, does not take the CPU and the
 * inference worker from callers still waiting.
 */
export function stopIfAbandoned(state: RequestState, stage: AbandonedStage): void {
  if (state.abandoned !== null) throw (state.stopped = new WorkAbandoned(state.abandoned, stage));
}

export interface ScoredTally {
  readonly batchSizes: number[];
  /** The models that scored, in the order they first did, each once (ServedBy). */
  readonly byModel: ServedBy[];
}

/**
 * One model's predictions in a request. A model is its version and its run: the same version
 * number can name two models (the packaged bundle's "2" and MLflow's "2", or two registered
 * models'), so fields scored on either side of a swap between them were logged as one model.
 */
export interface ServedBy {
  readonly version: string;
  readonly runId: string;
  readonly byRisk: { LOW: number; MEDIUM: number; HIGH: number };
}

/** Adds one scoring call's predictions to the request's tally: one model scores every row of a call (Predictor.predict). */
export function noteScored(state: RequestState, predictions: readonly Pick<Prediction, 'riskLevel' | 'modelVersion' | 'model'>[]): void {
  const tally = (state.scored ??= { batchSizes: [], byModel: [] });
  tally.batchSizes.push(predictions.length);
  const first = predictions[0];
  if (first === undefined) return;
  const version = first.modelVersion;
  const { runId } = first.model.lineage;
  let served = tally.byModel.find((m) => m.runId === runId && m.version === version);
  if (served === undefined) tally.byModel.push((served = { version, runId, byRisk: { LOW: 0, MEDIUM: 0, HIGH: 0 } }));
  for (const p of predictions) served.byRisk[p.riskLevel]++;
}

/**
 * The access line's modelVersion and modelRunId: the models whose predictions the answer carried,
 * comma-separated in the same order (the i-th version is the i-th run's); null when none did.
 * Versions are digits or run-<id>, run ids MLflow's hex: never a comma.
 */
export function servedModels(served: ScoredTally | null): { versions: string; runIds: string } | null {
  const models = served?.byModel;
  if (models === undefined || models.length === 0) return null;
  const [only] = models;
  if (models.length === 1 && only) return { versions: only.version, runIds: only.runId };
  return { versions: models.map((m) => m.version).join(','), runIds: models.map((m) => m.runId).join(',') };
}

/** The x-request-id values taken as the request id (openapi.ts describes it). */
export const CALLER_ID = /^[\w.:-]{1,128}$/;

/** Honours a caller's x-request-id when it is a sane token; otherwise makes one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && CALLER_ID.test(value) ? value : randomUUID();
}

/** The bindings of every line about a request: its id, and the address it came from when known. */
export function requestBindings(id: string, client: string | null): { reqId: string; client?: string } {
  return client === null ? { reqId: id } : { reqId: id, client };
}

export function newRequestState(root: Logger, id: string, route: string, client: string | null): RequestState {
  return new State(root, id, route, client);
}

/** A class, not an object literal with a `log` getter: V8 took ~0.6 µs to create that literal, ~0.1 µs for this. */
class State implements RequestState {
  readonly startedAt = process.hrtime.bigint();
  operation: string | null = null;
  code: string | null = null;
  rows: number | null = null;
  admin: AdminAccess = 'none';
  scored: ScoredTally | null = null;
  bodyHold: BodyHold | null = null;
  driversHeld = 0;
  abandoned: AbandonReason | null = null;
  stopped: WorkAbandoned | null = null;
  readonly #root: Logger;
  #child: Logger | undefined;

  constructor(
    root: Logger,
    readonly id: string,
    public route: string,
    readonly client: string | null,
  ) {
    this.#root = root;
  }

  /** Created on first use: a pino child per request (with redaction) costs more than the rest of a prediction. */
  get log(): Logger {
    return (this.#child ??= this.#root.child(requestBindings(this.id, this.client)));
  }
}
