/**
 * Loading and replacing the served model. A candidate is loaded, verified and warmed up
 * beside the current one and swapped in only when all of that succeeded; a candidate
 * that fails leaves the current model serving.
 *
 * One reload runs at a time. A reload asked for while another runs waits for it and then
 * checks the source again (one follow-up, shared by everyone who asked meanwhile), so every
 * caller gets what the source names after it asked, not the answer of a check that started
 * before. A caller with a deadline (reloadModel) is answered when it passes. A reload is
 * cancelled once every caller waiting for it gave up (a poll never does): it swaps nothing in
 * after their answers. One that others still wait for goes on for them. Shutdown (close) cancels
 * every reload not yet swapping in, and starts none.
 */
import { BundleError, GatewayError, NotReadyError, describeError } from '../errors.js';
import { MlflowError } from '../mlflow/client.js';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import { requestBindings } from '../request-state.js';
import type { ChurnModel, InferenceObserver } from './churn-model.js';
import { SHUTTING_DOWN, type ModelSlot } from './model-slot.js';
import { codeInParentheses, joinNotices, notice, sameNotice, type Notice } from './notice.js';

/**
 * Every how many polls the poller loads again a version that failed verification while the source
 * still names it. Not every poll: each try downloads and hashes the whole bundle (about 2 MB) and
 * may warm a model up for its parity check. Not never: a bundle fixed in place (the same version,
 * its run's files uploaded again) was otherwise loaded only by tasks that started after the fix, so
 * the fleet served two models until someone moved the alias away and back across a poll, which a
 * fixed-version MODEL_URI cannot do. Nothing cheaper tells a fixed bundle from the bad one: MLflow
 * lists artifacts with their sizes only, and a repaired file can have the bad one's size.
 */
export const REJECTED_RETRY_POLLS = 5;

export interface LoadOptions {
  /** Aborted when whoever waits for the load gave up (a reloadModel deadline): stop, and nothing is swapped in. */
  readonly signal?: AbortSignal;
  /** Told what is being loaded (as peek() reports it), as soon as it is known. */
  readonly onIdentity?: (named: Named) => void;
}

/**
 * What a source names: its identity (a registry version, or a run id for a run URI) and, when the
 * identity is not the run itself, the run it points at (null: not known or not needed). A registry
 * version number can come back pointing at another run (the registered model deleted and made
 * again), with byte-identical ONNX (training is deterministic): the run tells them apart.
 */
export interface Named {
  readonly identity: string;
  readonly runId: string | null;
}

const sameNamed = (a: Named | null, b: Named | null): boolean => a !== null && b !== null && a.identity === b.identity && a.runId === b.runId;

/** Whether `named` is `model` (whose identity in its source is `identity`): the identity and, when named, the run. */
const names = (named: Named, identity: string | null, model: ChurnModel | null): boolean =>
  named.identity === identity && (named.runId === null || named.runId === model?.lineage.runId);

/** A place models come from (the bundle folder, an MLflow registry). */
export interface ModelSource {
  /** What is being looked for, for logs and errors (a folder, a models:/ URI on its tracking server). */
  readonly description: string;
  /** What is being looked for, as anyone may be told (a notice's summary): a models:/ URI without the server. */
  readonly publicDescription: string;
  /**
   * How long a reloadModel may take, counted from its request's start: kept below
   * REQUEST_TIMEOUT_MS so the caller gets the reload's own answer. Undefined: no deadline.
   */
  readonly reloadDeadlineMs?: number | undefined;
  /** What the source would load now (e.g. a registry version and its run), or null when unknown without loading. */
  peek(): Promise<Named | null>;
  /** The identity peek() would report for `model`, or null when the model did not come from this source. */
  identify?(model: ChurnModel): string | null;
  /** An identity in words (e.g. "version 6"), for notices. */
  describeIdentity?(identity: string): string;
  /**
   * What the operator does to serve a model again, for notices: when the source names none
   * (`names-nothing`), or names one its store does not have (`not-there`: no run, no bundle).
   */
  advice?(when: 'names-nothing' | 'not-there'): string;
  load(options?: LoadOptions): Promise<ChurnModel>;
  /**
   * What is to be said now about where `model` (which this source loaded) came from, in place of
   * its `lineage.notice` (e.g. its MLflow run was deleted since it loaded, or restored), or null.
   * Throws when the source does not answer.
   */
  recheck?(model: ChurnModel): Promise<Notice | null>;
}

export interface ReloadResult {
  readonly changed: boolean;
  readonly model: ChurnModel;
  readonly message: string;
}

