/**
 * vitest's globalSetup, for the root's tests and infra's: everything a test run writes to the
 * temporary directory goes under one directory of the run's own, removed when the run ends.
 *
 * Tests, the processes they start (scripts, python, mlflow, chromium) and CDK (a `cdk.out…` per
 * synthesized app) make their temporary folders through TMPDIR; many are left for the system to
 * clear, and a machine that runs the suite often kept ~12,000 of them (mostly infra's `cdk.out…`).
 * Workers are started after this runs, so they and their children inherit TMPDIR.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const before = process.env['TMPDIR'];
  const dir = mkdtempSync(path.join(tmpdir(), 'churn-tests-'));
  process.env['TMPDIR'] = dir;
  return () => {
    rmSync(dir, { recursive: true, force: true });
    if (before === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = before;
  };
}
