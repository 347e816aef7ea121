/**
 * Steps of the release (.github/workflows/release.yml), run as GitHub runs them (bash -eo pipefail)
 * with the environment their `env:` gives them: missing or unusable Docker Hub secrets stop the
 * image job, named, before anything is built or pushed; the built image is pushed only once it
 * served; missing or malformed AWS settings stop the deploy job, named, before it asks AWS for
 * credentials.
 */
import { execFile, spawnSync } from 'node:child_process';
import http from 'node:http';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { LEGACY_PAYLOAD } from '../scripts/docker-smoke.js';
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

  it('is the one the build commands in the docs pass as MODEL_VERSION (the Dockerfile points to docs/delivery.md for its command)', () => {
    expect(releaseJq).toContain('registeredModel.version');
    const commands = ['Dockerfile', 'README.md', 'docs/delivery.md'].flatMap((file) =>
      [...readFileSync(path.join(REPO_ROOT, file), 'utf8').matchAll(/MODEL_VERSION="\$\(jq -r '([^']+)' model\/bundle\/manifest\.json\)"/g)].map((m) => [file, m[1]]),
    );
    expect(commands.map(([file]) => file)).toEqual(expect.arrayContaining(['README.md', 'docs/delivery.md']));
    expect(readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8')).toContain('docs/delivery.md ("Build and run the image")');
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

describe('release: the built image serves before it is pushed (step serves)', () => {
  type Answers = Record<string, [number, string]>;
  const step = (parse(release) as { jobs: { image: { steps: { id?: string; env?: Record<string, string> }[] } } }).jobs.image.steps.find((s) => s.id === 'serves');
  const body = step?.env?.['PREDICT_BODY'] ?? '';

  /** The step's script with a stand-in `docker` (run prints a container id, inspect DOCKER_RUNNING) and the gateway at `url`. */
  function runServes(url: string, running = 'true'): Promise<{ code: number | null; out: string; calls: string }> {
    const dir = mkdtempSync(path.join(tmpdir(), 'release-serves-'));
    writeFileSync(path.join(dir, 'docker'), '#!/bin/sh\necho "$*" >> "$DOCKER_CALLS"\ncase "$1" in\n  run) echo c0ntainer ;;\n  inspect) echo "$DOCKER_RUNNING" ;;\n  logs) echo "a log line" ;;\nesac\n', { mode: 0o755 });
    const calls = path.join(dir, 'calls');
    const env = { PATH: `${dir}:${process.env['PATH'] ?? ''}`, IMAGE: 'docker.io/acme/churn-gateway:c0ffee', URL: url, PREDICT_BODY: body, DOCKER_CALLS: calls, DOCKER_RUNNING: running };
    // Not spawnSync: the real gateway answers from this process.
    return new Promise((resolve) => {
      execFile('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', stepScript(release, 'serves')], { env, timeout: 30_000 }, (error, stdout, stderr) => {
        let recorded = '';
        try {
          recorded = readFileSync(calls, 'utf8');
        } catch {
          recorded = '';
        }
        rmSync(dir, { recursive: true, force: true });
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, out: stdout + stderr, calls: recorded });
      });
    });
  }

  /** A server answering each path as told. */
  async function standIn(answers: Answers): Promise<{ url: string; close: () => Promise<unknown> }> {
    const server = http.createServer((req, res) => {
      req.resume();
      const [status, text] = answers[req.url ?? ''] ?? [404, '{}'];
      res.writeHead(status, { 'content-type': 'application/json' }).end(text);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  it("posts scripts/docker-smoke.ts's legacy payload, which the smoke test shows a 200 for", () => {
    expect(JSON.parse(body)).toEqual(LEGACY_PAYLOAD);
  });

  it('passes on the real gateway, having started the image as ECS runs it and removed it after', async () => {
    const gateway = await startTestGateway();
    try {
      const r = await runServes(gateway.url);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(/::notice::docker\.io\/acme\/churn-gateway:c0ffee serves: GET \/ 200, POST \/predict 200 \{"prediction"/);
      expect(r.calls.split('\n')[0]).toBe('run -d --read-only --tmpfs /tmp -p 127.0.0.1:8000:8000 docker.io/acme/churn-gateway:c0ffee');
      expect(r.calls).toContain('rm -f c0ntainer');
    } finally {
      await gateway.close();
    }
  });

  const ok: Answers = { '/': [200, '{"status":"ok"}'], '/predict': [200, '{"prediction":true}'], '/ui': [200, '<html>'] };
  it.each<[string, Answers, string, RegExp]>([
    ['"prediction" is not the first key', { ...ok, '/predict': [200, '{"churn":true,"prediction":true}'] }, 'true', /::error::.*"churn" first, not "prediction"/],
    ['POST /predict fails', { ...ok, '/predict': [400, '{"error":"bad"}'] }, 'true', /::error::.*POST \/predict answered 400/],
    ['GET /ui is 503 (no UI build)', { ...ok, '/ui': [503, '{}'] }, 'true', /::error::.*GET \/ui answered 503/],
    ['the container exits before GET / is 200', { ...ok, '/': [503, '{}'] }, 'false', /::error::.*GET \/ answered 503 .*nothing was pushed/],
  ])('fails, naming it, when %s, and prints the container log', async (_name, answers, running, expected) => {
    const server = await standIn(answers);
    try {
      const r = await runServes(server.url, running);
      expect(r.code, r.out).toBe(1);
      expect(r.out).toMatch(expected);
      expect(r.out).toContain('a log line');
      expect(r.calls).toContain('rm -f c0ntainer');
    } finally {
      await server.close();
    }
  });

  it('the stand-in serving what the gateway serves passes (so the failures above are the answers, not the harness)', async () => {
    const server = await standIn(ok);
    try {
      expect((await runServes(server.url)).code).toBe(0);
    } finally {
      await server.close();
    }
  });
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