/**
 * A reload did not finish within its caller's deadline. `goesOn`: other callers still wait for it, so
 * it may still swap in; else it was cancelled and swaps nothing in.
 */
export class ReloadTimeoutError extends GatewayError {
  constructor(
    message: string,
    readonly goesOn: boolean,
  ) {
    // The time goes to MLflow's answers (the warm-up takes well under a second): upstream, 502.
    super('MLFLOW_UNAVAILABLE', message);
  }
}

/**
 * Same model when the ONNX bytes and the lineage's version, source and run are the same. The run too:
 * a version number that comes back pointing at another run (byte-identical ONNX from a deterministic
 * retrain) kept the old run in modelInfo and every modelRunId.
 */
export function sameModel(a: ChurnModel, b: ChurnModel): boolean {
  return (
    a.manifest.onnx.sha256 === b.manifest.onnx.sha256 &&
    a.modelVersion === b.modelVersion &&
    a.lineage.source === b.lineage.source &&
    a.lineage.runId === b.lineage.runId
  );
}

/**
 * What a failed check is "the same failure" by: the status and MLflow's error code when MLflow
 * answered (its message may carry a request id or a time), else the message (unreachable, timed out).
 */
function failureKey(err: unknown): string {
  if (err instanceof MlflowError && err.status !== null) return `${err.code} HTTP ${err.status} ${err.mlflowCode ?? ''} ${err.lookingFor}`;
  return describeError(err);
}

/**
 * A failed check's kind, in its log lines: `not_found` when MLflow answered that the alias, version
 * or registered model is not there (MLFLOW_NOT_FOUND: MLflow is up; someone deleted or renamed it),
 * `unavailable` when no usable answer came (MLFLOW_UNAVAILABLE: unreachable, timed out, refused
 * access, 5xx, not MLflow's API).
 */
type CheckFailureKind = 'not_found' | 'unavailable';

/** MLflow answered that what was asked for is not there (a 4xx): it is up, so the serving run can be asked about too. */
const answeredNotThere = (err: unknown): boolean => err instanceof MlflowError && err.isClientError;

function checkFailureKind(err: unknown): CheckFailureKind {
  return answeredNotThere(err) ? 'not_found' : 'unavailable';
}

export interface PollResult {
  readonly checked: boolean;
  readonly reloaded: ReloadResult | null;
}

export interface ReloadOptions {
  /**
   * The caller gives up after this many ms: it gets a ReloadTimeoutError then. Its reload is
   * cancelled (it swaps no model in afterwards) when no other caller still waits for it.
   */
  readonly deadlineMs?: number;
  /** The budget the deadline came from, as the error names it (default: deadlineMs). */
  readonly budgetMs?: number;
  /** The poller asks: a failure like its last one is logged at debug (it retries every interval). */
  readonly byPoller?: boolean;
  /** The reloadModel request that asks (none for a poll): its lines name it, as the request's own lines do. */
  readonly requester?: Requester;
}

/** A request, as its log lines name it: its id and the address it came from (RequestState). */
export interface Requester {
  readonly reqId: string;
  readonly client: string | null;
}

/** One run of doReload, and those waiting for it. */
interface Reload {
  readonly controller: AbortController;
  /**
   * Where its swapped, rejected and cancelled lines go: with the reqId and client of the reloadModel
   * that started it, so "who put this model into service" is one query; a poll's has neither (nor
   * has a reloadModel that joins it: the lines name who started the reload, as `reason` does).
   */
  readonly log: Logger;
  readonly result: Promise<ReloadResult>;
  /** Set in the same tick as the swap: from then on the reload can no longer be cancelled. */
  committed: boolean;
  /**
   * Started by the poller (ReloadOptions.byPoller) and joined by no reloadModel: a repeated
   * failure is then logged at debug. A reloadModel that joins a poll's follow-up clears it, so
   * its failure is logged at error as any reloadModel's is.
   */
  byPoller: boolean;
  /**
   * Callers still waiting for it: every reload() that joined it, less those whose deadline
   * passed. It is cancelled when this falls to 0, never before: one caller's deadline cancelled
   * a follow-up other callers with time left shared, and answered them 502 with its timeout.
   */
  waiting: number;
}

