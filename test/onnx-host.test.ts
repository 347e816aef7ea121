/**
 * The ONNX session on its worker thread (src/model/onnx-host.ts) with the committed
 * model: same numbers as onnxruntime on this thread, the event loop keeps turning while
 * a large batch runs, a dead worker costs only the runs it held, and a model that
 * onnxruntime cannot load is refused with onnxruntime's message.
 */
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestSchema, parityFileSchema, type Manifest } from '../src/bundle/manifest.js';
import { SESSION_OPTIONS as OPTIONS } from '../src/model/churn-model.js';
import { compileEncoder, type EncoderRow, type FeatureEncoder } from '../src/model/features.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { OnnxHost, type WorkerLoss } from '../src/model/onnx-host.js';
import { BUNDLE_DIR, postJson, startTestGateway } from './helpers/index.js';

let manifest: Manifest;
let onnx: Uint8Array;
let encoder: FeatureEncoder;
let rows: EncoderRow[];
let host: OnnxHost;

function encode(n: number): ArrayBuffer {
  const batch = Array.from({ length: n }, (_, i) => rows[i % rows.length] as EncoderRow);
  return encoder.encode(batch).buffer as ArrayBuffer;
}

beforeAll(async () => {
  manifest = manifestSchema.parse(JSON.parse(await readFile(`${BUNDLE_DIR}/manifest.json`, 'utf8')));
  onnx = new Uint8Array(await readFile(`${BUNDLE_DIR}/${manifest.onnx.file}`));
  encoder = compileEncoder(manifest.featureSpec);
  rows = parityFileSchema.parse(JSON.parse(await readFile(`${BUNDLE_DIR}/parity.json`, 'utf8'))).cases.map((c) => c.input as EncoderRow);
  const { inputName, outputName, positiveClassIndex } = manifest.onnx;
  host = await OnnxHost.start(onnx, OPTIONS, { inputName, outputName, positiveClassIndex });
});
afterAll(() => host.release());

