/**
 * modelInfo as an auditor reads it, for a bundle other than the committed one: what it reports
 * about the parity replay is what this gateway did. (A manifest whose count is not its parity
 * file's is refused at load: test/startup-faults.test.ts.)
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundleDir, verifyBundle } from '../src/bundle/load.js';
import { BundleError } from '../src/errors.js';
import { ModelInfoDocument } from '../src/generated/graphql.js';
import { BUNDLE_DIR, gql, postJson, startTestGateway, type TestGateway } from './helpers/index.js';

const REPLAYED = 40;
/** Added to one case's expected probability, so the replay's largest difference is this bundle's own. */
const SHIFT = 3e-6;
const SHIFTED_CASE = 7;

interface ParityCase {
  input: Record<string, unknown>;
  probability: number;
}
let cases: ParityCase[];

let dir: string;
let gw: TestGateway;

beforeAll(async () => {
  // The committed bundle with a parity file of its first REPLAYED cases, its manifest's checksum
  // and count following the file, as training with parity_count = REPLAYED would write them.
  dir = await mkdtemp(path.join(tmpdir(), 'graphql-model-info-'));
  const manifest = JSON.parse(await readFile(path.join(BUNDLE_DIR, 'manifest.json'), 'utf8')) as { parity: { file: string; sha256: string; count: number }; onnx: { file: string }; explainer?: unknown };
  const parity = JSON.parse(await readFile(path.join(BUNDLE_DIR, manifest.parity.file), 'utf8')) as { tolerance: number; cases: ParityCase[] };
  cases = parity.cases.slice(0, REPLAYED).map((c, i) => (i === SHIFTED_CASE ? { ...c, probability: c.probability + SHIFT } : c));
  const text = JSON.stringify({ tolerance: parity.tolerance, cases });
  manifest.parity.count = REPLAYED;
  manifest.parity.sha256 = createHash('sha256').update(text).digest('hex');
  // The explainer's reference cases are parity cases 0 to 2390: this bundle is one without explainer.
  delete manifest.explainer;
  await writeFile(path.join(dir, manifest.parity.file), text);
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  await copyFile(path.join(BUNDLE_DIR, manifest.onnx.file), path.join(dir, manifest.onnx.file));
  gw = await startTestGateway({ MODEL_DIR: dir, LOG_LEVEL: 'warn' });
});
afterAll(async () => {
  await gw?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('modelInfo.parity', () => {
  it('reports the replay of this bundle (40 cases), not figures of the committed one (2400)', async () => {
    const res = await gql(gw.url, ModelInfoDocument, {});
    expect(res.status).toBe(200);
    const parity = res.body.data?.modelInfo.parity;
    expect(parity?.cases).toBe(REPLAYED);
    // The largest difference between what the gateway scores for the cases and what the file
    // expects, one of which was moved by SHIFT: the replay's own figure, which no other bundle has.
    const scored = await postJson(gw.url, '/predict', cases.map((c) => c.input));
    expect(scored.status).toBe(200);
    const probabilities = (scored.json as { churn_probability: number }[]).map((p) => p.churn_probability);
    expect(probabilities).toHaveLength(REPLAYED);
    const largest = Math.max(...cases.map((c, i) => Math.abs((probabilities[i] ?? Number.NaN) - c.probability)));
    expect(largest).toBeGreaterThan(SHIFT / 2);
    expect(parity?.maxAbsDiff).toBe(largest);
    expect(parity?.maxAbsDiff).toBeLessThanOrEqual(parity?.tolerance ?? 0);
  });
});

describe('modelInfo.trainedAt', () => {
  it('is the ISO 8601 UTC time the manifest gives, which a bundle must give: another form of createdAt is refused at load', async () => {
    const info = (await gql(gw.url, ModelInfoDocument, {})).body.data?.modelInfo;
    expect(info?.trainedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const raw = await readBundleDir(BUNDLE_DIR);
    for (const createdAt of ['29/11/2026 00:26', '2026-11-29 00:26:31', '2026-11-29T01:26:31+01:00', 'yesterday']) {
      const manifestJson = JSON.stringify({ ...(JSON.parse(raw.manifestJson) as object), createdAt });
      expect(() => verifyBundle({ ...raw, manifestJson }), createdAt).toThrow(BundleError);
      expect(() => verifyBundle({ ...raw, manifestJson }), createdAt).toThrow(/createdAt.*ISO 8601 UTC/);
    }
  });
});

describe('manifest config', () => {
  it('loads a bundle whose manifest records the config file it was trained with, or none (the committed one), and refuses a malformed record', async () => {
    const raw = await readBundleDir(BUNDLE_DIR);
    const committed = JSON.parse(raw.manifestJson) as Record<string, unknown>;
    expect(committed).not.toHaveProperty('config');
    const sha256 = 'a'.repeat(64);
    for (const config of [{ sha256, path: 'model/config.toml' }, { sha256, path: null }]) {
      const manifestJson = JSON.stringify({ ...committed, config });
      expect(() => verifyBundle({ ...raw, manifestJson }), JSON.stringify(config)).not.toThrow();
    }
    for (const config of [{ sha256: 'abc', path: 'model/config.toml' }, { path: 'model/config.toml' }, { sha256, path: '' }]) {
      const manifestJson = JSON.stringify({ ...committed, config });
      expect(() => verifyBundle({ ...raw, manifestJson }), JSON.stringify(config)).toThrow(/config/);
    }
  });
});
