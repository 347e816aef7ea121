/**
 * Test harness: a real `mlflow server` (from model/.venv, sqlite backend, served artifacts)
 * on a free port in a temporary folder, models trained and registered on it by the
 * project's own pipeline (model/scripts/train.sh), and the few REST calls an operator
 * makes (move an alias, log a run by hand).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './gateway.js';

const run = promisify(execFile);
const MODEL_DIR = path.join(REPO_ROOT, 'model');
const MLFLOW_BIN = path.join(MODEL_DIR, '.venv/bin/mlflow');
const PYTHON_BIN = path.join(MODEL_DIR, '.venv/bin/python');

export interface MlflowServer {
  readonly url: string;
  readonly dir: string;
  log(): string;
  stop(): Promise<void>;
}

/** A port nothing listens on (bound then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Creates model/.venv when missing (idempotent, fast when it exists). */
export async function ensureVenv(): Promise<void> {
  await run('bash', [path.join(MODEL_DIR, 'scripts/setup-venv.sh')], { cwd: REPO_ROOT, timeout: 900_000 });
}

/**
 * A real `mlflow server` on a free port, its stores in a temp folder. It serves artifacts (MLflow
 * 3's default: runs get mlflow-artifacts:/ URIs, read through the artifact proxy) unless
 * `serveArtifacts` is false (`--no-serve-artifacts`: runs get the artifact folder's path as their
 * URI, and clients read them through /get-artifact and artifacts/list).
 */
export async function startMlflowServer({ serveArtifacts = true }: { serveArtifacts?: boolean } = {}): Promise<MlflowServer> {
  // The port is chosen free, and bound only once MLflow has started (~10 s on a loaded machine): in
  // between, another test's server may take it. uvicorn then logs that it cannot bind and the server
  // never listens. Such a start is made again on another port, up to three starts.
  for (let attempt = 1; ; attempt++) {
    const started = await startOnFreePort(serveArtifacts);
    if (started !== 'port taken') return started;
    if (attempt === 3) throw new Error('mlflow server: three free ports in a row were taken before it could bind them');
  }
}

/** uvicorn's line when the port is taken (it then shuts the application down, exit code 0). */
const PORT_TAKEN = /error while attempting to bind on address .*address already in use/;

