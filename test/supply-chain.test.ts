/**
 * Supply chain: Dependabot keeps every pinned manifest current (.github/dependabot.yml), and
 * CI's `audit` job (.github/workflows/ci.yml, scripts/audit.sh) fails on known advisories.
 * The advisory endpoints cannot be reached from here (npm's answers 405), so the job's npm
 * commands run for real against a local stand-in for the registry's bulk advisory endpoint.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { parse } from 'yaml';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../scripts/docker-smoke.js';

const read = (p: string) => fs.readFileSync(path.join(REPO_ROOT, p), 'utf8');

// ---------------------------------------------------------------------------------------------
// dependabot.yml's documented shape (the keys of SchemaStore's dependabot-2.0 schema, which
// GitHub's docs describe): unknown keys are refused, so a typo (`pattern:`, `update-type:`) fails.
const updateTypes = z.array(z.enum(['version-update:semver-major', 'version-update:semver-minor', 'version-update:semver-patch'])).min(1);
const group = z
  .strictObject({
    'applies-to': z.enum(['version-updates', 'security-updates']).optional(),
    'dependency-type': z.enum(['development', 'production']).optional(),
    patterns: z.array(z.string().min(1)).min(1).optional(),
    'exclude-patterns': z.array(z.string().min(1)).min(1).optional(),
    'update-types': z.array(z.enum(['major', 'minor', 'patch'])).min(1).optional(),
  })
  .refine((g) => g['dependency-type'] ?? g.patterns ?? g['exclude-patterns'] ?? g['update-types'], 'a group needs dependency-type, patterns, exclude-patterns or update-types');
const update = z
  .strictObject({
    'package-ecosystem': z.enum(['bun', 'bundler', 'cargo', 'composer', 'devcontainers', 'docker', 'docker-compose', 'dotnet-sdk', 'elm', 'gitsubmodule', 'github-actions', 'gomod', 'gradle', 'helm', 'maven', 'mix', 'npm', 'nuget', 'pip', 'pub', 'swift', 'terraform', 'uv']),
    directory: z.string().startsWith('/').optional(),
    directories: z.array(z.string().startsWith('/')).min(1).optional(),
    schedule: z.strictObject({
      interval: z.enum(['daily', 'weekly', 'monthly', 'quarterly', 'semiannually', 'yearly', 'cron']),
      day: z.enum(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']).optional(),
      time: z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/).optional(),
      timezone: z.string().optional(),
      cronjob: z.string().optional(),
    }),
    cooldown: z
      .strictObject({
        'default-days': z.number().int().min(0).optional(),
        'semver-major-days': z.number().int().min(0).optional(),
        'semver-minor-days': z.number().int().min(0).optional(),
        'semver-patch-days': z.number().int().min(0).optional(),
        include: z.array(z.string()).max(150).optional(),
        exclude: z.array(z.string()).max(150).optional(),
      })
      .optional(),
    'open-pull-requests-limit': z.number().int().min(0).optional(),
    groups: z.record(z.string(), group).optional(),
    ignore: z
      .array(z.strictObject({ 'dependency-name': z.string().optional(), 'update-types': updateTypes.optional(), versions: z.array(z.string()).min(1).optional() }))
      .optional(),
    allow: z.array(z.strictObject({ 'dependency-name': z.string().optional(), 'dependency-type': z.enum(['direct', 'indirect', 'all', 'production', 'development']).optional() })).optional(),
    assignees: z.array(z.string().min(1)).min(1).optional(),
    'commit-message': z.strictObject({ prefix: z.string().max(50).optional(), 'prefix-development': z.string().max(50).optional(), include: z.literal('scope').optional() }).optional(),
    labels: z.array(z.string().min(1)).optional(),
    milestone: z.number().int().min(1).optional(),
    'pull-request-branch-name': z.strictObject({ separator: z.enum(['-', '_', '/']) }).optional(),
    'rebase-strategy': z.enum(['auto', 'disabled']).optional(),
    registries: z.union([z.array(z.string().min(1)).min(1), z.literal('*')]).optional(),
    'target-branch': z.string().min(1).optional(),
    vendor: z.boolean().optional(),
    'versioning-strategy': z.enum(['auto', 'increase', 'increase-if-necessary', 'lockfile-only', 'widen']).optional(),
    'insecure-external-code-execution': z.enum(['allow', 'deny']).optional(),
  })
  .refine((u) => (u.directory === undefined) !== (u.directories === undefined), 'exactly one of directory and directories')
  .refine((u) => u.schedule.interval !== 'cron' || u.schedule.cronjob, 'interval cron needs a cronjob');
const dependabotSchema = z.strictObject({
  version: z.literal(2),
  'enable-beta-ecosystems': z.boolean().optional(),
  registries: z.record(z.string(), z.unknown()).optional(),
  updates: z.array(update).min(1),
});
type Update = z.infer<typeof update>;

const dependabotText = read('.github/dependabot.yml');
const parsed = dependabotSchema.safeParse(parse(dependabotText));
const dependabot = parsed.data ?? { version: 2, updates: [] };
const dirsOf = (u: Update) => u.directories ?? [u.directory!];

// ---------------------------------------------------------------------------------------------
// The repository's manifests, found in the tree (so a new one is noticed).
const SKIP = new Set(['node_modules', '.git', '.tools', '.venv', 'dist', 'cdk.out', 'mlruns', 'test-results', '.tmp', 'tmp', 'bundle']);
function walk(rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(REPO_ROOT, rel), { withFileTypes: true })) {
    const child = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (!SKIP.has(e.name)) out.push(...walk(child));
    } else out.push(child);
  }
  return out;
}
type Manifest = { ecosystem: string; dir: string; file: string };
function manifests(): Manifest[] {
  const files = walk();
  const dirOf = (f: string) => `/${path.posix.dirname(f)}`.replace(/^\/\.$/, '/');
  const found: Manifest[] = [];
  for (const f of files) {
    const base = path.posix.basename(f);
    if (base === 'package.json' && files.includes(f.replace(/package\.json$/, 'package-lock.json'))) found.push({ ecosystem: 'npm', dir: dirOf(f), file: f });
    if (/^requirements.*\.txt$/.test(base)) found.push({ ecosystem: 'pip', dir: dirOf(f), file: f });
    if (/^Dockerfile(\..+)?$|\.Dockerfile$/.test(base)) found.push({ ecosystem: 'docker', dir: dirOf(f), file: f });
    if (/^\.github\/workflows\/[^/]+\.ya?ml$/.test(f)) found.push({ ecosystem: 'github-actions', dir: '/', file: f });
  }
  return found;
}

/** The names a manifest declares, as Dependabot sees them (pip names normalized). */
function dependenciesOf(m: Manifest): string[] {
  const text = read(m.file);
  switch (m.ecosystem) {
    case 'npm': {
      const pkg = JSON.parse(text) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
      return Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
    }
    case 'pip':
      return [...text.matchAll(/^([A-Za-z0-9._-]+)\s*==/gm)].map((x) => x[1]!.toLowerCase().replace(/[._]+/g, '-'));
    case 'docker':
      return [...text.matchAll(/^FROM\s+(?:--\S+\s+)*([^\s:@]+)/gm)].map((x) => x[1]!);
    default:
      return [...text.matchAll(/^\s*-?\s*uses:\s*([^@\s]+)@/gm)].map((x) => x[1]!);
  }
}
const matches = (pattern: string, name: string) => new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`, 'i').test(name);
const entriesFor = (ecosystem: string, dir: string) => dependabot.updates.filter((u) => u['package-ecosystem'] === ecosystem && dirsOf(u).includes(dir));

describe('.github/dependabot.yml', () => {
  const found = manifests();

  it('is valid against the documented schema, which refuses a misspelt key', () => {
    expect(parsed.error?.issues).toBeUndefined();
    expect(dependabot.updates.length).toBeGreaterThan(0);
    const variant = (change: (u: Record<string, unknown>) => void) => {
      const copy = parse(dependabotText) as { updates: Record<string, unknown>[] };
      change(copy.updates[0]!);
      return dependabotSchema.safeParse(copy).success;
    };
    expect(variant(() => {})).toBe(true);
    expect(variant((u) => (u['open-pull-request-limit'] = 5))).toBe(false);
    expect(variant((u) => (u['groups'] = { g: { pattern: ['x'] } }))).toBe(false);
    expect(variant((u) => (u['package-ecosystem'] = 'pypi'))).toBe(false);
    expect(variant((u) => (u['ignore'] = [{ 'dependency-name': 'x', 'update-types': ['semver-major'] }]))).toBe(false);
    expect(variant((u) => (u['directories'] = ['/']))).toBe(false); // both directory and directories
  });

  it('covers every manifest of the repository (package.json with a lockfile, requirements*.txt, Dockerfile, workflows)', () => {
    const kinds = new Set(found.map((m) => `${m.ecosystem} ${m.dir}`));
    // What the tree has today; a new manifest anywhere is found the same way.
    expect([...kinds].sort()).toEqual(expect.arrayContaining(['docker /', 'github-actions /', 'npm /', 'npm /infra', 'pip /model']));
    expect([...kinds].filter((k) => entriesFor(k.split(' ')[0]!, k.split(' ')[1]!).length !== 1)).toEqual([]);
    // And nothing else: an entry whose directory has no such manifest updates nothing.
    const covered = dependabot.updates.flatMap((u) => dirsOf(u).map((d) => `${u['package-ecosystem']} ${d}`));
    expect(covered.filter((k) => !kinds.has(k))).toEqual([]);
  });

  it('groups and ignore rules name real dependencies of their manifest (a misspelt pattern groups nothing)', () => {
    const problems: string[] = [];
    for (const u of dependabot.updates) {
      for (const dir of dirsOf(u)) {
        const deps = found.filter((m) => m.ecosystem === u['package-ecosystem'] && m.dir === dir).flatMap(dependenciesOf);
        expect(deps.length, `${u['package-ecosystem']} ${dir}`).toBeGreaterThan(0);
        for (const [name, g] of Object.entries(u.groups ?? {})) {
          for (const p of g.patterns ?? []) if (!deps.some((d) => matches(p, d))) problems.push(`${u['package-ecosystem']} ${dir}: group ${name}: ${p} matches nothing`);
        }
        for (const rule of u.ignore ?? []) {
          const p = rule['dependency-name'];
          if (p !== undefined && !deps.some((d) => matches(p, d))) problems.push(`${u['package-ecosystem']} ${dir}: ignore ${p} matches nothing`);
        }
      }
    }
    expect(problems).toEqual([]);
    // The check itself: a misspelt pattern is caught.
    const npmRoot = found.filter((m) => m.ecosystem === 'npm' && m.dir === '/').flatMap(dependenciesOf);
    expect(npmRoot.some((d) => matches('graphql-yoga', d))).toBe(true);
    expect(npmRoot.some((d) => matches('graphql-yogga', d))).toBe(false);
    expect(npmRoot.some((d) => matches('@graphql-yoga/*', d))).toBe(true);
  });

  it('the packages published together are in one group, so no pull request moves one without the other', () => {
    const root = entriesFor('npm', '/')[0]!;
    const groupOf = (u: Update, name: string) => Object.entries(u.groups ?? {}).find(([, g]) => (g.patterns ?? []).some((p) => matches(p, name)))?.[0];
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies['@graphql-yoga/render-graphiql']).toBe(pkg.dependencies['graphql-yoga']);
    expect(groupOf(root, '@graphql-yoga/render-graphiql')).toBeDefined();
    expect(groupOf(root, '@graphql-yoga/render-graphiql')).toBe(groupOf(root, 'graphql-yoga'));
    const infra = entriesFor('npm', '/infra')[0]!;
    expect(groupOf(infra, 'aws-cdk-lib')).toBe(groupOf(infra, 'aws-cdk'));
  });

  it("the tools both package.json files pin are updated at the root only (test/delivery.test.ts requires one version), and @types/node keeps the engines' major", () => {
    type Pkg = { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    const names = (f: string) => Object.keys({ ...(JSON.parse(read(f)) as Pkg).dependencies, ...(JSON.parse(read(f)) as Pkg).devDependencies });
    const shared = names('infra/package.json').filter((n) => names('package.json').includes(n));
    expect(shared).toContain('typescript');
    const ignoredWhole = (u: Update) => (u.ignore ?? []).filter((r) => !r['update-types'] && !r.versions).map((r) => r['dependency-name']!);
    expect(shared.filter((n) => !ignoredWhole(entriesFor('npm', '/infra')[0]!).some((p) => matches(p, n)))).toEqual([]);
    expect(shared.filter((n) => ignoredWhole(entriesFor('npm', '/')[0]!).some((p) => matches(p, n)))).toEqual([]);
    const majorIgnored = (u: Update, name: string) => (u.ignore ?? []).some((r) => r['dependency-name'] === name && r['update-types']?.includes('version-update:semver-major'));
    expect(majorIgnored(entriesFor('npm', '/')[0]!, '@types/node')).toBe(true);
    // The Node major of the image is chosen by hand (docs, scripts/image-node-major.sh).
    expect(majorIgnored(entriesFor('docker', '/')[0]!, 'node')).toBe(true);
  });

  it('the training stack moves as one group, and the committed bundle was produced by its pinned versions (an update needs a retrain)', () => {
    // The libraries that make model/bundle/: train (xgboost), convert (onnxmltools, onnx) and the
    // parity reference (onnxruntime). A pull request that moves one fails here until the bundle is
    // retrained with it (npm run train on the full data, parity checked, bundle committed).
    const pins = Object.fromEntries([...read('model/requirements.txt').matchAll(/^([A-Za-z0-9._-]+)==(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    const manifest = JSON.parse(read('model/bundle/manifest.json')) as { libraryVersions: Record<string, string> };
    const stack: [string, string][] = [['xgboost-cpu', 'xgboost'], ['onnxmltools', 'onnxmltools'], ['onnx', 'onnx'], ['onnxruntime', 'onnxruntime']];
    for (const [pin, recorded] of stack) expect(`${recorded} ${manifest.libraryVersions[recorded]}`, `model/requirements.txt pins ${pin}==${pins[pin]}: retrain the bundle`).toBe(`${recorded} ${pins[pin]}`);
    const training = entriesFor('pip', '/model')[0]!.groups?.['training-stack']?.patterns ?? [];
    expect(stack.map(([pin]) => pin).filter((pin) => !training.some((p) => matches(p, pin)))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
type Step = { name?: string; id?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Job = { if?: string; steps: Step[]; env?: Record<string, string>; 'timeout-minutes'?: number };
type Workflow = { on: Record<string, unknown>; concurrency: { group: string }; jobs: Record<string, Job> };
const ci = parse(read('.github/workflows/ci.yml')) as Workflow;
const audit = ci.jobs['audit']!;
const runs = () => audit.steps.filter((s) => s.run).map((s) => s.run!.trim());
const auditCommands = () => runs().flatMap((r) => r.split('\n')).filter((l) => l.startsWith('bash scripts/audit.sh '));

describe('CI audit job', () => {
  it('runs on pull requests, pushes to main and daily; the test jobs skip the daily run, which does not share a push run\'s concurrency group', () => {
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push', 'schedule']);
    expect(ci.on['push']).toEqual({ branches: ['main'] });
    const schedule = ci.on['schedule'] as { cron: string }[];
    expect(schedule).toHaveLength(1);
    // Minute, hour, then every day of every month and weekday: once a day.
    expect(schedule[0]!.cron).toMatch(/^\d{1,2} \d{1,2} \* \* \*$/);
    expect(audit.if).toBeUndefined();
    for (const [id, job] of Object.entries(ci.jobs)) if (id !== 'audit') expect(job.if, id).toBe("github.event_name != 'schedule'");
    // cancel-in-progress on one group per ref would let the daily run on main cancel a push's run,
    // whose success is what releases that commit.
    expect(ci.concurrency.group).toContain('${{ github.event_name }}');
  });

  it('audits what the image ships at high, infra/ entirely at high, and every requirements file with pip-audit, each exactly', () => {
    expect(auditCommands()).toEqual([
      'bash scripts/audit.sh npm audit --omit=dev --audit-level=high',
      'bash scripts/audit.sh npm --prefix infra audit --audit-level=high',
      'bash scripts/audit.sh pip-audit --requirement model/requirements.txt --no-deps --disable-pip --strict --progress-spinner off',
      'bash scripts/audit.sh pip-audit --requirement model/requirements.lock.txt --no-deps --disable-pip --strict --progress-spinner off',
      'bash scripts/audit.sh unused',
    ]);
    // Every audit records what it reported in the job's one AUDIT_SEEN file; the allow-list's
    // unused entries are looked for last, once every audit has run, each in its own step (a failed
    // pip-audit install must not keep the audit from starting and recording that it had no report).
    expect(audit.env?.['AUDIT_SEEN']).toMatch(/^\$\{\{ github\.workspace \}\}\/\S+$/);
    const auditSteps = audit.steps.filter((x) => x.run?.includes('scripts/audit.sh'));
    expect(auditSteps.map((x) => x.run!.trim().split('\n').length)).toEqual([1, 1, 1, 1, 1]);
    expect(audit.steps.at(-1)).toBe(auditSteps.at(-1));
    // Every manifest with a lockfile or requirements is audited (a new one fails here).
    const npmDirs = manifests().filter((m) => m.ecosystem === 'npm').map((m) => m.dir).sort();
    expect(npmDirs).toEqual(['/', '/infra']);
    const requirements = manifests().filter((m) => m.ecosystem === 'pip').map((m) => m.file);
    for (const f of requirements) expect(auditCommands().some((c) => c.includes(`--requirement ${f} `)), f).toBe(true);
    // Each audit runs even when an earlier one failed, so one run reports every finding.
    for (const s of audit.steps.filter((x) => x.run?.includes('scripts/audit.sh'))) expect(s.if, s.name).toBe('success() || failure()');
    // pip-audit is pinned exactly and installed from the workflow's one pin.
    expect(audit.env?.['PIP_AUDIT_VERSION']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(runs().join('\n')).toContain('"pip-audit==${PIP_AUDIT_VERSION}"');
    expect(read('docs/delivery.md')).toContain(`(pip-audit ${audit.env?.['PIP_AUDIT_VERSION']}, pinned in the job)`);
    // Nothing is installed for npm audit (it reads the lockfiles): no npm ci / install.
    expect(runs().join('\n')).not.toMatch(/\bnpm (ci|install|i)\b/);
  });

  it('sets up the Node and Python the other jobs use, from the same sources', () => {
    const setup = (job: Job, action: string) => job.steps.find((s) => s.uses?.startsWith(`${action}@`));
    for (const [id, job] of Object.entries(ci.jobs)) {
      expect(setup(job, 'actions/setup-node')?.with?.['node-version'], id).toBe('${{ steps.node.outputs.major }}');
      expect(setup(job, 'actions/setup-node')?.uses, id).toBe(setup(audit, 'actions/setup-node')?.uses);
      expect(setup(job, 'actions/setup-python')?.with?.['python-version'], id).toBe(setup(audit, 'actions/setup-python')?.with?.['python-version']);
      expect(job.steps.find((s) => s.id === 'node')?.run, id).toBe('bash scripts/image-node-major.sh >> "$GITHUB_OUTPUT"');
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The job's npm commands, run by this machine's npm against a stand-in for the registry's bulk
// advisory endpoint. It answers, like the registry, only for the packages it is asked about.
type Advisory = { id: number; url: string; title: string; severity: string; vulnerable_versions: string; cwe: string[]; cvss: { score: number; vectorString: null } };
let advisories: Record<string, Advisory[]> = {};
let refuse = false;
const asked: Record<string, string[]>[] = [];
let server: http.Server;
let registry = '';
let tmp = '';

// Each advisory its own source number, as the registry gives: npm caches what it computed per number.
let source = 1000;
const advisory = (id: string, severity: string): Advisory => ({ id: source++, url: `https://github.com/advisories/${id}`, title: `test advisory ${id}`, severity, vulnerable_versions: '<999.0.0', cwe: [], cvss: { score: 7.5, vectorString: null } });

