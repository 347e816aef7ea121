/**
 * Test harness: the real gateway (real bundle, real ONNX session) on a real port.
 * `startTestGateway` runs it in this process; `spawnGateway` runs `node dist/src/main.js`
 * (or tsx) as a child, for signals and exit codes.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { readFile, readdir, readlink } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { print, type DocumentNode } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { freePort } from '../../bench/process.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startGateway, type Gateway } from '../../src/server.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BUNDLE_DIR = `${REPO_ROOT}model/bundle`;
/** The pages under docs/ (`docs/mlflow.md`, …), every one: a new page is checked like the others without being listed. */
export const DOC_PAGES: readonly string[] = readdirSync(`${REPO_ROOT}docs`)
  .filter((name) => name.endsWith('.md'))
  .sort()
  .map((name) => `docs/${name}`);

export interface TestGateway extends Gateway {
  /** Every log line the gateway wrote, parsed. */
  readonly logs: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startTestGateway(env: Record<string, string> = {}): Promise<TestGateway> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', MODEL_DIR: BUNDLE_DIR, LOG_LEVEL: 'info', ...env });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const gateway = await startGateway(config, createLogger(config.LOG_LEVEL, sink));
  await gateway.ready;
  return Object.assign(gateway, { logs, close: async () => void (await gateway.shutdown('test done')) });
}

/**
 * The inference session of an in-process gateway's current model, whose `run` a test may replace
 * (to hold, slow or fail scoring) and must put back.
 */
export function sessionOf(gw: Pick<Gateway, 'slot'>): { run: (...args: unknown[]) => Promise<unknown> } {
  return (gw.slot.current as unknown as { session: { run: (...args: unknown[]) => Promise<unknown> } }).session;
}

/**
 * Holds an in-process gateway's inference runs of `heldRows` rows until released (others run): the
 * request that scores them stays in flight, holding its body and risk drivers (taken before it is
 * scored), for as long as the test wants. `restore` releases them and puts the session's run back.
 */
export function holdRuns(gw: Pick<Gateway, 'slot'>, heldRows: number): { started: () => number; release: () => void; restore: () => void } {
  const session = sessionOf(gw);
  const run = session.run.bind(session);
  let started = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  session.run = async (...args: unknown[]) => {
    if (args[1] === heldRows) {
      started++;
      await released;
    }
    return run(...args);
  };
  return {
    started: () => started,
    release,
    restore: () => {
      release();
      session.run = run;
    },
  };
}

export interface GraphQLResponse<T> {
  status: number;
  headers: Headers;
  body: { data?: T | null; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[] };
}

export async function gql<T, V>(
  url: string,
  document: TypedDocumentNode<T, V> | DocumentNode | string,
  variables?: V,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const query = typeof document === 'string' ? document : print(document);
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as GraphQLResponse<T>['body'] };
}

export async function postJson(url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: unknown }> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON: the raw text is returned for the assertion to show */
  }
  return { status: res.status, headers: res.headers, json };
}

export interface SpawnedGateway {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** A series' value on the gateway's /metrics, `name` or `name{labels}` as exposed; throws when the series is absent. */
export async function metricValue(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`${series} not in /metrics`);
  return Number(line.slice(series.length + 1));
}

/** Polls `check` until it is true; throws naming `what` after `timeoutMs` (30 s unless given: a gateway started through tsx on a loaded machine can take 15). */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * The port the process `pid` listens on, read from Linux's /proc, or null while it listens on
 * none: the sockets among its open files, found in the kernel's TCP tables in state LISTEN (0A).
 * `except`: a port that is not the one (OPS_PORT, the gateway's second listener).
 */
export async function listeningPort(pid: number, except: number | null): Promise<number | null> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  const inodes = new Set<string>();
  for (const fd of fds) {
    const socket = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''));
    if (socket) inodes.add(socket[1] as string);
  }
  for (const table of ['tcp', 'tcp6']) {
    const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const [, local = '', , state, , , , , , inode = ''] = line.trim().split(/\s+/);
      const port = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
      if (state === '0A' && inodes.has(inode) && port !== except) return port;
    }
  }
  return null;
}

/**
 * Starts the gateway as a separate process via tsx (`nodeArgs` go to node before it);
 * resolves once GET / is 200 (or the process exits). `entry` replaces src/main.ts.
 */
export async function spawnGateway(env: Record<string, string>, opts: { waitReady?: boolean; nodeArgs?: readonly string[]; entry?: string } = {}): Promise<SpawnedGateway> {
  const waitReady = opts.waitReady !== false;
  // Waited for, it binds a port of the kernel's choice (PORT 0), read back from /proc once it listens:
  // a port picked here and handed over could be taken by another test's server in the seconds before
  // the gateway bound it, and GET / then answered from that server. Not waited for (start-up faults,
  // most exiting before they listen), a port the kernel just handed out and took back.
  const port = env['PORT'] ?? (waitReady ? '0' : String(await freePort()));
  // Two ports of the kernel's choice could not be told apart: OPS_PORT is given as a number.
  if (env['OPS_PORT'] === '0' && port === '0') throw new Error('spawnGateway: with PORT 0, give OPS_PORT a port number (freePort()), so the two listeners can be told apart');
  const opsPort = env['OPS_PORT'] === undefined || env['OPS_PORT'] === '' ? null : Number(env['OPS_PORT']);
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', `${REPO_ROOT}${opts.entry ?? 'src/main.ts'}`], {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', LOG_LEVEL: 'info', MODEL_DIR: BUNDLE_DIR, ...env, PORT: port },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  // 'close', not 'exit': at 'exit' the child's stdout may still hold its last lines (Node's docs),
  // and a test reading stdout() then missed them (shutdown's final 'stopped' line, under load).
  const exited = once(child, 'close').then(([code]) => code as number | null);
  const spawned = (url: string): SpawnedGateway => ({ child, url, stdout: () => out, stderr: () => err, exited });
  if (!waitReady) return spawned(`http://127.0.0.1:${port}`);
  let done = false;
  void exited.then(() => (done = true));
  let url = port === '0' ? null : `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (!done && Date.now() < deadline) {
    if (url === null && child.pid !== undefined) {
      const bound = await listeningPort(child.pid, opsPort);
      if (bound !== null) url = `http://127.0.0.1:${bound}`;
    }
    if (url !== null && (await fetch(`${url}/`).then((r) => r.status === 200, () => false))) return spawned(url);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!done) child.kill('SIGKILL');
  throw new Error(`gateway did not become ready: exit=${done} stderr=${err} stdout=${out.slice(-2000)}`);
}