async function startOnFreePort(serveArtifacts: boolean): Promise<MlflowServer | 'port taken'> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mlflow-test-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const artifacts = serveArtifacts ? ['--artifacts-destination', `${dir}/artifacts`] : ['--no-serve-artifacts', '--default-artifact-root', `${dir}/artifacts`];
  // The default security middleware allows localhost and private-IP Host headers, so 127.0.0.1 needs no flag.
  const child: ChildProcess = spawn(
    MLFLOW_BIN,
    ['server', '--backend-store-uri', `sqlite:///${dir}/mlflow.db`, ...artifacts, '--host', '127.0.0.1', '--port', String(port), '--workers', '1'],
    { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  let exited = false;
  const exit = once(child, 'exit').then(() => (exited = true));
  const stop = async () => {
    // detached: the server's uvicorn workers share its process group, so the group goes down together.
    if (!exited && child.pid) process.kill(-child.pid, 'SIGTERM');
    await Promise.race([exit, new Promise((r) => setTimeout(r, 5_000))]);
    if (!exited && child.pid) process.kill(-child.pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 90_000;
  // /health answers before the tracking store is touched, and the store's first call is slow (0.35 s
  // against 0.03 s after it, on an idle machine): on a loaded one it outlasted the 5 s the pipeline's
  // up-front check gives a server (CI: "cannot be used: no answer (timed out)"). So the server is
  // ready once a store call has answered, made here with no limit but the deadline. Answered below
  // 500: a server started to refuse this Host header (mlflow-allowed-hosts.test.ts) answers 403
  // without reaching its store, and is as ready as it will be.
  // /health must be MLflow's own ("OK", or that 403): the port was free when chosen, but another
  // test's server could take it before this one binds, and a gateway answers 404, below 500 too.
  const isMlflow = () => fetch(`${url}/health`).then(async (r) => r.status === 403 || (r.status === 200 && (await r.text()) === 'OK'), () => false);
  const answers = (endpoint: string, init?: RequestInit) => fetch(`${url}${endpoint}`, init).then((r) => r.status < 500, () => false);
  const storeCall = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ max_results: 1 }) };
  while (Date.now() < deadline && !exited && !PORT_TAKEN.test(output)) {
    if ((await isMlflow()) && (await answers('/api/2.0/mlflow/experiments/search', storeCall))) return { url, dir, log: () => output, stop };
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  if (PORT_TAKEN.test(output)) return 'port taken';
  throw new Error(`mlflow server did not become healthy on ${url}: ${output.slice(-3000)}`);
}

/** Generated churn CSVs (the pipeline's own generator), one per seed. */
export async function writeChurnCsvs(dir: string, rows: number, seeds: readonly number[]): Promise<string[]> {
  const files = seeds.map((seed) => path.join(dir, `churn-${seed}.csv`));
  const script = [
    'import sys',
    'from churn_model import synthetic',
    'rows = int(sys.argv[1])',
    'for arg in sys.argv[2:]:',
    '    seed, out = arg.split("=", 1)',
    '    synthetic.churn_frame(rows, seed=int(seed)).to_csv(out, index=False, lineterminator="\\n")',
  ].join('\n');
  await run(PYTHON_BIN, ['-c', script, String(rows), ...seeds.map((s, i) => `${s}=${files[i]}`)], {
    cwd: REPO_ROOT,
    env: { ...process.env, PYTHONPATH: MODEL_DIR },
    timeout: 120_000,
  });
  return files;
}

/** Trains, logs and registers one version with the project's pipeline; moves champion to it. */
export async function trainAndRegister(trackingUri: string, csv: string, outDir: string): Promise<void> {
  try {
    await run('bash', [path.join(MODEL_DIR, 'scripts/train.sh'), '--data', csv, '--out', outDir, '--force-champion'], {
      cwd: REPO_ROOT,
      env: { ...process.env, MLFLOW_TRACKING_URI: trackingUri },
      timeout: 240_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`train.sh failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** One MLflow REST call as an operator or CI would make it. */
export async function mlflowRest<T = Record<string, unknown>>(trackingUri: string, method: 'GET' | 'POST' | 'DELETE', endpoint: string, body?: Record<string, unknown>): Promise<T> {
  const url = method === 'GET' && body ? `${trackingUri}${endpoint}?${new URLSearchParams(body as Record<string, string>).toString()}` : `${trackingUri}${endpoint}`;
  const res = await fetch(url, method === 'GET' ? {} : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${endpoint} → ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

/**
 * `mlflow gc` on the server's store for these (deleted) runs: their records and artifacts go for
 * good, as an operator's clean-up does. The artifacts are removed through the server.
 */
export async function collectGarbage(server: MlflowServer, runIds: readonly string[]): Promise<void> {
  await run(MLFLOW_BIN, ['gc', '--backend-store-uri', `sqlite:///${server.dir}/mlflow.db`, '--run-ids', runIds.join(',')], {
    cwd: server.dir,
    env: { ...process.env, MLFLOW_TRACKING_URI: server.url },
    timeout: 120_000,
  });
}

export async function setAlias(trackingUri: string, name: string, alias: string, version: string): Promise<void> {
  await mlflowRest(trackingUri, 'POST', '/api/2.0/mlflow/registered-models/alias', { name, alias, version });
}

/**
 * Logs a run by hand through the REST and artifact APIs with the given bundle files under
 * `bundle/`, registers it as a new version of `name`, and returns that version. The manifest's
 * `run.runId` is set to the new run's, as the pipeline writes it (the gateway checks it), unless
 * `keepRunId` asks for the manifest as given.
 */
export async function registerHandMadeBundle(
  trackingUri: string,
  experimentId: string,
  name: string,
  files: Record<string, Uint8Array | string>,
  { keepRunId = false }: { keepRunId?: boolean } = {},
): Promise<{ version: string; runId: string }> {
  const created = await mlflowRest<{ run: { info: { run_id: string; artifact_uri: string } } }>(trackingUri, 'POST', '/api/2.0/mlflow/runs/create', {
    experiment_id: experimentId,
    run_name: 'hand-made bundle',
    start_time: Date.now(),
  });
  const { run_id: runId, artifact_uri: artifactUri } = created.run.info;
  const root = artifactUri.replace(/^mlflow-artifacts:\/+/, '');
  const manifest = files['manifest.json'];
  if (!keepRunId && manifest !== undefined) {
    const parsed = JSON.parse(Buffer.from(manifest).toString('utf8')) as { run?: { runId?: string } };
    if (parsed.run) parsed.run.runId = runId;
    files = { ...files, 'manifest.json': JSON.stringify(parsed) };
  }
  for (const [file, bytes] of Object.entries(files)) {
    const res = await fetch(`${trackingUri}/api/2.0/mlflow-artifacts/artifacts/${root}/bundle/${file}`, { method: 'PUT', body: typeof bytes === 'string' ? bytes : Buffer.from(bytes) });
    if (!res.ok) throw new Error(`uploading bundle/${file} → ${res.status}: ${await res.text()}`);
  }
  await mlflowRest(trackingUri, 'POST', '/api/2.0/mlflow/runs/update', { run_id: runId, status: 'FINISHED', end_time: Date.now() });
  const mv = await mlflowRest<{ model_version: { version: string } }>(trackingUri, 'POST', '/api/2.0/mlflow/model-versions/create', {
    name,
    source: `${artifactUri}/bundle`,
    run_id: runId,
  });
  return { version: mv.model_version.version, runId };
}

/**
 * The bundle's files the manifest names: the manifest, the ONNX model, the parity file and, when it names one, the explainer.
 * Not group_report.json, which it does not name: a hand-made version has a report only when a test adds it.
 */
export async function readBundleFiles(dir: string): Promise<Record<string, Uint8Array>> {
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { explainer?: { file: string } };
  const names = ['manifest.json', 'model.onnx', 'parity.json', ...(manifest.explainer ? [manifest.explainer.file] : [])];
  const bytes = await Promise.all(names.map((n) => readFile(path.join(dir, n))));
  return Object.fromEntries(names.map((n, i) => [n, new Uint8Array(bytes[i] as Buffer)]));
}

export interface GatedProxy {
  readonly url: string;
  /** Holds the next GET whose URL contains `fragment` until release() is called; `reached` resolves when it arrives. */
  hold(fragment: string): { reached: Promise<void>; release: () => void };
  close(): Promise<void>;
}

/**
 * A pass-through HTTP proxy in front of MLflow that can hold one request, to time a reload exactly.
 * On `port` (default: any free one): e.g. the port a gateway was already told, so MLflow "comes back".
 */
export async function startGatedProxy(target: string, port = 0): Promise<GatedProxy> {
  const { createServer: createHttpServer } = await import('node:http');
  let gate: { fragment: string; arrived: () => void; open: Promise<void> } | null = null;
  const server = createHttpServer((req, res) => {
    void (async () => {
      const url = req.url ?? '/';
      if (gate && url.includes(gate.fragment)) {
        const { arrived, open } = gate;
        gate = null;
        arrived();
        await open;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const upstream = await fetch(`${target}${url}`, { method: req.method ?? 'GET', ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream' });
      res.end(Buffer.from(await upstream.arrayBuffer()));
    })().catch((err: unknown) => {
      res.writeHead(502);
      res.end(String(err));
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const { port: listening } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${listening}`,
    hold(fragment) {
      let arrived!: () => void;
      let release!: () => void;
      const reached = new Promise<void>((r) => (arrived = r));
      const open = new Promise<void>((r) => (release = r));
      gate = { fragment, arrived, open };
      return { reached, release };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
