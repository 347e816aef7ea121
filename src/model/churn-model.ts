/**
 * A loaded, verified, warmed-up churn model: one ONNX session plus the manifest and
 * lineage it came with. `create` refuses anything that could serve wrong numbers: a
 * contract mismatch, an ONNX graph of the wrong shape, or parity vectors that are off.
 */
import type ort from 'onnxruntime-node';
import type { Manifest } from '../bundle/manifest.js';
import type { VerifiedBundle } from '../bundle/load.js';
import { checkGroupReport, type LoadedGroupReport } from '../bundle/group-report.js';
import { BundleError, InferenceError, describeError } from '../errors.js';
import { diffManifestAgainstContract, diffSessionAgainstManifest } from './contract-check.js';
import { verifyExplainer, type Explainer } from './explainer.js';
import { compileEncoder, type EncoderRow, type FeatureEncoder } from './features.js';
import { OnnxHost, WorkerLostError, type WorkerLoss } from './onnx-host.js';
import type { Notice } from './notice.js';

/** Why a run failed, as gateway_inference_failures_total's `reason` counts it. */
export type InferenceFailureReason = WorkerLoss | 'worker_start_failed' | 'run_failed';

/** A model whose runs fail: since when, how many in a row, and the first one's cause. */
export interface InferenceFailing {
  readonly since: Date;
  failedRuns: number;
  readonly cause: string;
}

/** Told about the model's run failures (set by whoever serves the model: logs and metrics). */
export interface InferenceObserver {
  /** Every failed run. `started` is true for the first failure after a success (the failing streak begins). */
  runFailed(model: ChurnModel, reason: InferenceFailureReason, err: InferenceError, started: boolean): void;
  /** A run succeeded after `failing`. */
  recovered(model: ChurnModel, failing: InferenceFailing): void;
  /** The worker thread was lost while no run waited on it (nobody was answered an error; the next run starts a new one). */
  idleWorkerLost(model: ChurnModel, loss: WorkerLoss, cause: Error): void;
}

/** How long the health check waits for its test run on a model whose runs are failing. */
export const PROBE_TIMEOUT_MS = 2000;

export type ModelSource = 'BUNDLE' | 'MLFLOW';

/** Where the serving model came from: what modelInfo reports to auditors. */
export interface ModelLineage {
  readonly source: ModelSource;
  readonly name: string;
  readonly version: string | null;
  readonly alias: string | null;
  readonly runId: string;
  readonly experimentId: string;
  readonly experimentName: string;
  readonly params: Readonly<Record<string, string>>;
  readonly metrics: Readonly<Record<string, number>>;
  /** Why the gateway serves this model rather than the one configured, if it had to fall back, or what is wrong with its record. */
  readonly notice: Notice | null;
}

export function lineageFromManifest(manifest: Manifest, notice: Notice | null = null): ModelLineage {
  return {
    source: 'BUNDLE',
    name: manifest.registeredModel.name,
    version: manifest.registeredModel.version,
    alias: manifest.registeredModel.alias,
    runId: manifest.run.runId,
    experimentId: manifest.run.experimentId,
    experimentName: manifest.run.experimentName,
    params: manifest.params,
    metrics: manifest.metrics,
    notice,
  };
}

export interface ParityReport {
  readonly cases: number;
  readonly maxAbsDiff: number;
  readonly tolerance: number;
}

/**
 * Single-threaded, sequential sessions on their own worker thread (onnx-host.ts): the
 * event loop keeps answering while a batch runs, and intra-op threads would only contend
 * with it on 2 cores.
 */
export const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

/** Input buffers up to this size are kept for reuse (about 5,700 rows of 46 features). */
const SCRATCH_MAX_BYTES = 1 << 20;

export class ChurnModel {
  readonly loadedAt = new Date();
  /** The version string every prediction carries. */
  readonly modelVersion: string;
  private inFlight = 0;
  private idle: (() => void) | null = null;
  private released = false;
  /** An input buffer back from the worker, reused by the next run that fits in it. */
  private scratch: ArrayBuffer | null = null;
  private parityReport: ParityReport | null = null;
  private explainerRef: Explainer | null = null;
  private groupReportRef: LoadedGroupReport | null = null;
  /** Set while the latest run failed (cleared by the next run that succeeds). */
  private failingState: InferenceFailing | null = null;
  private observer: InferenceObserver | null = null;
  /** One customer of the parity file, scored by probe(). */
  private probeRow: EncoderRow | null = null;
  private probing: Promise<boolean> | null = null;