export class ModelAdmin {
  private running: Reload | null = null;
  /** The follow-up check queued behind `running`, shared by every call made while it runs. */
  private next: Reload | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private polling = false;
  private closed = false;
  /**
   * The last identity that failed verification, and the polls that passed over it since: the poller
   * loads it again at every REJECTED_RETRY_POLLS-th poll only. Forgotten once the source names
   * anything else (or nothing): an operator who rolls back and then promotes the version again
   * expects it to be loaded at the next poll.
   */
  private rejected: { named: Named; skipped: number } | null = null;
  /** The poller's interval (0: not polling), for the notice that says when a rejected version is tried again. */
  private pollIntervalMs = 0;
  /** Checks (peeks) failing in a row: what failed (and its kind), since when, how many; null while the source answers. */
  private checkFailing: { cause: string; kind: CheckFailureKind; since: Date; checks: number } | null = null;
  /**
   * What the source names that is not serving, and why: its alias moved to a version that could
   * not be loaded, or names nothing any more. modelInfo.notice and GET / say it (noticeFor), so
   * nobody reads "version 5, champion" while the champion is version 6. Null once the source
   * names what serves again.
   */
  private unserved: { key: string; what: Notice; since: Date } | null = null;
  /** The serving model's notice as the source's last recheck gave it (its run deleted or restored since it loaded). */
  private rechecked: { model: ChurnModel; notice: Notice | null } | null = null;

  constructor(
    private readonly slot: ModelSlot,
    private readonly source: ModelSource | null,
    private readonly log: Logger,
    private readonly metrics: GatewayMetrics,
  ) {
    slot.onSwap((model) => {
      metrics.setModel(model);
      metrics.inferenceFailing.set(model.inferenceFailing ? 1 : 0);
      model.observe(this.inferenceObserver);
      // A model that starts serving (at start-up or swapped in) with its record already going: said
      // as when it goes while serving, so the line an operator's query looks for is there either way.
      if (model.lineage.notice !== null && this.fromSource(model)) this.logOwnNotice(model, model.lineage.notice, null);
    });
  }

  /**
   * The served model's run failures, for operators: each failed run is counted; a failing
   * streak is logged once at error when it begins (with its cause and what happens next) and
   * once at info when a run succeeds again. The requests that failed meanwhile log at warn.
   */
  private readonly inferenceObserver: InferenceObserver = {
    runFailed: (model, reason, err, started) => {
      this.metrics.inferenceFailures.inc({ reason });
      if (!started || model !== this.slot.loaded) return;
      this.metrics.inferenceFailing.set(1);
      this.log.error(
        { err: describeError(err), reason, modelVersion: model.modelVersion },
        reason === 'run_failed'
          ? 'inference failing: requests get 503 INFERENCE_FAILED and GET / answers 503 until a test run succeeds; if it goes on, the load balancer replaces the task'
          : 'inference failing: the ONNX worker thread was lost and its runs answered 503 INFERENCE_FAILED; the next run starts a new one (GET / answers 503 until a run succeeds)',
      );
    },
    recovered: (model, failing) => {
      if (model !== this.slot.loaded) return;
      this.metrics.inferenceFailing.set(0);
      this.log.info({ modelVersion: model.modelVersion, failedRuns: failing.failedRuns, failingSince: failing.since.toISOString(), firstCause: failing.cause }, 'inference recovered');
    },
    idleWorkerLost: (model, loss, cause) => {
      this.log.warn({ err: cause.message, reason: loss, modelVersion: model.modelVersion }, 'the ONNX worker thread was lost while idle; the next run starts a new one');
    },
  };

  /**
   * Loads from the source and swaps if it is a different model. If a reload is already
   * running, waits for it and then checks the source again (calls made meanwhile share
   * that one follow-up).
   */
  reload(reason: string, options: ReloadOptions = {}): Promise<ReloadResult> {
    // Shutdown cancelled what ran (close): a reload started now would download a model for nothing.
    if (this.closed) return Promise.reject(new NotReadyError(SHUTTING_DOWN));
    const running = this.running;
    const byPoller = options.byPoller ?? false;
    // A follow-up whose callers all gave up was cancelled: a call made now needs a check of its own.
    if (this.next?.controller.signal.aborted) this.next = null;
    const reload = running ? (this.next ??= this.start(reason, running, byPoller, options.requester)) : this.start(reason, null, byPoller, options.requester);
    reload.waiting++;
    if (!byPoller) reload.byPoller = false;
    const result = options.deadlineMs === undefined ? reload.result : this.withDeadline(reload, options.deadlineMs, options.budgetMs ?? options.deadlineMs);
    // `changed` is against the model serving when this caller asked: a follow-up check finds the
    // model the reload it waited for swapped in "already serving", and answered changed: false
    // to an operator whose promotion had just been swapped in.
    const before = this.slot.loaded;
    return before === null ? result : result.then((r) => (r.changed || r.model === before ? r : { ...r, changed: true, message: `now serving ${r.model.modelVersion} (was ${before.modelVersion}; swapped in by the reload this one waited for)` }));
  }