/** Runs one of the job's `bash scripts/audit.sh npm …` lines, pointed at the stand-in registry. */
function runAudit(command: string, env: Record<string, string> = {}): Promise<{ status: number | null; out: string }> {
  const argv = command.split(' ');
  expect(argv.slice(0, 2)).toEqual(['bash', 'scripts/audit.sh']);
  return new Promise((resolve) => {
    const child = spawn('bash', [...argv.slice(1), `--registry=${registry}`], {
      cwd: REPO_ROOT,
      env: { ...process.env, npm_config_cache: path.join(tmp, 'npm-cache'), npm_config_update_notifier: 'false', AUDIT_TODAY: '2026-06-01', AUDIT_ALLOWLIST: path.join(tmp, 'none'), GITHUB_ACTIONS: '', ...env },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, out });
    });
  });
}

describe('the audit job\'s npm commands, run against a stand-in advisory endpoint', () => {
  const [rootCmd, infraCmd] = auditCommands();

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'supply-chain-'));
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'POST' && req.url?.startsWith('/-/npm/v1/security/')) {
          if (refuse) return void res.writeHead(405, { 'content-type': 'text/plain' }).end('Method Not Allowed');
          const raw = Buffer.concat(chunks);
          const body = JSON.parse((req.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(raw) : raw).toString()) as Record<string, string[]>;
          asked.push(body);
          return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(Object.fromEntries(Object.entries(advisories).filter(([name]) => name in body))));
        }
        res.writeHead(404, { 'content-type': 'application/json' }).end('{}'); // packuments: no fix information
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    registry = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a high advisory on a production dependency fails the root audit, naming it', async () => {
    advisories = { 'graphql-yoga': [advisory('GHSA-2345-6789-cfgh', 'high')] };
    const r = await runAudit(rootCmd!);
    expect(r.status, r.out).toBe(1);
    expect(r.out).toContain('high GHSA-2345-6789-cfgh in graphql-yoga');
  }, 90_000);

  it('a high advisory on a dev-only dependency passes the root audit (never asked about) and fails infra/\'s, which audits all', async () => {
    advisories = { vitest: [advisory('GHSA-3456-789c-fghj', 'critical')], 'graphql-yoga': [advisory('GHSA-2345-6789-cfgh', 'moderate')] };
    asked.length = 0;
    const root = await runAudit(rootCmd!);
    expect(root.status, root.out).toBe(0);
    expect(asked.at(-1)).toHaveProperty('graphql-yoga');
    expect(asked.at(-1)).not.toHaveProperty('vitest');
    const infra = await runAudit(infraCmd!);
    expect(infra.status, infra.out).toBe(1);
    expect(infra.out).toContain('critical GHSA-3456-789c-fghj in vitest');
    expect(asked.at(-1)).toHaveProperty('aws-cdk-lib');
  }, 90_000);

  it('an accepted advisory passes until its expiry; an expired, far-off or reasonless entry fails', async () => {
    // A moderate advisory beside them is under the job's level: it neither fails the audit nor needs accepting.
    advisories = { 'graphql-yoga': [advisory('GHSA-2345-6789-cfgh', 'high')], pino: [advisory('GHSA-4567-89cf-ghjm', 'critical')], zod: [advisory('GHSA-5678-9cfg-hjmp', 'moderate')] };
    const allow = (text: string) => {
      const file = path.join(tmp, `allow-${Math.random()}`);
      fs.writeFileSync(file, text);
      return { AUDIT_ALLOWLIST: file };
    };
    const both = '# comment\nGHSA-2345-6789-cfgh 2026-06-30 graphql-yoga: not reachable here\n\nGHSA-4567-89cf-ghjm 2026-06-01 pino: fix not released\n';
    const ok = await runAudit(rootCmd!, allow(both));
    expect(ok.status, ok.out).toBe(0);
    expect(ok.out).toContain('accepted GHSA-2345-6789-cfgh until 2026-06-30: graphql-yoga: not reachable here');
    expect(ok.out).not.toContain('GHSA-5678-9cfg-hjmp');
    const one = await runAudit(rootCmd!, allow('GHSA-2345-6789-cfgh 2026-06-30 accepted\n'));
    expect(one.status, one.out).toBe(1);
    expect(one.out).toContain('critical GHSA-4567-89cf-ghjm in pino');
    expect(one.out).not.toContain('high GHSA-2345-6789-cfgh in');
    for (const [bad, message] of [
      ['GHSA-2345-6789-cfgh 2026-05-31 was fine', 'expired on 2026-05-31'],
      ['GHSA-2345-6789-cfgh 2026-09-01 for a long time', 'more than 90 days ahead'],
      ['GHSA-2345-6789-cfgh 2026-06-30', 'no reason given'],
      ['GHSA-2345-6789-cfgh 2026-02-30 no such day', 'is not a date'],
      // What `date -d` reads as a date but is none: an entry that never expires, or one misread.
      ['GHSA-2345-6789-cfgh tomorrow until it is fixed', "expiry 'tomorrow' is not a date"],
      ['GHSA-2345-6789-cfgh 2026-6-30 unpadded', "expiry '2026-6-30' is not a date"],
      // Listed twice, the later line would silently replace the first's expiry and reason.
      ['GHSA-2345-6789-cfgh 2026-06-30 first\nGHSA-2345-6789-cfgh 2026-06-10 second', 'GHSA-2345-6789-cfgh is listed twice'],
      ['graphql-yoga 2026-06-30 a package, not an advisory', 'is not an advisory id'],
    ] as const) {
      const r = await runAudit(rootCmd!, allow(`${bad}\nGHSA-4567-89cf-ghjm 2026-06-01 pino\n`));
      expect(r.status, bad).toBe(1);
      expect(r.out, bad).toContain(message);
    }
  }, 120_000);

  it('an accepted id that no audit reports any more fails the last step, naming it and telling to remove its line', async () => {
    // Accepted: one the root audit reports, one only infra/'s does, one pip-audit reports by an
    // alias, one now rated below the level, and one nothing reports (the package was updated).
    advisories = { 'graphql-yoga': [advisory('GHSA-2345-6789-cfgh', 'high')], vitest: [advisory('GHSA-3456-789c-fghj', 'critical')], zod: [advisory('GHSA-5678-9cfg-hjmp', 'moderate')] };
    const file = path.join(tmp, 'allow-unused');
    const lines = [
      'GHSA-2345-6789-cfgh 2026-06-30 graphql-yoga: not reachable here',
      'GHSA-3456-789c-fghj 2026-06-30 vitest: infra only',
      'CVE-2026-1111 2026-06-30 pandas: training only',
      'GHSA-5678-9cfg-hjmp 2026-06-30 zod: was high',
      'GHSA-4567-89cf-ghjm 2026-06-30 pino: fixed since',
    ];
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const seen = path.join(tmp, `seen-${Math.random()}`);
    const env = { AUDIT_ALLOWLIST: file, AUDIT_SEEN: seen };
    const unused = () => spawnSync('bash', ['scripts/audit.sh', 'unused'], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, GITHUB_ACTIONS: '', AUDIT_TODAY: '2026-06-01', ...env } });
    // Before any audit ran, there is nothing to judge by.
    expect(unused().status).toBe(2);
    expect((await runAudit(rootCmd!, env)).status).toBe(0);
    expect((await runAudit(infraCmd!, env)).status).toBe(0);
    const pip = pipStandIn({ allowlist: fs.readFileSync(file, 'utf8'), today: '2026-06-01', seen, report: pipReport({ pandas: [{ id: 'PYSEC-2026-40', aliases: ['CVE-2026-1111'] }] }) });
    expect(pip.status, pip.out).toBe(0);
    const r = unused();
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain(`${file}:5: GHSA-4567-89cf-ghjm is accepted until 2026-06-30, but no audit reports it any more`);
    expect(r.stderr).toContain('remove its line');
    expect(r.stderr).toContain(`${file}:4: GHSA-5678-9cfg-hjmp is accepted`);
    expect(r.stderr.match(/is accepted until/g)).toHaveLength(2);
    // With those two lines removed, the same runs pass it.
    fs.writeFileSync(file, `${lines.slice(0, 3).join('\n')}\n`);
    const ok = unused();
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('every accepted id (3) was reported');
    // When one audit returned no report, what it would have reported is unknown: no verdict (that step fails).
    refuse = true;
    try {
      expect((await runAudit(infraCmd!, env)).status).toBe(1);
    } finally {
      refuse = false;
    }
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const unknown = unused();
    expect(unknown.status, unknown.stderr).toBe(0);
    expect(unknown.stdout).toContain(`not checking the allow-list for unused entries: '${infraCmd!.split(' ').slice(2).join(' ')} --registry=${registry}' returned no report`);
  }, 180_000);

  it('an endpoint that refuses (as this machine\'s registry does: 405) fails the audit instead of passing it', async () => {
    refuse = true;
    try {
      const r = await runAudit(rootCmd!);
      expect(r.status, r.out).toBe(1);
      expect(r.out).toMatch(/did not return an audit report \(exit 1\): 405 Method Not Allowed/);
    } finally {
      refuse = false;
    }
  }, 90_000);
});

