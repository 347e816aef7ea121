/**
 * Start-up refuses anything that could serve wrong numbers: each broken bundle gives one
 * clear line on stderr, the same reason in a fatal log line, and a non-zero exit, from the real process.
 */
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parityFileSchema } from '../src/bundle/manifest.js';
import { BUNDLE_DIR, spawnGateway, type SpawnedGateway } from './helpers/index.js';
import { freePort } from './helpers/mlflow-server.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A copy of the committed bundle, broken by `mutate`. */
async function brokenBundle(mutate: (dir: string, manifest: Record<string, unknown>) => void | Promise<void>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bundle-'));
  dirs.push(dir);
  await cp(BUNDLE_DIR, dir, { recursive: true });
  // Every key kept, in order: only what `mutate` changes differs from the committed manifest.
  const manifest = z.record(z.string(), z.unknown()).parse(JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')));
  await mutate(dir, manifest);
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

/** The exit code, or 'still running' (and the process killed) when it did not exit within 30 s. */
async function exitedWithin(gw: SpawnedGateway): Promise<number | null | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), 30_000)));
  const code = await Promise.race([gw.exited, late]);
  clearTimeout(timer);
  if (code === 'still running') gw.child.kill('SIGKILL');
  return code;
}

async function startFails(modelDir: string, message: RegExp, env: Record<string, string> = {}): Promise<void> {
  const gw = await spawnGateway({ MODEL_DIR: modelDir, ...env }, { waitReady: false });
  const code = await exitedWithin(gw);
  expect(code).not.toBe(0);
  const lines = gw.stderr().trim().split('\n');
  expect(lines, gw.stderr()).toHaveLength(1);
  expect(lines[0]).toMatch(/^churn-gateway: cannot start: /);
  expect(lines[0]).toMatch(message);
  // The same reason as a fatal line in the log, where an operator of the running service looks.
  const fatal = gw.stdout().split('\n').filter((l) => l.includes('"level":"fatal"')).map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(fatal).toEqual([expect.objectContaining({ msg: 'cannot start', err: lines[0]?.replace('churn-gateway: cannot start: ', '') })]);
}