  /**
   * reloadModel: a reload with the source's deadline (reloadDeadlineMs), counted from
   * `startedAt` (the request's process.hrtime.bigint()).
   */
  reloadNow(reason: string, startedAt: bigint = process.hrtime.bigint(), requester?: Requester): Promise<ReloadResult> {
    const budget = this.source?.reloadDeadlineMs;
    if (budget === undefined) return this.reload(reason, { ...(requester && { requester }) });
    const elapsedMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
    return this.reload(reason, { deadlineMs: Math.max(0, budget - elapsedMs), budgetMs: budget, ...(requester && { requester }) });
  }

  /**
   * One promotion check: a cheap peek at the source (e.g. alias → version); a reload only
   * when it names something other than what is serving. Never throws: a failed check or a
   * rejected candidate is logged and the current model keeps serving.
   */
  async checkForUpdate(): Promise<PollResult> {
    if (!this.source || this.closed) return { checked: false, reloaded: null };
    let wanted: Named | null;
    try {
      wanted = await this.source.peek();
    } catch (err) {
      // MLflow answered that the alias or model is not there: what serves is no longer what the source names.
      const answered = answeredNotThere(err);
      if (answered) {
        const advice = this.source.advice?.('names-nothing');
        this.noteUnserved(
          `none ${failureKey(err)}`,
          notice(
            `${this.source.publicDescription} names no model version${codeInParentheses(err)}`,
            `${this.source.description} names no model version (${describeError(err)})${advice === undefined ? '' : `; ${advice}`}`,
          ),
        );
        this.rejected = null;
      }
      this.checkFailed(err);
      // MLflow answered, so it can be asked about the serving run too: the alias (or version) is
      // often deleted with or before the run, and the notice that the run is going must still come
      // within an interval. (Unreachable, the recheck would fail the same way: not asked.) A recheck
      // that gets no answer leaves the notice as it was; the failed lookup is this check's failure.
      if (answered && !this.closed) await this.recheckServing().catch(() => undefined);
      return { checked: false, reloaded: null };
    }
    // A check whose answer came after shutdown began starts nothing (close() ended the polling).
    if (this.closed) return { checked: false, reloaded: null };
    const reloaded = await this.follow(wanted);
    // The serving model's record, asked for at every check: its run deleted or restored since it
    // loaded is told by nothing else. (A run URI's check asks MLflow only this.) A model just
    // swapped in was read with its record a moment ago.
    try {
      if (!reloaded?.changed && !this.closed) await this.recheckServing();
    } catch (err) {
      this.checkFailed(err);
      return { checked: true, reloaded };
    }
    if (this.checkFailing) {
      // `kind` is the last failure's: `not_found` says MLflow answered all along and the alias (or
      // version) names a model version again; `unavailable`, that MLflow is back.
      const { checks, since, kind } = this.checkFailing;
      this.log.info({ source: this.source.description, kind, failedChecks: checks, failingSince: since.toISOString() }, 'model source answers again');
      this.checkFailing = null;
    }
    return { checked: true, reloaded };
  }

  /** A reload when the source names something other than what serves (and was not rejected for good); null when none ran or it failed. */
  private async follow(wanted: Named | null): Promise<ReloadResult | null> {
    if (!this.source) return null;
    const serving = this.slot.loaded;
    const identity = serving && this.source.identify ? this.source.identify(serving) : null;
    if (!sameNamed(wanted, this.rejected?.named ?? null)) this.rejected = null;
    if (wanted !== null && names(wanted, identity, serving)) {
      this.unserved = null;
      return null;
    }
    if (this.rejected) {
      if (++this.rejected.skipped < REJECTED_RETRY_POLLS) return null;
      // Tried again now; a failure other than verification's waits as long again when MLflow did not
      // answer (down), and not at all when it answered that the version is not there (doReload).
      this.rejected.skipped = 0;
    }
    try {
      // The packaged bundle's version is its training registry's, which the source's numbers need not share.
      const servingNow = identity ?? (serving?.lineage.source === 'BUNDLE' ? `the packaged bundle (version ${serving.modelVersion})` : (serving?.modelVersion ?? 'nothing'));
      // The same identity pointing at another run: both runs are said.
      const sameIdentity = wanted !== null && wanted.identity === identity;
      const named = wanted === null ? 'an unknown version' : sameIdentity ? `${wanted.identity} (run ${wanted.runId ?? '?'})` : wanted.identity;
      return await this.reload(`poll: source names ${named}, serving ${servingNow}${sameIdentity ? ` (run ${serving?.lineage.runId ?? '?'})` : ''}`, { byPoller: true });
    } catch {
      // doReload logged why, and remembered a candidate that failed verification (against
      // the version it actually loaded), so the poller skips it for a while.
      return null;
    }
  }

