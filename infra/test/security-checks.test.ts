import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import { createGatewayApp } from '../lib/app.js';
import type { GatewaySettings } from '../lib/gateway-stack.js';
import { ALL_FEATURES, MLFLOW_TOKEN_FEATURES, TEST_IMAGE } from './helpers.js';

const CFN_LINT = fileURLToPath(new URL('../.venv/bin/cfn-lint', import.meta.url));
const outdirs: string[] = [];
afterAll(() => outdirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function tempDir(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'churn-infra-'));
  outdirs.push(outdir);
  return outdir;
}

/** Synthesizes the app bin/app.ts synthesizes (lib/app.ts: cdk-nag plugin registered) into a temp dir. */
function synthesizeToTempDir(overrides: Partial<GatewaySettings> = {}) {
  const { app, stack } = createGatewayApp({ outdir: tempDir(), context: { image: TEST_IMAGE } }, overrides);
  const assembly = app.synth();
  return { app, stack, templatePath: assembly.getStackByName(stack.stackName).templateFullPath };
}

describe("the app's own checks", () => {
  it('fail the synth on a cdk-nag AwsSolutions finding that is not acknowledged', () => {
    // A queue without a dead-letter queue or an SSL-only policy: findings nothing acknowledges.
    const outdir = tempDir();
    const { app, stack } = createGatewayApp({ outdir, context: { image: TEST_IMAGE } });
    new sqs.Queue(stack, 'UncheckedQueue');
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
    const report = readFileSync(join(outdir, 'validation-report.json'), 'utf8');
    expect(report).toContain('AwsSolutions-SQS4');
  });
});

const variants = {
  'defaults (HTTP)': {},
  'all features (HTTPS, secrets, MLflow with username/password, alarm topic, metrics scraper)': ALL_FEATURES,
  'MLflow with a token, secrets under a customer-managed KMS key': MLFLOW_TOKEN_FEATURES,
};

describe.each(Object.entries(variants))('security checks: %s', (_name, overrides) => {
  const { app, stack, templatePath } = synthesizeToTempDir(overrides);

  it('cdk-nag AwsSolutions reports no unacknowledged errors or warnings', () => {
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.violations.map((v) => `${v.ruleName} (${v.severity}): ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('acknowledges only the three cdk-nag findings that are accepted by design', () => {
    // aws-cdk-lib records its own acknowledgments too (e.g. cfn-lint ids on VPC flow logs); only ours are counted.
    const acknowledged = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>))
      .filter(([id]) => id.includes('AwsSolutions-'));
    expect(acknowledged.map(([id]) => id.replace(/^[^:]*::/, '')).sort()).toEqual(['AwsSolutions-EC23', 'AwsSolutions-ECS2', 'AwsSolutions-ELB2']);
    for (const [id, reason] of acknowledged) expect(reason.length, `reason for ${id}`).toBeGreaterThan(40);
  });

  it('cfn-lint reports nothing on the synthesized template', () => {
    expect(existsSync(CFN_LINT), `missing ${CFN_LINT}: run scripts/setup-cfn-lint.sh (npm test does it)`).toBe(true);
    const result = spawnSync(CFN_LINT, ['--', templatePath], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