describe('start-up faults', () => {
  it('a MODEL_DIR with no bundle in it names MODEL_DIR, quoted so a trailing space shows', async () => {
    await startFails('/nonexistent-bundle', /^churn-gateway: cannot start: MODEL_DIR "\/nonexistent-bundle": cannot read \/nonexistent-bundle\/manifest\.json: no such file \(ENOENT\)$/);
    await startFails(`${BUNDLE_DIR} `, /^churn-gateway: cannot start: MODEL_DIR ".*\/model\/bundle ": cannot read .*\/model\/bundle \/manifest\.json: no such file \(ENOENT\)$/);
  });

  it('a missing model file', async () => {
    const dir = await brokenBundle(async (d) => rm(path.join(d, 'model.onnx')));
    await startFails(dir, /cannot read .*model\.onnx: no such file \(ENOENT\)$/);
  });

  it('a manifest with several faults names them all at once', async () => {
    const dir = await brokenBundle((_, m) => {
      delete (m['onnx'] as Record<string, unknown>)['sha256'];
      m['threshold'] = 2;
    });
    await startFails(dir, /manifest\.json in .* does not match the bundle format: .*threshold: .*onnx\.sha256: |manifest\.json in .* does not match the bundle format: .*onnx\.sha256: .*threshold: /);
  });

  it('a corrupt model file (checksum)', async () => {
    const dir = await brokenBundle(async (d) => {
      const bytes = await readFile(path.join(d, 'model.onnx'));
      bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 0xff;
      await writeFile(path.join(d, 'model.onnx'), bytes);
    });
    await startFails(dir, /model\.onnx .* has sha256 [0-9a-f]{64}, but the manifest says/);
  });

  it('an ONNX session error (garbage with a matching checksum)', async () => {
    const dir = await brokenBundle(async (d, m) => {
      const garbage = Buffer.from('this is not an onnx model');
      await writeFile(path.join(d, 'model.onnx'), garbage);
      (m['onnx'] as Record<string, unknown>)['sha256'] = sha(garbage);
    });
    await startFails(dir, /ONNX session error/);
  });

  it('a manifest that disagrees with the GraphQL contract', async () => {
    const dir = await brokenBundle((_d, m) => {
      const columns = (m['featureSpec'] as { columns: { name: string; allowedValues?: string[] }[] }).columns;
      const contract = columns.find((c) => c.name === 'Contract');
      if (contract) contract.allowedValues = ['Month-to-month', 'One year'];
    });
    await startFails(dir, /does not match the gateway contract: column Contract allows \[Month-to-month, One year\] in the bundle but/);
  });

  it('a manifest whose feature count disagrees with the ONNX input', async () => {
    const dir = await brokenBundle((_d, m) => {
      const features = (m['featureSpec'] as { features: unknown[] }).features;
      features.pop();
    });
    await startFails(dir, /does not match its manifest: ONNX input .* expected \[N, \d+\]/);
  });

  it('a manifest whose onnx.outputName names the int64 label output', async () => {
    const dir = await brokenBundle((_d, m) => {
      (m['onnx'] as Record<string, unknown>)['outputName'] = 'label';
    });
    await startFails(dir, /does not match its manifest: ONNX output label is int64, expected float32/);
  });

  it('a ratio feature over a nullable column without nullAs, or dividing by a nullable column', async () => {
    type Feature = { transform: string; numerator?: string; denominator?: string; nullAs?: number };
    const ratio = (m: Record<string, unknown>) => (m['featureSpec'] as { features: Feature[] }).features.find((f) => f.transform === 'ratio') as Feature;
    const noNullAs = await brokenBundle((_d, m) => void delete ratio(m).nullAs);
    await startFails(noNullAs, /does not match the gateway contract: feature TotalCharges\/tenure reads nullable column TotalCharges without nullAs/);
    const byNullable = await brokenBundle((_d, m) => {
      Object.assign(ratio(m), { numerator: 'MonthlyCharges', denominator: 'TotalCharges' });
    });
    await startFails(byNullable, /feature TotalCharges\/tenure divides by nullable column TotalCharges/);
  });

  it('parity vectors that are off', async () => {
    const dir = await brokenBundle(async (d, m) => {
      const parity = parityFileSchema.parse(JSON.parse(await readFile(path.join(d, 'parity.json'), 'utf8')));
      const off = parity.cases[3];
      if (!off) throw new Error('the committed parity.json has fewer than 4 cases');
      off.probability = Math.min(1, off.probability + 0.01);
      const text = JSON.stringify(parity);
      await writeFile(path.join(d, 'parity.json'), text);
      (m['parity'] as Record<string, unknown>)['sha256'] = sha(text);
    });
    await startFails(dir, /parity check failed .* max \|Δp\| = 0\.0\d+ > 0\.00001 \(case 3/);
  });

  it('a parity case the encoder cannot read is the bundle refused, not inference failing', async () => {
    const dir = await brokenBundle(async (d, m) => {
      const parity = parityFileSchema.parse(JSON.parse(await readFile(path.join(d, 'parity.json'), 'utf8')));
      const input = parity.cases[5]?.input as Record<string, unknown> | undefined;
      if (!input) throw new Error('the committed parity.json has fewer than 6 cases');
      delete input['tenure'];
      const text = JSON.stringify(parity);
      await writeFile(path.join(d, 'parity.json'), text);
      (m['parity'] as Record<string, unknown>)['sha256'] = sha(text);
    });
    await startFails(dir, /: parity check could not run for [^ ]+: feature tenure: column tenure is undefined, expected a number$/);
  });

  it('a manifest whose account of the parity check is not the check that runs (modelInfo shows it to auditors)', async () => {
    const fewer = await brokenBundle((_d, m) => {
      (m['parity'] as Record<string, unknown>)['count'] = 40;
    });
    await startFails(fewer, /parity\.json .* holds 2400 cases at tolerance 0\.00001, but the manifest says 40 at 0\.00001/);
    const looser = await brokenBundle((_d, m) => {
      (m['parity'] as Record<string, unknown>)['tolerance'] = 0.001;
    });
    await startFails(looser, /parity\.json .* holds 2400 cases at tolerance 0\.00001, but the manifest says 2400 at 0\.001/);
  });

  it("a group report of another model (modelInfo.groupReport would show auditors that model's numbers)", async () => {
    const dir = await brokenBundle(async (d) => {
      const file = path.join(d, 'group_report.json');
      const report = z.object({ bundle: z.record(z.string(), z.unknown()) }).passthrough().parse(JSON.parse(await readFile(file, 'utf8')));
      report.bundle['onnxSha256'] = '0'.repeat(64);
      await writeFile(file, JSON.stringify(report));
    });
    await startFails(dir, /group_report\.json in .* is not the report of this bundle's model: bundle\.onnxSha256 is 0{64}, but the manifest's onnx\.sha256 is [0-9a-f]{64} \(a report of another model\)$/);
  });

  it("a parity tolerance above training's own limit (the replay would pass a model whose probabilities are not xgboost's)", async () => {
    const loose = await brokenBundle(async (d, m) => {
      const parity = parityFileSchema.parse(JSON.parse(await readFile(path.join(d, 'parity.json'), 'utf8')));
      parity.tolerance = 0.5;
      const text = JSON.stringify(parity);
      await writeFile(path.join(d, 'parity.json'), text);
      Object.assign(m['parity'] as Record<string, unknown>, { sha256: sha(text), tolerance: 0.5 });
    });
    await startFails(loose, /parity\.tolerance in manifest\.json in .* is 0\.5; it must be at most 0\.01 \(training's own limit\)/);
  });

  it('a manifest stating a fact twice with two values (modelInfo would contradict itself), each named with both values', async () => {
    type Stated = { metrics: Record<string, number>; params: Record<string, string> };
    const threshold = await brokenBundle((_d, m) => void ((m as Stated).metrics['threshold'] = 0.4));
    await startFails(threshold, /manifest\.json in .* contradicts itself \(modelInfo would show both\): threshold is 0\.375, but metrics\.threshold is 0\.4$/);
    const rule = await brokenBundle((_d, m) => void ((m as Stated).params['threshold_rule'] = 'maximize recall'));
    await startFails(rule, /contradicts itself .*: thresholdRule is "maximize F1 [^"]*", but params\.threshold_rule is "maximize recall"$/);
    const rounds = await brokenBundle((_d, m) => void ((m as Stated).params['n_rounds'] = '500'));
    await startFails(rounds, /contradicts itself .*: explainer\.trees is 462, but params\.n_rounds is "500" \(one tree per boosting round\)$/);
  });

  it('an invalid configuration, with every problem at once', async () => {
    const gw = await spawnGateway({ PORT: '99999', MAX_BATCH: '0', LOG_LEVEL: 'loud' }, { waitReady: false });
    expect(await gw.exited).toBe(1);
    expect(gw.stderr()).toMatch(/PORT: must be an integer from 0 to 65535/);
    expect(gw.stderr()).toMatch(/MAX_BATCH: must be an integer from 1/);
    expect(gw.stderr()).toMatch(/LOG_LEVEL/);
  });

  it('numbers that are not plain decimal integers (hex, exponent, spaces)', async () => {
    const gw = await spawnGateway({ PORT: '0x1F90', MAX_BATCH: '1e3', REQUEST_TIMEOUT_MS: ' 5000' }, { waitReady: false });
    expect(await exitedWithin(gw)).toBe(1);
    expect(gw.stderr()).toMatch(/PORT: must be an integer from 0 to 65535; got "0x1F90"/);
    expect(gw.stderr()).toMatch(/MAX_BATCH: must be an integer from 1 to 1000000; got "1e3"/);
    expect(gw.stderr()).toMatch(/REQUEST_TIMEOUT_MS: must be an integer from 100 to 600000; got " 5000"/);
  });

  it('a misspelled setting is named in a warning (it would otherwise silently keep its default)', async () => {
    const gw = await spawnGateway({ MAX_BACTH: '5', cors_origins: 'https://app.example', LOGLEVEL: 'debug', LOG_LEVEL: 'info' });
    try {
      const warnings = gw.stdout().split('\n').filter((l) => l.includes('is not read by the gateway')).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(warnings.map((w) => [w['level'], w['variable'], w['meant']])).toEqual([
        ['warn', 'MAX_BACTH', 'MAX_BATCH'],
        ['warn', 'cors_origins', 'CORS_ORIGINS'],
        ['warn', 'LOGLEVEL', 'LOG_LEVEL'],
      ]);
      expect(warnings[0]?.['msg']).toMatch(/did you mean MAX_BATCH\? \(MAX_BATCH keeps its default\)$/);
      expect(warnings[2]?.['msg']).toMatch(/did you mean LOG_LEVEL\? \(LOG_LEVEL is set, and is what is read\)$/);
    } finally {
      gw.child.kill('SIGTERM');
      await gw.exited;
    }
  });

  it("a misspelling's warning says what is read instead: the default for an empty number, nothing for a variable without a default", async () => {
    const gw = await spawnGateway({ MAX_BATCH: '', MAX_BACTH: '5', ADMIN_TOKN: 'an-admin-token-of-24-chars' });
    try {
      const warnings = gw.stdout().split('\n').filter((l) => l.includes('is not read by the gateway')).map((l) => (JSON.parse(l) as Record<string, unknown>)['msg']);
      expect(warnings).toEqual([
        'environment variable MAX_BACTH is not read by the gateway; did you mean MAX_BATCH? (MAX_BATCH is empty, so it keeps its default)',
        'environment variable ADMIN_TOKN is not read by the gateway; did you mean ADMIN_TOKEN? (ADMIN_TOKEN stays unset)',
      ]);
    } finally {
      gw.child.kill('SIGTERM');
      await gw.exited;
    }
  });

  it('a misspelled setting is named too when the configuration is refused', async () => {
    const gw = await spawnGateway({ MAX_BATCH: 'ten', MAX_BACTH: '10' }, { waitReady: false });
    expect(await exitedWithin(gw)).toBe(1);
    expect(gw.stderr()).toMatch(/MAX_BATCH: must be an integer/);
    expect(gw.stderr()).toMatch(/environment variable MAX_BACTH is not read by the gateway; did you mean MAX_BATCH\? \(MAX_BATCH is set, and is what is read\)/);
  });

  it('MLFLOW_STRICT=true with no MLflow to be strict about (the packaged bundle would be served without a word)', async () => {
    const gw = await spawnGateway({ MLFLOW_STRICT: 'true' }, { waitReady: false });
    expect(await exitedWithin(gw)).toBe(1);
    expect(gw.stderr()).toMatch(/MLFLOW_STRICT: is true, but MLFLOW_TRACKING_URI and MODEL_URI are not set, so the packaged bundle would be served: set them, or MLFLOW_STRICT=false/);
    // false, or with MLflow configured, is a setting like any other.
    const serving = await spawnGateway({ MLFLOW_STRICT: 'false' });
    serving.child.kill('SIGTERM');
    expect(await exitedWithin(serving)).toBe(0);
  });

  it('a tracking URI that is not http(s)', async () => {
    const gw = await spawnGateway({ MLFLOW_TRACKING_URI: 'sqlite:///tmp/mlflow.db', MODEL_URI: 'models:/telco-churn@champion' }, { waitReady: false });
    expect(await exitedWithin(gw)).toBe(1);
    expect(gw.stderr()).toMatch(/MLFLOW_TRACKING_URI: must be an http\(s\) URL/);
  });

  it('a tracking URI with credentials in it (they would not work, and would be shown)', async () => {
    const gw = await spawnGateway({ MLFLOW_TRACKING_URI: 'http://alice:Pa55wordSECRET@mlflow:5000', MODEL_URI: 'models:/telco-churn@champion' }, { waitReady: false });
    expect(await exitedWithin(gw)).toBe(1);
    expect(gw.stderr()).toMatch(/MLFLOW_TRACKING_URI: must not contain credentials/);
    expect(gw.stderr()).not.toContain('Pa55wordSECRET');
  });

  it('MLflow unreachable and then the packaged bundle unusable: one line with both reasons, not the bundle\'s alone', async () => {
    const dir = await brokenBundle(async (d) => rm(path.join(d, 'model.onnx')));
    const down = `http://127.0.0.1:${await freePort()}`;
    await startFails(
      dir,
      new RegExp(
        `^churn-gateway: cannot start: model models:/telco-churn@champion could not be loaded from MLflow at ${down.replace(/\./g, '\\.')} \\(MLflow at .* is unreachable .*ECONNREFUSED.*\\), ` +
          `and the packaged bundle in MODEL_DIR \\(${dir.replace(/\./g, '\\.')}\\) could not be served instead: cannot read .*model\\.onnx: no such file \\(ENOENT\\)$`,
      ),
      { MLFLOW_TRACKING_URI: down, MODEL_URI: 'models:/telco-churn@champion', MLFLOW_TIMEOUT_MS: '1000' },
    );
  });
});
