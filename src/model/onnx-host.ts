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
  | { readonly type: 'exit' };

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
}

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
    const worker = this.worker ?? (await this.respawn());
    const id = this.nextId++;
    const request: WorkerRequest = { type: 'run', id, buffer, rows, width, ...this.io };
    return new Promise<RunResult>((resolve, reject) => {
      if (this.waiting.size === 0) worker.ref();
      this.waiting.set(id, { resolve, reject });
      worker.postMessage(request, [buffer]);
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
    if (this.worker !== worker) return;
    this.worker = null;
    if (this.released && this.waiting.size === 0) return;
    const err = new Error(`the ONNX worker stopped: ${cause.message}`, { cause });
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
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
