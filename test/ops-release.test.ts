/**
 * Steps of the release (.github/workflows/release.yml), run as GitHub runs them (bash -eo pipefail)
 * with the environment their `env:` gives them: missing or unusable Docker Hub secrets stop the
 * image job, named, before anything is built or pushed; missing or malformed AWS settings stop
 * the deploy job, named, before it asks AWS for credentials.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { BUNDLE_DIR, REPO_ROOT, startTestGateway } from './helpers/index.js';

/** The manifest fields the release reads (the rest is carried through unchanged). */
type Manifest = { registeredModel: { name: string; version: string | null; alias: string | null }; run: { runId: string }; [key: string]: unknown };

const release = readFileSync(path.join(REPO_ROOT, '.github/workflows/release.yml'), 'utf8');

/** The `run: |` block of the step with this id (steps at 6 spaces, their keys at 8, the script at 10). */
function stepScript(workflow: string, id: string): string {
  const lines = workflow.split('\n');
  const at = lines.findIndex((l) => l === `        id: ${id}`);
  if (at < 0) throw new Error(`no step with id ${id}`);
  const run = lines.findIndex((l, i) => i > at && l === '        run: |');
  const body: string[] = [];
  for (const line of lines.slice(run + 1)) {
    if (line.trim() !== '' && !line.startsWith('          ')) break;
    body.push(line.slice(10));
  }
  return body.join('\n');
}

function runMeta(env: { DOCKERHUB_USERNAME: string; DOCKERHUB_TOKEN_SET: string }) {
  return runStep('meta', env);
}

/** Runs a step's script as GitHub does (bash -eo pipefail, from the checkout, or `cwd`) with the given environment. */
function runStep(id: string, env: Record<string, string>, cwd = REPO_ROOT) {
  const output = path.join(mkdtempSync(path.join(tmpdir(), 'release-step-')), 'github-output');
  const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', stepScript(release, id)], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '', GITHUB_OUTPUT: output, RELEASE_SHA: '0123456789abcdef0123456789abcdef01234567', ...env },
  });
  let written = '';
  try {
    written = readFileSync(output, 'utf8');
  } catch {
    written = '';
  }
  return { status: r.status, out: r.stdout + r.stderr, written };
}

describe('release: Docker Hub secrets', () => {
  it('the step is given the user and whether the token is set, never the token', () => {
    const meta = release.slice(release.indexOf('        id: meta'), release.indexOf('        run: |', release.indexOf('        id: meta')));
    expect(meta).toContain('DOCKERHUB_USERNAME: ${{ secrets.DOCKERHUB_USERNAME }}');
    expect(meta).toContain("DOCKERHUB_TOKEN_SET: ${{ secrets.DOCKERHUB_TOKEN != '' }}");
  });

  it('names both secrets when neither is set, and writes no image name', () => {
    const r = runMeta({ DOCKERHUB_USERNAME: '', DOCKERHUB_TOKEN_SET: 'false' });
    expect(r.status).toBe(1);
    expect(r.out).toContain('::error::repository secret(s) DOCKERHUB_USERNAME DOCKERHUB_TOKEN not set');
    expect(r.written).toBe('');
  });

  it('names the one that is missing, and stops there: no image name written', () => {
    for (const [env, missing] of [
      [{ DOCKERHUB_USERNAME: 'acme', DOCKERHUB_TOKEN_SET: 'false' }, 'DOCKERHUB_TOKEN'],
      [{ DOCKERHUB_USERNAME: '', DOCKERHUB_TOKEN_SET: 'true' }, 'DOCKERHUB_USERNAME'],
    ] as const) {
      const r = runMeta(env);
      expect(r.out).toContain(`::error::repository secret(s) ${missing} not set`);
      expect({ status: r.status, written: r.written }, missing).toEqual({ status: 1, written: '' });
    }
  });

  it('refuses a user name that cannot be an image repository, without printing it', () => {
    for (const user of ['Acme', 'acme/team', 'acme corp']) {
      const r = runMeta({ DOCKERHUB_USERNAME: user, DOCKERHUB_TOKEN_SET: 'true' });
      expect(r.status, user).toBe(1);
      expect(r.out).toContain('::error::secret DOCKERHUB_USERNAME must be a Docker Hub user or organization name');
      expect(r.out).not.toContain(user);
    }
  });

  it('with both set: the image name and the model version the gateway reports', () => {
    const r = runMeta({ DOCKERHUB_USERNAME: 'acme', DOCKERHUB_TOKEN_SET: 'true' });
    expect(r.status, r.out).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'model/bundle/manifest.json'), 'utf8')) as { registeredModel?: { version: string }; run: { runId: string }; onnx: { sha256: string } };
    expect(r.written).toBe(`image=docker.io/acme/churn-gateway\nmodel-version=${manifest.registeredModel?.version ?? `run-${manifest.run.runId}`}\nmodel-sha256=${manifest.onnx.sha256}\n`);
  });
});