  private constructor(
    private readonly session: OnnxHost,
    readonly manifest: Manifest,
    readonly lineage: ModelLineage,
    readonly encoder: FeatureEncoder,
  ) {
    // Unregistered: the whole run id, which an auditor can look up (runs/get); a prefix cannot be.
    this.modelVersion = lineage.version ?? `run-${lineage.runId}`;
  }

  /** The risk drivers' explainer, accepted after the parity replay (set once, by create); null when the bundle has none. */
  get explainer(): Explainer | null {
    return this.explainerRef;
  }

  /** The bundle's group report, checked to be this model's (set once, by create); null when the bundle has none. */
  get groupReport(): LoadedGroupReport | null {
    return this.groupReportRef;
  }

  /** The parity replay that accepted this model (set once, by create). */
  get parity(): ParityReport | null {
    return this.parityReport;
  }

  get threshold(): number {
    return this.manifest.threshold;
  }

  static async create(bundle: VerifiedBundle, lineage: ModelLineage = lineageFromManifest(bundle.manifest)): Promise<ChurnModel> {
    const { manifest } = bundle;
    const contractProblems = diffManifestAgainstContract(manifest);
    if (contractProblems.length > 0) {
      throw new BundleError(`model bundle ${bundle.origin} does not match the gateway contract: ${contractProblems.join('; ')}`);
    }
    const encoder = compileEncoder(manifest.featureSpec);
    let session: OnnxHost;
    try {
      const { inputName, outputName, positiveClassIndex } = manifest.onnx;
      session = await OnnxHost.start(bundle.onnx, SESSION_OPTIONS, { inputName, outputName, positiveClassIndex });
    } catch (err) {
      throw new BundleError(`ONNX session error for ${bundle.origin}/${manifest.onnx.file}: ${describeError(err)}`, { cause: err });
    }
    const sessionProblems = diffSessionAgainstManifest(session, manifest);
    if (sessionProblems.length > 0) {
      await session.release();
      throw new BundleError(`ONNX model in ${bundle.origin} does not match its manifest: ${sessionProblems.join('; ')}`);
    }
    const model = new ChurnModel(session, manifest, lineage, encoder);
    model.probeRow = bundle.parity.cases[0]?.input ?? null;
    session.onLoss = (loss, cause, runsLost) => {
      if (runsLost === 0) model.observer?.idleWorkerLost(model, loss, cause);
    };
    try {
      model.parityReport = await model.replayParity(bundle);
      // Refused like a parity failure: its trees must give xgboost's own values for the model's parity cases.
      model.explainerRef = bundle.explainer ? verifyExplainer(bundle, bundle.explainer) : null;
      // Last: a report naming another model is a fault of the bundle's records, not of the model.
      model.groupReportRef = bundle.groupReport ? checkGroupReport(bundle.groupReport, manifest, bundle.origin) : null;
      return model;
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  /** Warm-up and acceptance in one: every parity vector must come back within tolerance. */
  private async replayParity(bundle: VerifiedBundle): Promise<ParityReport> {
    const { cases } = bundle.parity;
    const tolerance = Math.min(bundle.parity.tolerance, bundle.manifest.parity.tolerance);
    let got: Float32Array;
    try {
      got = await this.predictRows(cases.map((c) => c.input));
    } catch (err) {
      // A worker lost or out of time may be the machine's, not the bundle's: a reload may retry it.
      // Anything else (a parity case the encoder cannot read, a run the model refuses) is this
      // bundle's, every time: refused as one (422 to reloadModel, and a poll skips the version),
      // not reported as the serving model's inference failing.
      if (err instanceof InferenceError && err.cause instanceof WorkerLostError) throw err;
      const cause = err instanceof InferenceError && err.cause !== undefined ? err.cause : err;
      throw new BundleError(`parity check could not run for ${bundle.origin}: ${describeError(cause)}`, { cause });
    }
    let maxAbsDiff = 0;
    let worst = 0;
    cases.forEach((c, i) => {
      const d = Math.abs((got[i] as number) - c.probability);
      if (!(d <= maxAbsDiff)) {
        maxAbsDiff = d;
        worst = i;
      }
    });
    if (!(maxAbsDiff <= tolerance)) {
      throw new BundleError(
        `parity check failed for ${bundle.origin}: max |Δp| = ${maxAbsDiff} > ${tolerance} (case ${worst}: expected ${cases[worst]?.probability}, got ${got[worst]})`,
      );
    }
    return { cases: cases.length, maxAbsDiff, tolerance };
  }

  /** Whether the latest run failed, since when and how many in a row; null while runs succeed. */
  get inferenceFailing(): Readonly<InferenceFailing> | null {
    return this.failingState;
  }

  /** Run failures and recoveries are reported to `observer` from now on. */
  observe(observer: InferenceObserver): void {
    this.observer = observer;
  }

  /**
   * One run of a parity customer, for the health check of a model whose runs are failing:
   * true when it succeeds within PROBE_TIMEOUT_MS (which also ends the failing state). Calls
   * made while one runs share it.
   */
  probe(timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
    const row = this.probeRow;
    if (row === null) return Promise.resolve(this.failingState === null);
    this.probing ??= new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.predictRows([row]).then(
        () => resolve(true),
        () => resolve(false),
      ).finally(() => clearTimeout(timer));
    }).finally(() => (this.probing = null));
    return this.probing;
  }

