/**
 * The gateway sends nothing to onnxruntime's telemetry: the library would otherwise keep a
 * device id and an event database under $HOME for upload to Microsoft (onnx-host.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE_DIR, LEGACY_PAYLOAD, REPO_ROOT, postJson, spawnGateway, type SpawnedGateway } from './helpers/index.js';

const telemetryDir = (home: string) => path.join(home, '.cache', 'Microsoft', 'DeveloperTools', '.onnxruntime');

describe('onnxruntime telemetry', () => {
  let gateway: SpawnedGateway | undefined;
  afterAll(() => {
    gateway?.child.kill('SIGKILL');
  });

  it('is what onnxruntime does by default: a session leaves its telemetry store in HOME (control)', () => {
    const home = mkdtempSync(path.join(tmpdir(), 'ort-home-'));
    const script = `import ort from 'onnxruntime-node'; const s = await ort.InferenceSession.create(${JSON.stringify(path.join(BUNDLE_DIR, 'model.onnx'))}); await s.release();`;
    // The environment spawnGateway gives the gateway (PATH and HOME only): onnxruntime keeps no
    // telemetry when CI is set, which CI's own environment is, and nothing else may switch it off.
    const env = { PATH: process.env['PATH'] ?? '', HOME: home };
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, env, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(existsSync(telemetryDir(home))).toBe(true);
  });

  it('is off in the gateway: serving predictions leaves nothing in HOME', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'gateway-home-'));
    gateway = await spawnGateway({ HOME: home });
    const res = await postJson(gateway.url, '/predict', LEGACY_PAYLOAD);
    expect(res.status).toBe(200);
    expect(existsSync(path.join(home, '.cache'))).toBe(false);
  });
});
