// @ts-check
/**
 * The ONNX session's own thread. onnxruntime-node runs `session.run` synchronously on
 * the thread that calls it (inside a setImmediate), so on the main thread every run —
 * 65 ms for a 10,000-row batch — would stall all other requests, health checks included.
 * Here it runs beside the event loop instead: the main thread encodes rows into a
 * Float32Array and transfers it; this thread runs the session and transfers back the
 * positive-class probabilities and the input buffer (reused for the next run).
 *
 * Plain JavaScript, checked by tsc (checkJs), because Node 20 worker threads cannot load
 * TypeScript entry points; the message types are declared in onnx-host.ts.
 *
 * @typedef {import('./onnx-host.js').WorkerInit} WorkerInit
 * @typedef {import('./onnx-host.js').WorkerRequest} WorkerRequest
 * @typedef {import('./onnx-host.js').WorkerReply} WorkerReply
 */
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';

const port = parentPort;
if (!port) throw new Error('onnx-worker.js runs as a worker thread only');

/**
 * workerData is typed any. It comes from no outside input: it is the WorkerInit that
 * onnx-host.ts's startWorker passes to `new Worker`, structured-cloned.
 * @type {unknown}
 */
const data = workerData;
const init = /** @type {WorkerInit} */ (data);

/** @param {unknown} err */
const messageOf = (err) => (err instanceof Error ? err.message : String(err));

/**
 * Metadata as plain objects for postMessage.
 * @param {readonly ort.InferenceSession.ValueMetadata[]} list
 * @returns {ort.InferenceSession.ValueMetadata[]}
 */
const plain = (list) => list.map((m) => (m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] } : { name: m.name, isTensor: false }));

/** @param {WorkerReply} reply @param {ArrayBuffer[]} [transfer] */
const reply = (reply, transfer = []) => port.postMessage(reply, transfer);

/** @type {ort.InferenceSession} */
let session;
try {
  session = await ort.InferenceSession.create(init.onnx, init.options);
} catch (err) {
  reply({ type: 'failed', message: messageOf(err) });
  process.exit(1); // ends this thread only
}
reply({ type: 'ready', inputMetadata: plain(session.inputMetadata), outputMetadata: plain(session.outputMetadata) });

port.on('message', (/** @type {WorkerRequest} */ msg) => {
  if (msg.type === 'release') {
    void session.release().finally(() => port.close());
    return;
  }
  // Fault injection for tests: the thread dies between two tasks, as after an uncaught
  // error, with the runs queued behind this message never answered.
  if (msg.type === 'exit') process.exit(1);
  // Fault injection for tests: the thread blocks, as inside a native call that does not return.
  if (msg.type === 'hang') {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, msg.ms);
    return;
  }
  void run(msg);
});

/** @param {Extract<WorkerRequest, { type: 'run' }>} msg */
async function run(msg) {
  const { id, buffer, rows, width, inputName, outputName, positiveClassIndex } = msg;
  try {
    const input = new ort.Tensor('float32', new Float32Array(buffer, 0, rows * width), [rows, width]);
    const out = await session.run({ [inputName]: input }, [outputName]);
    const probs = out[outputName];
    if (!probs || !(probs.data instanceof Float32Array)) throw new Error(`output ${outputName} is not a float32 tensor`);
    const classes = probs.dims[1] ?? 1;
    const probabilities = new Float32Array(rows);
    for (let i = 0; i < rows; i++) probabilities[i] = /** @type {number} */ (probs.data[i * classes + positiveClassIndex]);
    reply({ type: 'result', id, probabilities, buffer }, [probabilities.buffer, buffer]);
  } catch (err) {
    reply({ type: 'error', id, message: messageOf(err), buffer }, [buffer]);
  }
}
