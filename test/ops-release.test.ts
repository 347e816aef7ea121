/**
 * The release's "Image name and model version" step (.github/workflows/release.yml, job image),
 * run as GitHub runs it (bash -eo pipefail) with the environment its `env:` gives it: missing or
 * unusable Docker Hub secrets stop the release there, named, before anything is built or pushed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/index.js';

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
  const output = path.join(mkdtempSync(path.join(tmpdir(), 'release-meta-')), 'github-output');
  const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', stepScript(release, 'meta')], {
    cwd: REPO_ROOT,
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

  it('names the one that is missing', () => {
    expect(runMeta({ DOCKERHUB_USERNAME: 'acme', DOCKERHUB_TOKEN_SET: 'false' }).out).toContain('::error::repository secret(s) DOCKERHUB_TOKEN not set');
    expect(runMeta({ DOCKERHUB_USERNAME: '', DOCKERHUB_TOKEN_SET: 'true' }).out).toContain('::error::repository secret(s) DOCKERHUB_USERNAME not set');
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
