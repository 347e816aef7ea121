/**
 * One ONNX session hosted on its own worker thread (onnx-worker.js), so inference never
 * blocks the event loop: a 10,000-row batch runs while health checks and other requests
 * are answered. Input and output buffers are transferred, not copied; the input buffer
 * comes back with the result to be reused.
 *
 * If the thread dies (an uncaught error, or terminated), the runs waiting on it are
 * rejected with the cause and the next run starts a new thread from the same verified
 * ONNX bytes: one bad moment costs those requests, not the process.
 */
import { Worker } from 'node:worker_threads';
import type ort from 'onnxruntime-node';

export type ValueMetadata = ort.InferenceSession.ValueMetadata;

/** workerData of onnx-worker.js. */
export interface WorkerInit {
  readonly onnx: Uint8Array;
  readonly options: ort.InferenceSession.SessionOptions;
}

export type WorkerRequest =
  | {
      readonly type: 'run';
      readonly id: number;
      /** rows × width float32 values from offset 0; transferred to the worker and back. */
      readonly buffer: ArrayBuffer;
      readonly rows: number;
      readonly width: number;
      readonly inputName: string;
      readonly outputName: string;
      readonly positiveClassIndex: number;
    }
  | { readonly type: 'release' }
  /** Tests only: the worker exits at once, as a crash would. */
  | { readonly type: 'exit' }
  /** Tests only: the worker's thread blocks for `ms`, as a run stuck in native code would. */
  | { readonly type: 'hang'; readonly ms: number };

export type WorkerReply =
  | { readonly type: 'ready'; readonly inputMetadata: ValueMetadata[]; readonly outputMetadata: ValueMetadata[] }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'result'; readonly id: number; readonly probabilities: Float32Array; readonly buffer: ArrayBuffer }
  | { readonly type: 'error'; readonly id: number; readonly message: string; readonly buffer: ArrayBuffer };

/** Which tensors to feed and read, from the manifest. */
export interface OnnxIo {
  readonly inputName: string;
  readonly outputName: string;
  readonly positiveClassIndex: number;
}

export interface RunResult {
  /** P(positive class) per row. */
  readonly probabilities: Float32Array;
  /** The input buffer, back from the worker for reuse. */
  readonly buffer: ArrayBuffer;
}

interface Waiting {
  readonly resolve: (result: RunResult) => void;
  readonly reject: (err: Error) => void;
  /** When the run counts as hung (performance.now() ms), deadlineMs after it was sent. */
  readonly deadline: number;
  readonly deadlineMs: number;
  readonly rows: number;
}

/** Why the worker thread was given up: it died, or it stopped answering. */
export type WorkerLoss = 'worker_stopped' | 'worker_hung';

/** A run failed because its thread was lost, or a new thread could not be started for it. */
export class WorkerLostError extends Error {
  constructor(
    readonly loss: WorkerLoss | 'worker_start_failed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WorkerLostError';
  }
}

/** Told when the worker thread is lost with runs waiting on it (once per loss). */
export type WorkerLossListener = (loss: WorkerLoss, cause: Error, runsLost: number) => void;

/**
 * How long a run may go unanswered before the worker counts as hung: far beyond a real run
 * (10,000 rows take ~65 ms; a run queued behind another waits for it too), so only a thread
 * that stopped answering trips it.
 */
export function runDeadlineMs(rows: number): number {
  return RUN_DEADLINE_BASE_MS + rows * RUN_DEADLINE_PER_ROW_MS;
}
export const RUN_DEADLINE_BASE_MS = 10_000;
export const RUN_DEADLINE_PER_ROW_MS = 0.5;

const WORKER_URL = new URL('./onnx-worker.js', import.meta.url);