  /**
   * A check that got no answer: counted, and logged when the failure starts and when its cause
   * changes, not at every poll (an MLflow outage would otherwise write a warn line per interval).
   */
  private checkFailed(err: unknown): void {
    const cause = failureKey(err);
    const kind = checkFailureKind(err);
    this.metrics.sourceCheckFailures.inc();
    if (this.checkFailing?.cause === cause) {
      this.checkFailing.checks++;
      this.log.debug({ err: describeError(err), kind, source: this.source?.description, failedChecks: this.checkFailing.checks }, 'model source check failed again');
    } else {
      this.checkFailing = { cause, kind, since: new Date(), checks: (this.checkFailing?.checks ?? 0) + 1 };
      this.log.warn(
        { err: describeError(err), kind, source: this.source?.description },
        'model source check failed; the current model keeps serving (repeats of this failure are logged at debug, and a line says when the source answers again)',
      );
    }
  }

  /**
   * Asks the source what is to be said now about the serving model's origin (its MLflow run
   * deleted, or restored, since it loaded: nothing else would tell). Throws when the source does
   * not answer; the notice then stays as it was.
   */
  private async recheckServing(): Promise<void> {
    const model = this.slot.loaded;
    if (!model || !this.source?.recheck || !this.fromSource(model)) return;
    const notice = await this.source.recheck(model);
    if (model === this.slot.loaded) this.noteOwnNotice(model, notice);
  }

  /** The serving model's own notice is now `notice` (a recheck's, or a reload's of the same model); a change is logged once. */
  private noteOwnNotice(model: ChurnModel, now: Notice | null): void {
    const before = this.ownNotice(model);
    this.rechecked = { model, notice: now };
    if (!sameNotice(now, before)) this.logOwnNotice(model, now, before);
  }

  /** The log says a notice in full (its detail). */
  private logOwnNotice(model: ChurnModel, now: Notice | null, before: Notice | null): void {
    const about = { source: this.source?.description, modelVersion: model.modelVersion, runId: model.lineage.runId };
    if (now !== null) this.log.warn({ ...about, notice: now.detail }, "the serving model's record in the model source is going away; it keeps serving");
    else this.log.info({ ...about, clearedNotice: before?.detail ?? null }, "the serving model's record in the model source is kept again");
  }

  /** Whether `model` came from the configured source (not the packaged bundle served instead). */
  private fromSource(model: ChurnModel): boolean {
    return this.source?.identify?.(model) != null;
  }

  /** The model's own notice: as the last recheck gave it, else as it loaded. */
  private ownNotice(model: ChurnModel): Notice | null {
    return this.rechecked?.model === model ? this.rechecked.notice : model.lineage.notice;
  }

  /**
   * What is to be said about `model`: the model's own notice (e.g. the bundle served because
   * MLflow was down at start-up) and, while it serves, what the source names instead. Its summary
   * is modelInfo.notice and GET /'s `notice`; its detail, modelInfo.noticeDetail (admin token),
   * GET /'s `noticeDetail` on OPS_PORT and the log's.
   */
  noticeFor(model: ChurnModel): Notice | null {
    const unserved = model === this.slot.loaded ? this.unserved : null;
    if (!unserved) return this.ownNotice(model);
    // The packaged bundle served because the start-up load failed: its own notice said why then;
    // this says what the source names now, and why that is not served (the same failure, as a
    // rule: both in one notice repeated every word of MLflow's answer twice).
    const serving = model.lineage.source === 'BUNDLE' ? `the packaged bundle (model version ${model.modelVersion})` : `model version ${model.modelVersion}`;
    const since = `Since ${unserved.since.toISOString()}, `;
    const tail = `; ${serving} keeps serving.`;
    const now = notice(`${since}${unserved.what.summary}${tail}`, `${since}${unserved.what.detail}${tail}`);
    const own = model.lineage.source === 'BUNDLE' ? null : this.ownNotice(model);
    return own === null ? now : joinNotices(own, now);
  }