describe('ONNX session on a worker thread', () => {
  it('reports the graph and returns exactly what onnxruntime returns on this thread', async () => {
    expect(host.inputNames).toEqual([manifest.onnx.inputName]);
    expect(host.outputNames).toContain(manifest.onnx.outputName);
    const n = 500;
    const buffer = encode(n);
    const features = new Float32Array(buffer.slice(0));
    const { probabilities, buffer: back } = await host.run(buffer, n, encoder.width);
    expect(buffer.byteLength).toBe(0); // transferred, not copied
    expect(new Float32Array(back)).toEqual(features); // and handed back intact for reuse

    const local = await ort.InferenceSession.create(onnx, OPTIONS);
    const out = await local.run({ [manifest.onnx.inputName]: new ort.Tensor('float32', features, [n, encoder.width]) });
    const data = out[manifest.onnx.outputName]?.data as Float32Array;
    await local.release();
    expect(Array.from(probabilities)).toEqual(Array.from({ length: n }, (_, i) => data[i * 2 + manifest.onnx.positiveClassIndex]));
  });

  it('leaves the event loop free while a large batch runs', async () => {
    let turns = 0;
    let running = true;
    const spin = (): void => {
      turns++;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    await host.run(encode(20_000), 20_000, encoder.width); // about 0.1 s of inference
    running = false;
    // Run on this thread, the batch would hold the loop for its whole duration (one or two turns).
    expect(turns).toBeGreaterThan(50);
  });

  it('rejects the runs a dead worker held, then serves again from a new worker', async () => {
    const losses: [WorkerLoss, number][] = [];
    host.onLoss = (loss, _cause, runsLost) => losses.push([loss, runsLost]);
    try {
      const crashed = host.crashForTest();
      const held = [host.run(encode(3), 3, encoder.width), host.run(encode(500), 500, encoder.width)];
      await crashed;
      for (const run of held) await expect(run).rejects.toThrow(/the ONNX worker stopped: the ONNX worker exited with code 1/);
      const { probabilities } = await host.run(encode(3), 3, encoder.width);
      expect(probabilities).toHaveLength(3);
      expect(probabilities.every((p) => p > 0 && p < 1)).toBe(true);
      // Idle, its loss is told too (the model logs it as such): nothing else would say it.
      await host.crashForTest();
      expect(await host.run(encode(3), 3, encoder.width)).toMatchObject({ probabilities: expect.any(Float32Array) });
      // Each loss told once, with the runs it cost: those are answered 503 and logged as failed runs, not as an idle loss.
      expect(losses).toEqual([
        ['worker_stopped', 2],
        ['worker_stopped', 0],
      ]);
    } finally {
      host.onLoss = null;
    }
  });

  it('keeps a thread whose runs outlast the first deadline armed but each finish within their own', async () => {
    const { inputName, outputName, positiveClassIndex } = manifest.onnx;
    const own = await OnnxHost.start(onnx, OPTIONS, { inputName, outputName, positiveClassIndex });
    try {
      own.deadlineScale = 0.6; // a few rows: 6 s
      const losses: WorkerLoss[] = [];
      own.onLoss = (loss) => losses.push(loss);
      // The watchdog is armed for this run's deadline, 6 s from now; the run is answered at once.
      await own.run(encode(3), 3, encoder.width);
      await sleep(3000);
      // Sent 3 s later, answered 4.5 s later (the thread busy before it): 1.5 s after the first
      // run's deadline, when the watchdog fires, and 1.5 s before its own, which the watchdog must wait for.
      own.hangForTest(4500);
      const late = await own.run(encode(3), 3, encoder.width);
      expect(late.probabilities).toHaveLength(3);
      expect(losses).toEqual([]);
    } finally {
      await own.release();
    }
  });

  it('starts one new thread for all the runs that find their thread lost, not one each', async () => {
    const { inputName, outputName, positiveClassIndex } = manifest.onnx;
    const own = await OnnxHost.start(onnx, OPTIONS, { inputName, outputName, positiveClassIndex });
    // This process's threads (vitest runs each file in a process of its own): a worker thread is one more.
    const threads = () => readdirSync('/proc/self/task').length;
    try {
      await own.run(encode(3), 3, encoder.width);
      const before = threads();
      await own.crashForTest();
      const answers = await Promise.all(Array.from({ length: 6 }, () => own.run(encode(3), 3, encoder.width)));
      expect(answers.map((a) => a.probabilities.length)).toEqual([3, 3, 3, 3, 3, 3]);
      // The crashed thread ended and one started (a thread started per run would be five more, each with a session).
      expect(threads()).toBeLessThanOrEqual(before + 1);
    } finally {
      await own.release();
    }
  });

  it('ignores the end of a thread it gave up: the runs of its new thread are not failed with it', async () => {
    const { inputName, outputName, positiveClassIndex } = manifest.onnx;
    const own = await OnnxHost.start(onnx, OPTIONS, { inputName, outputName, positiveClassIndex });
    try {
      own.deadlineScale = 0.02; // a few rows: 200 ms
      // The thread stops answering for 2 s: its run is failed at its deadline and the thread given up;
      // once it wakes it answers that run (ignored) and ends (told to release when given up).
      own.hangForTest(2000);
      await expect(own.run(encode(3), 3, encoder.width)).rejects.toThrow(/the ONNX worker stopped answering/);
      // A new thread serves; a run waits on it (behind a hang) while the old thread ends.
      await own.run(encode(3), 3, encoder.width);
      own.deadlineScale = 1;
      own.hangForTest(3000);
      const waiting = own.run(encode(3), 3, encoder.width);
      expect((await waiting).probabilities).toHaveLength(3);
    } finally {
      await own.release();
    }
  });

  it("rejects a run onnxruntime refuses inside the thread, with onnxruntime's message, and the same thread serves on", async () => {
    const { inputName, outputName, positiveClassIndex } = manifest.onnx;
    const own = await OnnxHost.start(onnx, OPTIONS, { inputName, outputName, positiveClassIndex });
    const threads = () => readdirSync('/proc/self/task').length;
    try {
      const losses: WorkerLoss[] = [];
      own.onLoss = (loss) => losses.push(loss);
      await own.run(encode(3), 3, encoder.width);
      const before = threads();
      // One feature short: session.run throws in the worker (a dimension mismatch), which answers `error`.
      const narrow = encoder.width - 1;
      await expect(own.run(new ArrayBuffer(3 * narrow * 4), 3, narrow)).rejects.toThrow(`Got invalid dimensions for input: ${inputName}`);
      // Not a lost thread: nothing told, no thread started, and the next run is answered by the same one.
      const { probabilities } = await own.run(encode(3), 3, encoder.width);
      expect(probabilities).toHaveLength(3);
      expect(probabilities.every((p) => p > 0 && p < 1)).toBe(true);
      expect(losses).toEqual([]);
      expect(threads()).toBe(before);
    } finally {
      await own.release();
    }
  });

  it("refuses a model onnxruntime cannot load, with onnxruntime's message", async () => {
    const garbage = new TextEncoder().encode('not an onnx model');
    await expect(OnnxHost.start(garbage, OPTIONS, { inputName: 'x', outputName: 'y', positiveClassIndex: 1 })).rejects.toThrow(/protobuf|parsing|model/i);
  });

  it('refuses runs after release', async () => {
    const { inputName, outputName, positiveClassIndex } = manifest.onnx;
    const other = await OnnxHost.start(onnx, OPTIONS, { inputName, outputName, positiveClassIndex });
    await other.release();
    await expect(other.run(encode(1), 1, encoder.width)).rejects.toThrow(/released/);
  });
});

describe('gateway with a worker that died', () => {
  it('answers the next prediction from a new worker', async () => {
    const gw = await startTestGateway({ COALESCE_PREDICTIONS: 'false' });
    try {
      const session = (gw.slot.current as unknown as { session: OnnxHost }).session;
      await session.crashForTest();
      const res = await postJson(gw.url, '/predict', rows[0]);
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ model_version: gw.slot.current.modelVersion });
    } finally {
      await gw.close();
    }
  });
});