describe('the audit job\'s npm commands, given a report in a shape scripts/audit.sh does not read', () => {
  it('an npm that answers nothing at all (and exits 0) fails the audit instead of passing it', () => {
    // jq -e passes when it is given no input at all, so an empty answer read as "nothing found".
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npm-stand-in-'));
    try {
      fs.writeFileSync(path.join(dir, 'npm'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
      const cmd = auditCommands()[0]!.split(' ');
      const r = spawnSync('bash', cmd.slice(1), { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env['PATH']}`, GITHUB_ACTIONS: '', AUDIT_ALLOWLIST: path.join(dir, 'none') } });
      expect(r.status, r.stdout).toBe(1);
      expect(r.stderr).toContain('did not return an audit report (exit 0)');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an audit npm fails whose advisories it cannot read fails too, showing the report, instead of passing', () => {
    // As if a later npm renamed an advisory's `severity`: npm exits 1, the advisory is there, unread.
    const report = { vulnerabilities: { pino: { name: 'pino', severity: 'high', via: [{ source: 1, name: 'pino', title: 't', url: 'https://github.com/advisories/GHSA-2345-6789-cfgh', level: 'high' }] } }, metadata: { vulnerabilities: { high: 1 } } };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npm-stand-in-'));
    try {
      fs.writeFileSync(path.join(dir, 'report.json'), JSON.stringify(report));
      fs.writeFileSync(path.join(dir, 'npm'), '#!/bin/sh\ncat "$(dirname "$0")/report.json"\nexit 1\n', { mode: 0o755 });
      const cmd = auditCommands()[0]!.split(' ');
      const r = spawnSync('bash', cmd.slice(1), { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env['PATH']}`, GITHUB_ACTIONS: '', AUDIT_ALLOWLIST: path.join(dir, 'none') } });
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toContain('exited 1 but the report lists no advisory at or above high');
      expect(r.stderr).toContain('GHSA-2345-6789-cfgh');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// pip-audit's services (PyPI's JSON API, OSV) cannot be reached from here: a stand-in records the
// arguments scripts/audit.sh passes it and answers with a report in pip-audit 2.10.1's JSON shape
// (pip_audit/_format/json.py: dependencies[].vulns[] with id, fix_versions, aliases, description).
type PipVuln = { id: string; aliases?: string[]; fix?: string[] };
const pipReport = (vulns: Record<string, PipVuln[]> = {}) => ({
  dependencies: [
    { name: 'numpy', version: '2.2.6', vulns: [] },
    ...Object.entries(vulns).map(([name, list]) => ({ name, version: '1.0.0', vulns: list.map((v) => ({ id: v.id, fix_versions: v.fix ?? [], aliases: v.aliases ?? [], description: `test ${v.id}` })) })),
  ],
  fixes: [],
});
function pipStandIn(opts: { allowlist: string | null; today?: string; report?: unknown; exit?: number; seen?: string }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pip-audit-stand-in-'));
  try {
    const report = opts.report === undefined ? pipReport() : opts.report;
    // Like pip-audit: exit 1 when the report lists a vulnerability; a report of null stands for a fatal error (no JSON).
    const exit = opts.exit ?? (JSON.stringify(report).includes('"id"') ? 1 : 0);
    if (report !== null) fs.writeFileSync(path.join(dir, 'report.json'), JSON.stringify(report));
    fs.writeFileSync(path.join(dir, 'pip-audit'), `#!/bin/sh\nprintf "%s\\n" "$@" > "$(dirname "$0")/args"\n[ -f "$(dirname "$0")/report.json" ] && cat "$(dirname "$0")/report.json"\nexit ${exit}\n`, { mode: 0o755 });
    const env: Record<string, string> = { ...process.env, PATH: `${dir}:${process.env['PATH']}`, GITHUB_ACTIONS: '' };
    if (opts.allowlist !== null) fs.writeFileSync((env['AUDIT_ALLOWLIST'] = path.join(dir, 'allow')), opts.allowlist);
    if (opts.today) env['AUDIT_TODAY'] = opts.today;
    if (opts.seen) env['AUDIT_SEEN'] = opts.seen;
    const cmd = auditCommands()[2]!.split(' ');
    const r = spawnSync('bash', cmd.slice(1), { cwd: REPO_ROOT, encoding: 'utf8', env });
    const args = fs.existsSync(path.join(dir, 'args')) ? fs.readFileSync(path.join(dir, 'args'), 'utf8').trim().split('\n') : null;
    return { ...r, out: r.stdout + r.stderr, args, flags: cmd.slice(3) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('the audit job\'s pip-audit command', () => {
  it('passes the job\'s flags as they are, asks for JSON, and accepts a vulnerability by its id or by an alias', () => {
    // The last line without a final newline is read too.
    const allow = 'PYSEC-2026-17 2026-06-30 mlflow server not run here\nGHSA-2345-6789-cfgh 2026-06-02 for a day';
    const report = pipReport({ mlflow: [{ id: 'PYSEC-2026-17', fix: ['9.9.9'] }], pandas: [{ id: 'PYSEC-2026-40', aliases: ['CVE-2026-1111', 'GHSA-2345-6789-cfgh'] }] });
    const r = pipStandIn({ allowlist: allow, today: '2026-06-01', report });
    expect(r.status, r.out).toBe(0);
    expect(r.args).toEqual([...r.flags, '--format', 'json']);
    expect(r.out).toContain('accepted PYSEC-2026-17 until 2026-06-30: mlflow server not run here');
    expect(r.out).toContain('accepted GHSA-2345-6789-cfgh until 2026-06-02: for a day');
    // An expired entry stops the audit before pip-audit runs.
    const expired = pipStandIn({ allowlist: 'PYSEC-2026-17 2026-05-31 was fine\n', today: '2026-06-01', report });
    expect(expired.status).toBe(1);
    expect(expired.args).toBeNull();
  });

  it('a vulnerability the allow-list does not accept fails the audit, naming it, its aliases, package and fix', () => {
    const report = pipReport({ mlflow: [{ id: 'PYSEC-2026-17' }, { id: 'PYSEC-2026-18', aliases: ['CVE-2026-2222'], fix: ['3.1.0', '3.0.2'] }] });
    const r = pipStandIn({ allowlist: 'PYSEC-2026-17 2026-06-30 not reachable here\n', today: '2026-06-01', report });
    expect(r.status, r.out).toBe(1);
    expect(r.stderr).toContain('audit: PYSEC-2026-18 (CVE-2026-2222) in mlflow 1.0.0: fixed in 3.1.0, 3.0.2');
    expect(r.stderr).toContain('1 of 2 known vulnerability(ies) not accepted');
    expect(r.stderr).not.toContain('audit: PYSEC-2026-17 ');
  });

  it('an acceptance may run 90 days from today, not 91', () => {
    expect(pipStandIn({ allowlist: 'PYSEC-2026-17 2026-08-30 ninety days\n', today: '2026-06-01' }).status).toBe(0);
    const far = pipStandIn({ allowlist: 'PYSEC-2026-17 2026-08-31 ninety-one days\n', today: '2026-06-01' });
    expect(far.status).toBe(1);
    expect(far.stderr).toContain('PYSEC-2026-17 expires 2026-08-31, more than 90 days ahead');
    expect(far.args).toBeNull();
  });

  it('pip-audit failing without a report (a pin it cannot look up under --strict, a service down) fails the audit', () => {
    const r = pipStandIn({ allowlist: '', today: '2026-06-01', report: null, exit: 1 });
    expect(r.args?.slice(0, r.flags.length)).toEqual(r.flags);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('did not return an audit report (exit 1');
  });

  it("the repository's allow-list is valid today (nothing expired, malformed or reasonless)", () => {
    const r = pipStandIn({ allowlist: null });
    expect(r.status, r.stderr).toBe(0);
    expect(r.args?.slice(0, r.flags.length)).toEqual(r.flags);
  });
});

describe("the audit job's pip-audit command and the unused step: what they say and when they fail", () => {
  const allowFile = (text: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-unused-'));
    fs.writeFileSync(path.join(dir, 'allow'), text);
    return { dir, allow: path.join(dir, 'allow'), seen: path.join(dir, 'seen') };
  };
  const unused = (allow: string, seen: string) =>
    spawnSync('bash', ['scripts/audit.sh', 'unused'], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, GITHUB_ACTIONS: '', AUDIT_TODAY: '2026-06-01', AUDIT_ALLOWLIST: allow, AUDIT_SEEN: seen } });
  const pipLine = () => auditCommands()[2]!.split(' ').slice(2).join(' ');

  it('pip-audit failing with a report that lists nothing fails the audit, showing the report', () => {
    const r = pipStandIn({ allowlist: '', today: '2026-06-01', report: pipReport(), exit: 1 });
    expect(r.status, r.out).toBe(1);
    expect(r.stderr).toContain(`${pipLine()} exited 1 but the report lists no vulnerability: {"dependencies":[{"name":"numpy"`);
  });

  it('says which package was not audited and why, and what is accepted in all', () => {
    const report = { ...pipReport({ mlflow: [{ id: 'PYSEC-2026-17' }], pandas: [{ id: 'PYSEC-2026-40', aliases: ['CVE-2026-1111'] }] }) };
    report.dependencies.push({ name: 'churn-local', skip_reason: 'Dependency not found on PyPI and could not be audited: churn-local (0.1.0)' } as never);
    const r = pipStandIn({ allowlist: 'PYSEC-2026-17 2026-06-30 not reachable\nCVE-2026-1111 2026-06-30 training only\n', today: '2026-06-01', report });
    expect(r.status, r.out).toBe(0);
    expect(r.stdout).toContain('audit: churn-local was not audited: Dependency not found on PyPI and could not be audited: churn-local (0.1.0)');
    expect(r.stdout).toContain(`audit: ${pipLine()}: 2 known vulnerability(ies), every one accepted`);
  });

  it('a vulnerability without aliases is named with its package, version and fix (or that none is released), and its OSV entry', () => {
    // Its empty aliases field once shifted the rest: "PYSEC-2026-20 (mlflow) in 1.0.0 2.0.0: fixed
    // in no release yet", telling to accept what an update fixes.
    const r = pipStandIn({ allowlist: '', today: '2026-06-01', report: pipReport({ mlflow: [{ id: 'PYSEC-2026-19' }, { id: 'PYSEC-2026-20', fix: ['2.0.0'] }] }) });
    expect(r.status, r.out).toBe(1);
    expect(r.stderr).toContain('audit: PYSEC-2026-19 in mlflow 1.0.0: fixed in no release yet (https://osv.dev/vulnerability/PYSEC-2026-19)\n');
    expect(r.stderr).toContain('audit: PYSEC-2026-20 in mlflow 1.0.0: fixed in 2.0.0 (https://osv.dev/vulnerability/PYSEC-2026-20)\n');
  });

  it('unused: an AUDIT_SEEN file that exists but holds nothing is no audit recorded, not every entry unused', () => {
    const f = allowFile('PYSEC-2026-17 2026-06-30 not reachable\n');
    try {
      fs.writeFileSync(f.seen, '');
      const r = unused(f.allow, f.seen);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toContain(`unused: no audit recorded in ${f.seen}: run the npm and pip-audit audits first`);
      expect(r.stderr).not.toContain('no audit reports it');
    } finally {
      fs.rmSync(f.dir, { recursive: true, force: true });
    }
  });

  it('unused: one entry no audit reports fails it alone, saying why its line must go', () => {
    const lines = 'PYSEC-2026-17 2026-06-30 not reachable\nPYSEC-2026-18 2026-06-20 fixed since\n';
    const f = allowFile(lines);
    try {
      expect(pipStandIn({ allowlist: lines, today: '2026-06-01', seen: f.seen, report: pipReport({ mlflow: [{ id: 'PYSEC-2026-17' }] }) }).status).toBe(0);
      const r = unused(f.allow, f.seen);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toContain(
        `audit: ${f.allow}:2: PYSEC-2026-18 is accepted until 2026-06-20, but no audit reports it any more (updated, withdrawn, or rated below the level): remove its line, or it would accept the same advisory unseen if it came back`,
      );
      expect(r.stderr).not.toContain('PYSEC-2026-17');
    } finally {
      fs.rmSync(f.dir, { recursive: true, force: true });
    }
  });

  it('unused: when pip-audit returned no report, pip\'s entries are not called unused (what it would report is unknown)', () => {
    const lines = 'PYSEC-2026-17 2026-06-30 not reachable\n';
    const f = allowFile(lines);
    try {
      expect(pipStandIn({ allowlist: lines, today: '2026-06-01', seen: f.seen, report: null, exit: 1 }).status).toBe(1);
      const r = unused(f.allow, f.seen);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`not checking the allow-list for unused entries: '${pipLine()}' returned no report`);
    } finally {
      fs.rmSync(f.dir, { recursive: true, force: true });
    }
  });

  it('unused: a vulnerability accepted both by its id and by an alias reports both entries (neither is unused)', () => {
    const lines = 'PYSEC-2026-40 2026-06-30 training only\nCVE-2026-1111 2026-06-30 the same, by its CVE\n';
    const f = allowFile(lines);
    try {
      const pip = pipStandIn({ allowlist: lines, today: '2026-06-01', seen: f.seen, report: pipReport({ pandas: [{ id: 'PYSEC-2026-40', aliases: ['CVE-2026-1111'] }] }) });
      expect(pip.status, pip.out).toBe(0);
      expect(pip.stdout).toContain('accepted PYSEC-2026-40 until 2026-06-30: training only');
      expect(pip.stdout).toContain('accepted CVE-2026-1111 until 2026-06-30: the same, by its CVE');
      const r = unused(f.allow, f.seen);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('every accepted id (2) was reported');
    } finally {
      fs.rmSync(f.dir, { recursive: true, force: true });
    }
  });
});