  /**
   * What the operator does next about a version that failed verification (rejected above): fix its
   * bundle in MLflow, which every polling task then loads within REJECTED_RETRY_POLLS intervals.
   */
  private afterRejection(): string {
    if (this.pollIntervalMs <= 0) return '; this gateway does not poll (MLFLOW_POLL_INTERVAL_MS=0): once its bundle is fixed in MLflow, call reloadModel on each task, or restart them';
    const seconds = +((REJECTED_RETRY_POLLS * this.pollIntervalMs) / 1000).toFixed(1);
    return `; every ${REJECTED_RETRY_POLLS}th poll loads it again: once its bundle is fixed in MLflow, each task serves it within ${seconds} s (${REJECTED_RETRY_POLLS} × MLFLOW_POLL_INTERVAL_MS), or at once on the task a reloadModel reaches`;
  }

  /**
   * What the operator does next about a version MLflow answered it does not have (its run removed
   * by mlflow gc, or its bundle/ not uploaded yet): a poll tries it again at each check.
   */
  private afterNotThere(): string {
    const advice = this.source?.advice?.('not-there');
    const polls = this.pollIntervalMs > 0 ? 'each poll tries it again, and loads it once MLflow has its run and bundle/ files' : 'this gateway does not poll (MLFLOW_POLL_INTERVAL_MS=0)';
    return `; ${polls}${advice === undefined ? '' : `; ${advice}`}`;
  }

  /** Records what the source names instead of what serves; `key` says whether it is the same situation as before (which keeps its start). */
  private noteUnserved(key: string, what: Notice): void {
    this.unserved = { key, what, since: this.unserved?.key === key ? this.unserved.since : new Date() };
  }

  /** Checks the source every `intervalMs` (0 = never). The timer never keeps the process alive. */
  startPolling(intervalMs: number): void {
    if (!this.source || intervalMs <= 0 || this.pollTimer || this.polling) return;
    this.polling = true;
    this.pollIntervalMs = intervalMs;
    const tick = () => {
      this.pollTimer = setTimeout(() => {
        void this.checkForUpdate().finally(() => {
          if (this.polling) tick();
        });
      }, intervalMs);
      this.pollTimer.unref();
    };
    tick();
    this.log.info({ source: this.source.description, intervalMs }, 'polling the model source for promotions');
  }