/** Starts a worker and waits for its session; rejects with onnxruntime's own message. */
function startWorker(init: WorkerInit): Promise<{ worker: Worker; ready: Extract<WorkerReply, { type: 'ready' }> }> {
  return new Promise((resolve, reject) => {
    // onnxruntime's telemetry stays off unless an operator set ORT_DISABLE_TELEMETRY. Otherwise
    // its Linux build records each session it creates under ~/.cache/Microsoft/DeveloperTools/
    // .onnxruntime (a device id and an event database) for upload to Microsoft's collector, and
    // prints a non-JSON warning to stderr where HOME is read-only, as in the container. Set in
    // the process environment, which the library reads with getenv, before the worker loads it.
    process.env['ORT_DISABLE_TELEMETRY'] ??= '1';
    const worker = new Worker(WORKER_URL, { workerData: init });
    // Only our own listeners are removed: Worker keeps internal ones (removeAllListeners
    // would stop message delivery).
    const settle = () => {
      worker.off('message', onMessage);
      worker.off('error', fail);
      worker.off('exit', onExit);
    };
    function fail(err: Error): void {
      settle();
      void worker.terminate();
      reject(err);
    }
    function onMessage(reply: WorkerReply): void {
      if (reply.type !== 'ready') return fail(new Error(reply.type === 'failed' ? reply.message : `unexpected first message ${reply.type} from the ONNX worker`));
      settle();
      resolve({ worker, ready: reply });
    }
    function onExit(code: number): void {
      fail(new Error(`the ONNX worker exited with code ${code} before its session was ready`));
    }
    worker.on('message', onMessage);
    worker.on('error', fail);
    worker.on('exit', onExit);
  });
}

export class OnnxHost {
  private worker: Worker | null = null;
  private respawning: Promise<Worker> | null = null;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private released = false;
  private watchdog: NodeJS.Timeout | null = null;
  /** When `watchdog` fires (performance.now() ms); Infinity when it is not set. */
  private watchdogAt = Infinity;
  /** Told when the thread is lost with runs waiting (set by the model's owner, for logs and metrics). */
  onLoss: WorkerLossListener | null = null;
  /** Scales every run's deadline (tests shorten it; see runDeadlineMs). */
  deadlineScale = 1;

  private constructor(
    worker: Worker,
    private readonly init: WorkerInit,
    private readonly io: OnnxIo,
    readonly inputMetadata: readonly ValueMetadata[],
    readonly outputMetadata: readonly ValueMetadata[],
  ) {
    this.adopt(worker);
  }

  /** Creates the session on a new worker thread; rejects if onnxruntime cannot load the model. */
  static async start(onnx: Uint8Array, options: ort.InferenceSession.SessionOptions, io: OnnxIo): Promise<OnnxHost> {
    const init: WorkerInit = { onnx, options };
    const { worker, ready } = await startWorker(init);
    return new OnnxHost(worker, init, io, ready.inputMetadata, ready.outputMetadata);
  }

  get inputNames(): string[] {
    return this.inputMetadata.map((m) => m.name);
  }

  get outputNames(): string[] {
    return this.outputMetadata.map((m) => m.name);
  }