describe('release: the model version of the image label', () => {
  /** The jq expression the release's meta step computes MODEL_VERSION with. */
  const releaseJq = /model_version=\$\(jq -er '([^']+)'/.exec(stepScript(release, 'meta'))?.[1];

  it('is the one the build commands in the Dockerfile and the docs pass as MODEL_VERSION', () => {
    expect(releaseJq).toContain('registeredModel.version');
    const commands = ['Dockerfile', 'README.md', 'docs/delivery.md'].flatMap((file) =>
      [...readFileSync(path.join(REPO_ROOT, file), 'utf8').matchAll(/MODEL_VERSION="\$\(jq -r '([^']+)' model\/bundle\/manifest\.json\)"/g)].map((m) => [file, m[1]]),
    );
    expect(commands.map(([file]) => file)).toEqual(expect.arrayContaining(['Dockerfile', 'README.md', 'docs/delivery.md']));
    expect(commands.filter(([, jq]) => jq !== releaseJq)).toEqual([]);
  });

  // A bundle of a registered version, and one of a run never registered (MLflow off at training).
  it.each([
    ['registered', (m: Manifest) => m],
    ['unregistered', (m: Manifest) => ({ ...m, registeredModel: { ...m.registeredModel, version: null, alias: null } })],
  ])('is the version the gateway reports for the bundle it bakes in (%s)', async (_, edit) => {
    const checkout = mkdtempSync(path.join(tmpdir(), 'release-bundle-'));
    const bundle = path.join(checkout, 'model/bundle');
    mkdirSync(bundle, { recursive: true });
    cpSync(BUNDLE_DIR, bundle, { recursive: true });
    const manifest = edit(JSON.parse(readFileSync(path.join(bundle, 'manifest.json'), 'utf8')) as Manifest);
    writeFileSync(path.join(bundle, 'manifest.json'), JSON.stringify(manifest, null, 2));
    const r = runStep('meta', { DOCKERHUB_USERNAME: 'acme', DOCKERHUB_TOKEN_SET: 'true' }, checkout);
    expect(r.status, r.out).toBe(0);
    const labelled = /^model-version=(.*)$/m.exec(r.written)?.[1];
    const gw = await startTestGateway({ MODEL_DIR: bundle });
    try {
      const reported = ((await (await fetch(`${gw.url}/`)).json()) as { version: string }).version;
      expect(labelled).toBe(reported);
    } finally {
      await gw.close();
      rmSync(checkout, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('release: deploy settings', () => {
  const ROLE = 'arn:aws:iam::123456789012:role/churn-gateway-release';

  it("is the deploy job's first step, given the two variables", () => {
    const deploy = release.slice(release.indexOf('\n  deploy:\n'));
    const steps = deploy.slice(deploy.indexOf('    steps:\n'));
    expect(steps).toMatch(/^ {4}steps:\n(?: {6}#.*\n)* {6}- name: Deploy settings\n {8}id: settings\n/);
    expect(steps).toContain('AWS_ROLE_ARN: ${{ vars.AWS_ROLE_ARN }}');
    expect(steps).toContain('AWS_REGION: ${{ vars.AWS_REGION }}');
  });

  it('passes a role ARN and a region', () => {
    const r = runStep('settings', { AWS_ROLE_ARN: ROLE, AWS_REGION: 'eu-west-1' });
    expect(r.status, r.out).toBe(0);
    expect(r.out).toBe('');
  });

  it('names every variable that is missing or malformed', () => {
    const unset = runStep('settings', { AWS_ROLE_ARN: '', AWS_REGION: '' });
    expect(unset.status).toBe(1);
    expect(unset.out).toContain('::error::variable AWS_ROLE_ARN must be the ARN of the IAM role to assume (arn:aws:iam::<account>:role/<name>), got ""');
    expect(unset.out).toContain('::error::variable AWS_REGION must be the region of the ChurnGateway stack, like eu-west-1, got ""');
    const wrong = runStep('settings', { AWS_ROLE_ARN: 'churn-gateway-release', AWS_REGION: 'Ireland' });
    expect(wrong.status).toBe(1);
    expect(wrong.out).toContain('AWS_ROLE_ARN must be the ARN of the IAM role to assume (arn:aws:iam::<account>:role/<name>), got "churn-gateway-release"');
    expect(wrong.out).toContain('AWS_REGION must be the region of the ChurnGateway stack, like eu-west-1, got "Ireland"');
    expect(runStep('settings', { AWS_ROLE_ARN: ROLE, AWS_REGION: 'eu-west-1 ' }).status).toBe(1);
  });
});

describe('release: the deploy job\'s report of the model it runs', () => {
  const base = { ECS_SERVICE: 'churn-gateway', TASK_DEFINITION: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/churn-gateway:9', IMAGE: 'docker.io/acme/churn-gateway:0123456789abcdef0123456789abcdef01234567', MODEL_VERSION: '7' };

  it("is given the model URI the deploy step read from the task definition", () => {
    expect(release).toContain('MODEL_URI: ${{ steps.deploy.outputs.model-uri }}');
    // `deploy` is the step of the same job that runs scripts/ecs-deploy.sh (which writes model-uri),
    // and the report step's MODEL_URI is that output and nothing else: a renamed id reads as empty,
    // and the notice would call every MLflow-served service one that serves its bundle.
    const jobs = (parse(release) as { jobs: Record<string, { steps: { id?: string; run?: string; env?: Record<string, string> }[] }> }).jobs;
    const job = Object.values(jobs).find((j) => j.steps.some((s) => s.id === 'report'));
    expect(job?.steps.find((s) => s.id === 'deploy')?.run?.trim()).toBe('bash scripts/ecs-deploy.sh');
    expect(job?.steps.find((s) => s.id === 'report')?.env?.['MODEL_URI']).toBe('${{ steps.deploy.outputs.model-uri }}');
  });

  it("without MLflow, the image's bundle and its version", () => {
    const r = runStep('report', { ...base, MODEL_URI: '' });
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain(`::notice::service churn-gateway runs ${base.TASK_DEFINITION} (${base.IMAGE}): the image's bundle, model version 7`);
  });

  it("with MLflow, its model URI; the bundle's version only as the fallback, not as the model the service runs", () => {
    const r = runStep('report', { ...base, MODEL_URI: 'models:/telco-churn@champion' });
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain(': models:/telco-churn@champion from MLflow (the image\'s bundle, model version 7, only where MLflow cannot provide it at start-up)');
    expect(r.out).not.toMatch(/\(docker\.io\S+, model version 7\)/);
  });
});