  stopPolling(): void {
    this.polling = false;
    this.pollIntervalMs = 0;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  /**
   * Shutdown: no more polls or reloads, and the reloads not yet swapping in are cancelled. One
   * still waiting for MLflow stops there (its calls are aborted): a download that hung kept the
   * shutdown waiting in settled() until SHUTDOWN_TIMEOUT_MS, and the task exited 1. One whose
   * candidate is being created and warmed up on its ONNX worker is not stopped inside
   * onnxruntime: it ends, and releases the candidate instead of swapping it in.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopPolling();
    const cancelled = new NotReadyError(`${SHUTTING_DOWN}; the reload was cancelled and swaps nothing in`);
    for (const reload of [this.running, this.next]) if (reload && !reload.committed) reload.controller.abort(cancelled);
  }

  /**
   * Resolves once no reload is running or queued. Shutdown waits for this before it closes the
   * slot and the process exits: a reload a poll started may be creating its candidate's ONNX
   * session on a worker thread, and exiting inside onnxruntime can abort the process.
   */
  async settled(): Promise<void> {
    while (this.running) await this.running.result.catch(() => undefined);
  }

  /** Runs doReload now (and registers as running), or once `after` settled (the caller registers it as next). */
  private start(reason: string, after: Reload | null, byPoller: boolean, requester: Requester | undefined): Reload {
    const log = requester === undefined ? this.log : this.log.child(requestBindings(requester.reqId, requester.client));
    let settle!: { resolve: (r: ReloadResult) => void; reject: (err: unknown) => void };
    const result = new Promise<ReloadResult>((resolve, reject) => (settle = { resolve, reject }));
    const reload: Reload = { controller: new AbortController(), log, result, committed: false, byPoller, waiting: 0 };
    if (!after) this.running = reload;
    void (async () => {
      if (after) await after.result.catch(() => undefined);
      try {
        return await this.doReload(reason, reload);
      } finally {
        // The follow-up (if any) becomes the running reload in the same tick, so a call made
        // from now on queues behind it instead of starting a second reload beside it.
        if (this.running === reload) {
          this.running = this.next;
          this.next = null;
        }
      }
    })().then(
      (result) => {
        this.metrics.modelReloads.inc({ result: result.changed ? 'swapped' : 'unchanged' });
        settle.resolve(result);
      },
      (err: unknown) => {
        this.metrics.modelReloads.inc({ result: reload.controller.signal.aborted ? 'cancelled' : 'failed' });
        settle.reject(err);
      },
    );
    return reload;
  }

  /**
   * `reload`'s result, unless `deadlineMs` passes first: then the caller is answered with a
   * ReloadTimeoutError, and `reload` is cancelled if nobody else waits for it, so it swaps
   * nothing in after that answer. One that others still wait for (a poll, a reloadModel asked
   * later) goes on for them and may still swap in. (A reload it was queued behind is not its
   * own: that one, a poll's say, goes on.)
   */
  private withDeadline(reload: Reload, deadlineMs: number, budgetMs: number): Promise<ReloadResult> {
    return new Promise<ReloadResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (reload.committed) return; // swapping already: the caller gets that result
        const others = --reload.waiting;
        const err = new ReloadTimeoutError(
          `no answer within ${Math.round(budgetMs)} ms (the time reloadModel allows, below REQUEST_TIMEOUT_MS) while loading ${this.source?.description ?? 'the model'}; ` +
            (others === 0
              ? `the reload was cancelled and swaps nothing in${this.pollIntervalMs > 0 ? ' (the poller, which has no deadline, loads what the source names at its next check)' : ''}`
              : `the reload goes on for the ${others === 1 ? 'other call' : `${others} other calls`} waiting for it, and may still swap in what the source names`),
          others > 0,
        );
        if (others === 0) reload.controller.abort(err);
        reject(err);
      }, deadlineMs);
      reload.result.then(
        (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  private async doReload(reason: string, reload: Reload): Promise<ReloadResult> {
    if (!this.source) return { changed: false, model: this.slot.current, message: 'no model source configured; the bundle is served' };
    // Before the first model is in the slot there is nothing to compare with or swap out, and the
    // start-up load would replace whatever this reload put in: refuse at once rather than download
    // and warm up a second model beside the start-up one (and then fail on the empty slot).
    if (!this.slot.loaded) throw new NotReadyError('the gateway is still starting (loading its first model); call reloadModel once GET / answers 200');
    const { signal } = reload.controller;
    let named: Named | null = null;
    let candidate: ChurnModel;
    try {
      if (signal.aborted) throw signal.reason;
      candidate = await this.source.load({ signal, onIdentity: (n) => (named = n) });
    } catch (err) {
      // (Set by the onIdentity callback, which control-flow narrowing does not see.)
      const loadedNamed = named as Named | null;
      const loaded = loadedNamed?.identity ?? null;
      // Cancelled by shutdown (close): nothing was wrong with the candidate or with MLflow. Its
      // caller, a reloadModel still in flight, gets MODEL_NOT_READY (503, repeat it on another task).
      if (signal.aborted && signal.reason instanceof NotReadyError) {
        reload.log.info({ source: this.source.description, candidate: loaded, reason, err: describeError(err) }, 'model reload cancelled: the gateway is shutting down');
        throw signal.reason;
      }
      // Cancelled at its caller's deadline (withDeadline): nothing was found wrong with the candidate.
      if (signal.aborted && signal.reason instanceof ReloadTimeoutError) {
        reload.log.warn({ err: describeError(signal.reason), source: this.source.description, candidate: loaded, reason }, 'model reload cancelled after its deadline; the current model keeps serving');
        throw signal.reason;
      }
      const key = `${loaded} ${failureKey(err)}`;
      // A poll that fails as the last one did (the artifact store down: the poller tries again
      // each interval) is logged at debug; the first such failure, and any reloadModel's, at error.
      const repeated = reload.byPoller && this.unserved?.key === key;
      reload.log[repeated ? 'debug' : 'error']({ err: describeError(err), source: this.source.description, candidate: loaded, reason }, 'model reload rejected; the current model keeps serving');
      // A candidate that failed verification fails again until its bundle is fixed (and each try
      // downloads and hashes the whole model): the poller tries it at every REJECTED_RETRY_POLLS-th
      // poll only (reloadModel still retries it on demand; a repeat of the same failure is logged
      // at debug, below). One MLflow says is not there (a version whose run has no bundle/ yet) is
      // tried again at each poll, as an unreachable MLflow is: finding out costs a few small calls.
      // Either way, once the bundle is there and sound every task loads it, where a reloadModel
      // through the load balancer reaches one task only.
      if (err instanceof BundleError && loadedNamed !== null) this.rejected = { named: loadedNamed, skipped: 0 };
      // Rejected before and not there now (its bundle/ deleted to be uploaded again): tried at each poll
      // from now on, as the notice below says, not at every REJECTED_RETRY_POLLS-th as a bad bundle is.
      else if (answeredNotThere(err)) this.rejected = null;
      const serving = this.slot.loaded;
      const servingIdentity = serving ? (this.source.identify?.(serving) ?? null) : null;
      const loadedServing = loadedNamed !== null && names(loadedNamed, servingIdentity, serving);
      // The serving model itself could not be loaded again (e.g. its run removed by mlflow gc), or MLflow
      // answered that the alias (or version) names nothing, so no version was loaded: what the serving
      // model's record says now, as a poll's check asks it. (Not after a deadline: its caller has its
      // answer, and the calls would hold the reloads queued behind.)
      const lookupAnswered = loaded === null && answeredNotThere(err);
      if (!signal.aborted && (loadedServing || lookupAnswered)) await this.recheckServing().catch(() => undefined);
      if (loaded !== null && serving && !loadedServing) {
        const next = err instanceof BundleError ? this.afterRejection() : answeredNotThere(err) ? this.afterNotThere() : '';
        const names = `names ${this.source.describeIdentity?.(loaded) ?? loaded}, which could not be loaded`;
        this.noteUnserved(
          key,
          notice(
            `${this.source.publicDescription} ${names}${codeInParentheses(err)}`,
            `${this.source.description} ${names} (${err instanceof GatewayError ? `${err.code}: ` : ''}${describeError(err)})${next}`,
          ),
        );
      }
      throw err;
    }
    this.rejected = null;
    const identity = (named as Named | null)?.identity ?? null;
    if (signal.aborted && signal.reason instanceof NotReadyError) {
      // Loaded while shutdown began: released, not swapped in.
      await candidate.release();
      reload.log.info({ source: this.source.description, candidate: identity, reason }, 'model reload cancelled: the gateway is shutting down; its candidate was released');
      throw signal.reason;
    }
    if (signal.aborted) {
      // Its caller was already told it failed: it must not swap now.
      await candidate.release();
      reload.log.warn({ err: describeError(signal.reason), source: this.source.description, candidate: identity, reason }, 'model reload cancelled after its deadline; the current model keeps serving');
      throw signal.reason;
    }
    // The slot had a model when this reload began; it is empty only once shutdown closed it.
    // Either way of shutting down, the candidate is released, not swapped in (nor leaked).
    const current = this.slot.loaded;
    if (this.closed || !current) {
      await candidate.release();
      if (current) return { changed: false, model: current, message: 'shutting down; the candidate was not swapped in' };
      throw new NotReadyError('the gateway is shutting down; the candidate was not swapped in');
    }
    if (sameModel(candidate, current)) {
      this.unserved = null;
      // Loaded afresh: what its record says now (a reloadModel is how a gateway that does not poll learns it).
      if (this.fromSource(current)) this.noteOwnNotice(current, candidate.lineage.notice);
      await candidate.release();
      return { changed: false, model: current, message: `model ${current.modelVersion} is already serving` };
    }
    reload.committed = true;
    this.unserved = null;
    // The swap is done when swap() returns; its promise is the old model's release, which waits
    // for that model's predictions in flight. Logged in between, so no answer from the new model
    // comes before the line that says it serves.
    const oldReleased = this.slot.swap(candidate);
    // Both models in full (version, run, ONNX bytes, where each came from): the same version
    // string can name the packaged bundle and then MLflow's model, and the outgoing model's
    // sha256 is otherwise in no line after the one that loaded it.
    reload.log.info(
      {
        from: current.modelVersion,
        to: candidate.modelVersion,
        fromRunId: current.lineage.runId,
        toRunId: candidate.lineage.runId,
        fromOnnxSha256: current.manifest.onnx.sha256,
        toOnnxSha256: candidate.manifest.onnx.sha256,
        // null: that model has no explainer, and its predictions no explanation.
        fromExplainerSha256: current.explainer?.report.fileSha256 ?? null,
        toExplainerSha256: candidate.explainer?.report.fileSha256 ?? null,
        // null: that model's bundle has no group report.
        fromGroupReportSha256: current.groupReport?.fileSha256 ?? null,
        toGroupReportSha256: candidate.groupReport?.fileSha256 ?? null,
        fromSource: current.lineage.source,
        toSource: candidate.lineage.source,
        // What modelInfo and GET / say about the new model besides (its MLflow run deleted), or null.
        notice: candidate.lineage.notice?.detail ?? null,
        source: this.source.description,
        reason,
      },
      'model swapped',
    );
    await oldReleased;
    // The same version number naming another run (re-registered): the runs tell the two apart.
    const runs = candidate.modelVersion === current.modelVersion;
    const now = runs ? `${candidate.modelVersion} of run ${candidate.lineage.runId}` : candidate.modelVersion;
    const was = runs ? `${current.modelVersion} of run ${current.lineage.runId}` : current.modelVersion;
    return { changed: true, model: candidate, message: `now serving ${now} (was ${was})` };
  }
}