  /** Runs `rows` rows of `width` features held at the start of `buffer` (which is transferred). */
  async run(buffer: ArrayBuffer, rows: number, width: number): Promise<RunResult> {
    if (this.released) throw new Error('the ONNX session was released');
    let worker = this.worker;
    if (!worker) {
      try {
        worker = await this.respawn();
      } catch (err) {
        throw new WorkerLostError('worker_start_failed', `a new ONNX worker could not be started: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    }
    const id = this.nextId++;
    const request: WorkerRequest = { type: 'run', id, buffer, rows, width, ...this.io };
    return new Promise<RunResult>((resolve, reject) => {
      if (this.waiting.size === 0) worker.ref();
      const deadlineMs = runDeadlineMs(rows) * this.deadlineScale;
      const deadline = performance.now() + deadlineMs;
      this.waiting.set(id, { resolve, reject, deadline, deadlineMs, rows });
      worker.postMessage(request, [buffer]);
      if (deadline < this.watchdogAt) this.armWatchdog(deadline);
    });
  }

  /** Frees the session and ends the thread (after the runs already sent). Safe to call twice. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const worker = this.worker ?? (await this.respawning?.catch(() => null)) ?? null;
    this.worker = null;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref();
    worker.postMessage({ type: 'release' } satisfies WorkerRequest);
    await exited;
  }

  /**
   * Fault injection for tests: the thread exits as a crash would, and runs sent after this
   * call are never answered by it. (Not worker.terminate(): stopping a thread inside a
   * native onnxruntime call can take the process down with it.)
   */
  crashForTest(): Promise<void> {
    const worker = this.worker;
    if (!worker) return Promise.resolve();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref();
    worker.postMessage({ type: 'exit' } satisfies WorkerRequest);
    return exited;
  }

  /**
   * Tests only: the thread blocks for `ms` before it takes its next message, as a run stuck
   * inside onnxruntime would; runs sent meanwhile wait behind it.
   */
  hangForTest(ms: number): void {
    this.worker?.postMessage({ type: 'hang', ms } satisfies WorkerRequest);
  }

  /**
   * A thread that leaves a run unanswered past its deadline is given up: its runs are rejected
   * (their callers get an answer instead of waiting for their request timeout) and the next run
   * starts a new thread. The old one is not terminated (stopping a thread inside a native
   * onnxruntime call can take the process down); it is unreferenced, and whatever it answers
   * later is ignored.
   */
  private armWatchdog(at: number): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdogAt = at;
    this.watchdog = setTimeout(() => this.checkHung(), Math.max(0, at - performance.now())).unref();
  }

  private checkHung(): void {
    this.watchdog = null;
    this.watchdogAt = Infinity;
    const worker = this.worker;
    if (!worker || this.waiting.size === 0) return;
    const now = performance.now();
    let next = Infinity;
    for (const w of this.waiting.values()) next = Math.min(next, w.deadline);
    if (next > now) return this.armWatchdog(next);
    let overdue: Waiting | undefined;
    for (const w of this.waiting.values()) if (w.deadline === next) overdue = w;
    worker.unref();
    // Should the thread ever come back, it frees its session and ends (its late answers are ignored).
    worker.postMessage({ type: 'release' } satisfies WorkerRequest);
    this.lose(worker, 'worker_hung', new Error(`a run of ${overdue?.rows ?? '?'} rows was not answered within ${Math.round(overdue?.deadlineMs ?? 0)} ms; the thread was given up and a new one starts with the next run`));
  }

  private adopt(worker: Worker): void {
    this.worker = worker;
    // An idle worker must not keep the process alive; one with runs waiting does.
    worker.unref();
    worker.on('message', (reply: WorkerReply) => this.onReply(reply));
    worker.on('error', (err) => this.onDeath(worker, err));
    worker.on('exit', (code) => this.onDeath(worker, new Error(`the ONNX worker exited with code ${code}`)));
  }

  private onReply(reply: WorkerReply): void {
    if (reply.type !== 'result' && reply.type !== 'error') return;
    const waiting = this.waiting.get(reply.id);
    if (!waiting) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.worker?.unref();
    if (reply.type === 'result') waiting.resolve({ probabilities: reply.probabilities, buffer: reply.buffer });
    else waiting.reject(new Error(reply.message));
  }

  private onDeath(worker: Worker, cause: Error): void {
    this.lose(worker, 'worker_stopped', cause);
  }

  private lose(worker: Worker, loss: WorkerLoss, cause: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = null;
    this.watchdogAt = Infinity;
    if (this.released && this.waiting.size === 0) return;
    const err = new WorkerLostError(loss, `the ONNX worker ${loss === 'worker_hung' ? 'stopped answering' : 'stopped'}: ${cause.message}`, { cause });
    const runsLost = this.waiting.size;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
    this.onLoss?.(loss, cause, runsLost);
  }

  private respawn(): Promise<Worker> {
    this.respawning ??= startWorker(this.init).then(
      ({ worker }) => {
        this.respawning = null;
        if (this.released) {
          void worker.terminate();
          throw new Error('the ONNX session was released');
        }
        this.adopt(worker);
        return worker;
      },
      (err: unknown) => {
        this.respawning = null;
        throw err;
      },
    );
    return this.respawning;
  }
}