  /** P(churn) for each row, in order. Rows must already satisfy the customer contract. */
  async predictRows(rows: readonly EncoderRow[]): Promise<Float32Array> {
    if (this.released) throw new InferenceError(`model ${this.modelVersion} was released`);
    const n = rows.length;
    if (n === 0) return new Float32Array(0);
    this.acquire();
    const { width } = this.encoder;
    const bytes = n * width * Float32Array.BYTES_PER_ELEMENT;
    // Encoded straight into a buffer that is transferred to the worker and comes back with
    // the result, so the common small run reuses the previous run's input buffer.
    let buffer: ArrayBuffer;
    if (this.scratch && this.scratch.byteLength >= bytes) {
      buffer = this.scratch;
      this.scratch = null;
    } else {
      buffer = new ArrayBuffer(bytes);
    }
    try {
      this.encoder.encodeInto(rows, new Float32Array(buffer, 0, n * width));
      const { probabilities, buffer: back } = await this.session.run(buffer, n, width);
      if (back.byteLength <= SCRATCH_MAX_BYTES && (!this.scratch || back.byteLength > this.scratch.byteLength)) this.scratch = back;
      if (this.failingState !== null) this.noteRecovered();
      return probabilities;
    } catch (err) {
      const failure = err instanceof InferenceError ? err : new InferenceError(`inference failed on model ${this.modelVersion}: ${describeError(err)}`, { cause: err });
      this.noteFailed(err instanceof WorkerLostError ? err.loss : 'run_failed', failure);
      throw failure;
    } finally {
      this.relinquish();
    }
  }

  private noteFailed(reason: InferenceFailureReason, err: InferenceError): void {
    const started = this.failingState === null;
    if (started) this.failingState = { since: new Date(), failedRuns: 1, cause: err.message };
    else (this.failingState as InferenceFailing).failedRuns++;
    this.observer?.runFailed(this, reason, err, started);
  }

  private noteRecovered(): void {
    const failing = this.failingState as InferenceFailing;
    this.failingState = null;
    this.observer?.recovered(this, failing);
  }

  /** Holds the model for a prediction that will run later (coalescing); pair with relinquish. */
  acquire(): void {
    this.inFlight++;
  }

  relinquish(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.idle) this.idle();
  }

  /** Waits for in-flight predictions, then frees the session. Safe to call twice. */
  async release(): Promise<void> {
    if (this.released) return;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    this.released = true;
    await this.session.release();
  }
}
