/**
 * The ONNX session on its worker thread (src/model/onnx-host.ts) with the committed
 * model: same numbers as onnxruntime on this thread, the event loop keeps turning while
 * a large batch runs, a dead worker costs only the runs it held, and a model that
 * onnxruntime cannot load is refused with onnxruntime's message.
 */
import { readFile } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestSchema, parityFileSchema, type Manifest } from '../src/bundle/manifest.js';
import { SESSION_OPTIONS as OPTIONS } from '../src/model/churn-model.js';
import { compileEncoder, type EncoderRow, type FeatureEncoder } from '../src/model/features.js';
import { OnnxHost } from '../src/model/onnx-host.js';
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
    const crashed = host.crashForTest();
    const held = [host.run(encode(3), 3, encoder.width), host.run(encode(500), 500, encoder.width)];
    await crashed;
    for (const run of held) await expect(run).rejects.toThrow(/the ONNX worker stopped: the ONNX worker exited with code 1/);
    const { probabilities } = await host.run(encode(3), 3, encoder.width);
    expect(probabilities).toHaveLength(3);
    expect(probabilities.every((p) => p > 0 && p < 1)).toBe(true);
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
