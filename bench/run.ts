/**
 * One-command benchmark (`npm run bench`): starts the built gateway, a raw node:http
 * ceiling and a checked-route floor (floor-server.ts) as separate processes, drives them with
 * autocannon (also a separate process)
 * under the same settings, times raw onnxruntime session.run in-process on the same
 * rows, and writes bench/results/<date>.json and .md with ratios measured in this run
 * (<date>-2, -3, … for a later run of the same day; latest.md is always the newest full run's .md).
 *
 * The machine is shared and its speed drifts by tens of percent within minutes, so the
 * ratios behind the targets are paired: raw node:http, REST and GraphQL run back to back
 * in each of --rounds rounds (in rotating order), each round gives its own ratios, and the
 * target reads their median (the range is reported beside it). predictBatch alternates one
 * end-to-end request with one session.run on the same rows and compares the medians.
 * Each paired load also reads where the CPU went (bench/sched.ts): the server's event loop
 * on a CPU or waiting for one, its other threads and autocannon, as shares of the load's middle
 * seconds, and the event loop's CPU time per request over the whole load (its own cost, apart
 * from the time it waited for a core).
 *
 * Options: `npm run bench -- --help` (CLI below). --quick is a smoke run: one round of 3 s per
 * load, the 1- and 256-connection loads left out, its files written to bench/tmp/ (not tracked),
 * never bench/results/ nor latest.md, whose figures the README quotes.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ort from 'onnxruntime-node';
import { manifestSchema } from '../src/bundle/manifest.js';
import { SESSION_OPTIONS } from '../src/model/churn-model.js';
import { compileEncoder } from '../src/model/features.js';
import { parseCli } from './cli.js';
import { floorServer } from './floor-server.js';
import { LOAD_TIMEOUT_SECONDS, UNCOMPRESSED_JSON, autocannonArgv, benchLoads, graphqlBatch } from './loads.js';
import { freePort, peakRssMb, resetPeakRss, rssMb, waitFor200 } from './process.js';
import { freeResultName } from './result-files.js';
import { measureWindow, shareBetween, snapshot } from './sched.js';
import { median } from './stats.js';
import { answeredNothing, failedAnswers, judge, measuredCell, metCell, type Load, type LoadCpu } from './targets.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** What --quick changes: the options it sets when they are not given, and where it writes. */
const QUICK_RUN = { duration: 3, rounds: 1, dir: 'bench/tmp' } as const;
const CLI = {
  command: 'npm run bench --',
  about: 'Builds and starts the gateway, a raw node:http server and a checks-only server, loads them with autocannon, and writes bench/results/<date>.{json,md} and bench/results/latest.md.',
  options: {
    duration: { kind: 'integer', min: 1, default: 5, value: 's', help: `seconds per load (${QUICK_RUN.duration} with --quick)` },
    rounds: { kind: 'integer', min: 1, default: 3, value: 'n', help: `paired rounds of raw, checks only, REST and GraphQL (${QUICK_RUN.rounds} with --quick)` },
    connections: { kind: 'integer', min: 1, default: 50, value: 'n', help: 'connections of the standard load' },
    quick: { kind: 'flag', help: `a smoke run: ${QUICK_RUN.rounds} round of ${QUICK_RUN.duration} s, no 1- or 256-connection loads; writes ${QUICK_RUN.dir}/quick-<date>.{json,md}, not bench/results/ nor latest.md` },
  },
} as const;
const { values: cli, given } = parseCli(CLI);
const QUICK = cli.quick;
const DURATION = QUICK && !given.has('duration') ? QUICK_RUN.duration : cli.duration;
const ROUNDS = QUICK && !given.has('rounds') ? QUICK_RUN.rounds : cli.rounds;
const CONNECTIONS = cli.connections;

/** The server under load: its pid, and for a gateway (not raw's or the checks-only server) its base URL: its peak RSS is read and its served predictions counted. */
interface LoadedServer {
  pid: number;
  gateway?: string;
}

/** Predictions the gateway at `base` has served (gateway_predictions_total over its risk levels); undefined when /metrics cannot be read. */
async function servedPredictions(base: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(`${base}/metrics`)).text();
    return [...text.matchAll(/^gateway_predictions_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  } catch {
    return undefined;
  }
}

/** A gateway's peak RSS over a phase, MB (absent when /proc could not be read); sinceStart when VmHWM could not be reset before the phase, so the figure is the process's peak since it started. */
interface RssPeak {
  mb?: number;
  sinceStart?: boolean;
}

/**
 * Starts a phase whose peak RSS is read: resets the process's VmHWM, and returns the function
 * that reads it at the phase's end. The kernel keeps the peak, so no sampling interval can miss
 * it, and the reset keeps an earlier phase's growth out of this one's figure.
 */
async function startRssPhase(pid: number): Promise<() => Promise<RssPeak>> {
  const reset = await resetPeakRss(pid);
  return async () => {
    const mb = await peakRssMb(pid);
    return mb === undefined ? {} : { mb: Math.round(mb), ...(reset ? {} : { sinceStart: true }) };
  };
}

/** A peak as the result's prose gives it. */
const rssText = (p: RssPeak): string => (p.mb === undefined ? 'not measured' : `${p.mb} MB${p.sinceStart ? " (the process's peak since it started: VmHWM could not be reset)" : ''}`);

/** One request of a load's body before it runs: a server that refuses it (or answers a GraphQL error) would refuse every request, so the run stops here. */
async function probe(url: string, body: string): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await res.text();
  if (res.status !== 200 || text.includes('"errors"')) throw new Error(`${url} answers the bench's body with ${res.status} ${text.slice(0, 300)}`);
}

async function autocannon(name: string, url: string, body: string | null, connections: number, server?: LoadedServer, duration = DURATION): Promise<Load> {
  const argv = autocannonArgv(url, body, connections, duration);
  // autocannon counts a GraphQL error answered with 200 as a success: the gateway's own count
  // of predictions served, before and after, tells them apart.
  const servedBefore = server?.gateway === undefined ? undefined : await servedPredictions(server.gateway);
  const endRssPhase = server?.gateway === undefined ? null : await startRssPhase(server.pid);
  // The server's CPU time over the whole load, to divide by the requests answered in the same
  // time (autocannon reports no per-second counts to match the middle window's shares with).
  const loadStart = server ? await snapshot(server.pid) : null;
  const child = run(process.execPath, argv, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  // The middle of the load: its first and last half second (connecting, draining) left out.
  const generator = child.child.pid;
  const window = server && generator !== undefined && duration >= 2 ? measureWindow([server.pid, generator], 500, (duration - 1) * 1000) : null;
  const { stdout } = await child;
  const loadEnd = server ? await snapshot(server.pid) : null;
  const r = JSON.parse(stdout) as { requests: { average: number; total: number }; latency: { average: number; p99: number }; errors: number; non2xx: number };
  const load: Load = {
    name,
    connections,
    requestsPerSec: r.requests.average,
    latencyMeanMs: r.latency.average,
    meanLatencyFromThroughputMs: (connections / r.requests.average) * 1000,
    latencyP99Ms: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
  };
  if (server?.gateway !== undefined) {
    const peak = await (endRssPhase as () => Promise<RssPeak>)();
    if (peak.mb !== undefined) load.peakRssMb = peak.mb;
    if (peak.sinceStart) load.peakRssSinceStart = true;
    const servedAfter = await servedPredictions(server.gateway);
    // Answers the server wrote after autocannon stopped counting are served but not counted: hence the floor at 0.
    // Not requests.sent, which counts the requests in flight when it stopped: the gateway does not
    // serve all of those (a GraphQL request whose caller has gone is not scored; 6 and 50 of 50 in
    // two clean 2 s loads), so it would read failed answers in a clean load.
    if (servedBefore !== undefined && servedAfter !== undefined) load.withoutPrediction = Math.max(0, r.requests.total - r.non2xx - (servedAfter - servedBefore));
  }
  const [serverCpu, generatorCpu] = window ? await window : [];
  if (serverCpu && generatorCpu && server && loadStart && loadEnd && r.requests.total > 0) {
    const loopNs = shareBetween(server.pid, loadStart, loadEnd).mainRun * Number(loadEnd.atNs - loadStart.atNs);
    load.cpu = {
      loopOnCpu: serverCpu.mainRun,
      loopWaiting: serverCpu.mainWait,
      otherThreads: serverCpu.otherRun,
      loadGenerator: generatorCpu.mainRun + generatorCpu.otherRun,
      loopUsPerRequest: loopNs / r.requests.total / 1000,
    };
  }
  process.stderr.write(`  ${name} c=${connections}: ${Math.round(load.requestsPerSec)} req/s, p99 ${load.latencyP99Ms} ms, failed answers ${failedAnswers([load])}${load.cpu ? `, event loop ${load.cpu.loopUsPerRequest.toFixed(1)} µs/request` : ''}\n`);
  return load;
}

/**
 * Every route a load measures is warmed up the same way before its first measured load: one
 * request checked (probe), then 2 s at the standard load. (Until the thirty-first session only
 * REST, raw and the checks-only server were: each run's first GraphQL round, and the
 * no-coalescing gateway's first loads, measured a cold start.)
 */
async function warmUp(url: string, body: string): Promise<void> {
  await probe(url, body);
  await autocannon('warm-up', url, body, CONNECTIONS, undefined, 2);
}

function startProcess(argv: string[], env: Record<string, string>): ChildProcess {
  // stdout is a pipe that we drain, as a container log driver would: access logging stays on.
  const child = spawn(process.execPath, argv, { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout?.resume();
  return child;
}

const RAW_SERVER = `
const http = require('node:http');
const body = JSON.stringify({ prediction: 'Not likely to churn', churn_probability: 0.1, threshold: 0.5, model_version: '1' });
http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); }); })
  .listen(Number(process.env.PORT), '127.0.0.1');`;

/** Name of the paired load against the checks-only server (floor-server.ts). */
const FLOOR = 'REST checks only';

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

interface Timing {
  medianMs: number;
  meanMs: number;
  minMs: number;
}
const timing = (times: readonly number[]): Timing => ({ medianMs: median(times), meanMs: mean(times), minMs: Math.min(...times) });

/**
 * One end-to-end predictBatch request, then one raw session.run on the same rows, `repeats`
 * times (after a warm-up of both): the two are measured under the same machine conditions.
 */
async function timeBatchPaired(session: ort.InferenceSession, inputName: string, input: ort.Tensor, url: string, body: string, repeats: number): Promise<{ gateway: Timing; sessionRun: Timing }> {
  const request = async (): Promise<void> => {
    const res = await fetch(url, { method: 'POST', headers: UNCOMPRESSED_JSON, body });
    const text = await res.text();
    if (res.status !== 200 || text.includes('"errors"')) throw new Error(`batch request failed: ${res.status} ${text.slice(0, 300)}`);
  };
  for (let i = 0; i < 3; i++) {
    await request();
    await session.run({ [inputName]: input });
  }
  const gateway: number[] = [];
  const sessionRun: number[] = [];
  for (let i = 0; i < repeats; i++) {
    let t = performance.now();
    await request();
    gateway.push(performance.now() - t);
    t = performance.now();
    await session.run({ [inputName]: input });
    sessionRun.push(performance.now() - t);
  }
  return { gateway: timing(gateway), sessionRun: timing(sessionRun) };
}

interface Stall {
  /** The large body's own request, end to end. */
  requestMs: number[];
  /** The slowest GET / answered while it was in flight (GET / back to back, one at a time). */
  worstHealthMs: number[];
}

/**
 * How long one large body holds the event loop from everyone else: GET / is asked back to
 * back while the body is posted to `path`, and the slowest answer is kept, `repeats` times.
 */
async function stallDuring(url: string, path: string, body: string, expectStatus: number, repeats: number): Promise<Stall> {
  const stall: Stall = { requestMs: [], worstHealthMs: [] };
  for (let i = 0; i < repeats + 1; i++) {
    let worst = 0;
    let stop = false;
    const probe = (async () => {
      while (!stop) {
        const t = performance.now();
        await (await fetch(`${url}/`)).arrayBuffer();
        worst = Math.max(worst, performance.now() - t);
      }
    })();
    const t = performance.now();
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: UNCOMPRESSED_JSON, body });
    await res.arrayBuffer();
    const requestMs = performance.now() - t;
    stop = true;
    await probe;
    if (res.status !== expectStatus) throw new Error(`large body to ${path}: expected ${expectStatus}, got ${res.status}`);
    if (i === 0) continue; // warm-up
    stall.requestMs.push(requestMs);
    stall.worstHealthMs.push(worst);
  }
  return stall;
}

/** Median GET / time at idle, one request at a time: the stall's baseline. */
async function idleHealthMs(url: string, count: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await (await fetch(`${url}/`)).arrayBuffer();
    times.push(performance.now() - t);
  }
  return median(times);
}

/** Suffix of the loads run against the comparison gateway started with COALESCE_PREDICTIONS=false. */
const NO_COALESCING = ', no coalescing';

async function main(): Promise<void> {
  process.stderr.write('building…\n');
  await run('npm', ['run', '--silent', 'build'], { cwd: ROOT });
  const { rowsOf, rest: restBody, graphql: gqlBody } = await benchLoads(ROOT);

  // Start-up: spawn → first 200 on GET /.
  const gwPort = await freePort();
  const t0 = performance.now();
  const gateway = startProcess(['dist/src/main.js'], { PORT: String(gwPort), HOST: '127.0.0.1', LOG_LEVEL: 'info', NODE_ENV: 'production' });
  const gw = `http://127.0.0.1:${gwPort}`;
  await waitFor200(`${gw}/`);
  const readyMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 1000));
  const idleRssMb = (await rssMb(gateway.pid as number)) ?? null;
  process.stderr.write(`gateway ready in ${Math.round(readyMs)} ms, idle RSS ${idleRssMb === null ? 'not measured' : `${Math.round(idleRssMb)} MB`}\n`);

  const rawPort = await freePort();
  const raw = startProcess(['-e', RAW_SERVER], { PORT: String(rawPort) });
  await waitFor200(`http://127.0.0.1:${rawPort}/`);
  const floorPort = await freePort();
  const floor = startProcess(['--input-type=module', '-e', floorServer({ predict: `${ROOT}dist/src/rest/predict.js`, jsonBody: `${ROOT}dist/src/json-body.js` })], { PORT: String(floorPort) });
  await waitFor200(`http://127.0.0.1:${floorPort}/`);

  const loads: Load[] = [];
  try {
    const pid = gateway.pid as number;
    const gatewayTarget: LoadedServer = { pid, gateway: gw };
    for (const [url, body] of [[`${gw}/predict`, restBody], [`${gw}/graphql`, gqlBody], [`http://127.0.0.1:${rawPort}/`, restBody], [`http://127.0.0.1:${floorPort}/`, restBody]] as const) await warmUp(url, body);
    const paired = [
      { name: 'raw node:http', url: `http://127.0.0.1:${rawPort}/`, body: restBody, server: { pid: raw.pid as number } },
      { name: FLOOR, url: `http://127.0.0.1:${floorPort}/`, body: restBody, server: { pid: floor.pid as number } },
      { name: 'REST /predict', url: `${gw}/predict`, body: restBody, server: gatewayTarget },
      { name: 'GraphQL predict', url: `${gw}/graphql`, body: gqlBody, server: gatewayTarget },
    ];
    const rounds: Record<string, Load>[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const round: Record<string, Load> = {};
      for (let k = 0; k < paired.length; k++) {
        const p = paired[(k + r) % paired.length] as (typeof paired)[number];
        const load = { ...(await autocannon(p.name, p.url, p.body, CONNECTIONS, p.server)), round: r };
        round[p.name] = load;
        loads.push(load);
      }
      rounds.push(round);
    }
    const rawOf = (round: Record<string, Load>) => (round['raw node:http'] as Load).requestsPerSec;
    const rawRps = median(rounds.map(rawOf));
    for (const c of QUICK ? [] : [1, 256]) {
      loads.push(await autocannon('REST /predict', `${gw}/predict`, restBody, c, gatewayTarget));
      loads.push(await autocannon('GraphQL predict', `${gw}/graphql`, gqlBody, c, gatewayTarget));
    }
    // The same singles against a gateway that runs one session.run per request.
    const plainPort = await freePort();
    const plain = startProcess(['dist/src/main.js'], { PORT: String(plainPort), HOST: '127.0.0.1', LOG_LEVEL: 'info', NODE_ENV: 'production', COALESCE_PREDICTIONS: 'false' });
    try {
      const plainUrl = `http://127.0.0.1:${plainPort}`;
      await waitFor200(`${plainUrl}/`);
      for (const [path, body] of [['/predict', restBody], ['/graphql', gqlBody]] as const) await warmUp(`${plainUrl}${path}`, body);
      const plainTarget: LoadedServer = { pid: plain.pid as number, gateway: plainUrl };
      for (const c of QUICK ? [CONNECTIONS] : [1, CONNECTIONS, 256]) {
        loads.push(await autocannon(`REST /predict${NO_COALESCING}`, `http://127.0.0.1:${plainPort}/predict`, restBody, c, plainTarget));
        loads.push(await autocannon(`GraphQL predict${NO_COALESCING}`, `http://127.0.0.1:${plainPort}/graphql`, gqlBody, c, plainTarget));
      }
    } finally {
      plain.kill('SIGTERM');
    }
    const manifest = manifestSchema.parse(JSON.parse(await readFile(`${ROOT}model/bundle/manifest.json`, 'utf8')));
    // The gateway's own session options, in this process.
    const session = await ort.InferenceSession.create(`${ROOT}model/bundle/${manifest.onnx.file}`, SESSION_OPTIONS);
    const encoder = compileEncoder(manifest.featureSpec);
    const batches: Record<string, { gateway: Timing; sessionRun: Timing; ratio: number; ratioOfMeans: number }> = {};
    const endBatchRss = await startRssPhase(pid);
    let batchRss: RssPeak;
    try {
      for (const n of [100, 1000, 10000]) {
        const rows = rowsOf(n);
        const body = graphqlBatch(rows);
        const input = new ort.Tensor('float32', encoder.encode(rows), [rows.length, encoder.width]);
        const t = await timeBatchPaired(session, manifest.onnx.inputName, input, `${gw}/graphql`, body, n >= 10000 ? 9 : 31);
        batches[String(n)] = { ...t, ratio: t.gateway.medianMs / t.sessionRun.medianMs, ratioOfMeans: t.gateway.meanMs / t.sessionRun.meanMs };
        process.stderr.write(`  predictBatch ${n}: median ${t.gateway.medianMs.toFixed(2)} ms vs session.run ${t.sessionRun.medianMs.toFixed(2)} ms\n`);
      }
      batchRss = await endBatchRss();
    } finally {
      await session.release();
    }
    // A 10,000-row body: REST valid and invalid (every row empty: 18 problems a row; REST stops
    // checking at MAX_COUNTED_ISSUES), and a valid GraphQL predictBatch.
    const largeRows = rowsOf(10_000);
    const largeBodies: Record<string, readonly [string, string, number]> = {
      'REST, valid': ['/predict', JSON.stringify(largeRows), 200],
      'REST, every row empty': ['/predict', JSON.stringify(largeRows.map(() => ({}))), 400],
      'GraphQL predictBatch, valid': ['/graphql', graphqlBatch(largeRows), 200],
    };
    const healthIdleMs = await idleHealthMs(gw, 200);
    const stalls: Record<string, Stall> = {};
    const endLargeBodyRss = await startRssPhase(pid);
    for (const [kind, [path, body, status]] of Object.entries(largeBodies)) {
      stalls[kind] = await stallDuring(gw, path, body, status, 5);
      process.stderr.write(`  10,000-row body (${kind}): slowest GET / ${median(stalls[kind].worstHealthMs).toFixed(1)} ms (idle ${healthIdleMs.toFixed(2)} ms)\n`);
    }
    const largeBodyRss = await endLargeBodyRss();
    const perRound = (f: (round: Record<string, Load>) => number) => {
      const values = rounds.map(f);
      return { value: median(values), low: Math.min(...values), high: Math.max(...values) };
    };
    const ratioOf = (name: string) => perRound((round) => (round[name] as Load).requestsPerSec / rawOf(round));
    /** The loads named `names` in every round. */
    const inRounds = (...names: string[]) => rounds.flatMap((round) => names.map((name) => round[name] as Load));
    const floorRatio = ratioOf(FLOOR);
    const restOverFloor = perRound((round) => (round['REST /predict'] as Load).requestsPerSec / (round[FLOOR] as Load).requestsPerSec);
    const fmtRange = (r: { value: number; low: number; high: number }) => `${r.value.toFixed(3)}${r.low === r.high ? '' : ` (${r.low.toFixed(3)}–${r.high.toFixed(3)})`}`;
    const failedNote = (loads: readonly Load[]) => (failedAnswers(loads) > 0 ? ` [${failedAnswers(loads)} failed answers in these loads: not a measurement]` : '');
    const p99Of = (name: string) => perRound((round) => (round[name] as Load).latencyP99Ms);
    // The RSS target is read at the standard load (CONNECTIONS), as the highest of its rounds; the overall peak (256 connections included) is reported too.
    // RSS is the gateway's as it ships (coalescing on): the no-coalescing process is a
    // comparison, and its peaks are in the table but not in the target. A load whose RSS could
    // not be read leaves the figure null (not measured), never 0 (which would read as met).
    const highestRss = (ls: readonly Load[]): number | null => (ls.length > 0 && ls.every((l) => l.peakRssMb !== undefined) ? Math.max(...ls.map((l) => l.peakRssMb as number)) : null);
    const peakRss = highestRss(inRounds('REST /predict', 'GraphQL predict'));
    const peakRssAll = highestRss(loads.filter((l) => l.name === 'REST /predict' || l.name === 'GraphQL predict'));
    const peakRssNoCoalescing = highestRss(loads.filter((l) => l.name.endsWith(NO_COALESCING)));
    const mbText = (mb: number | null) => (mb === null ? 'not measured' : `${mb} MB`);
    const batch1000 = batches['1000'] as { ratio: number; ratioOfMeans: number };
    // The event loop's CPU time per request against raw's, per round (when /proc was read in every round).
    const loopUs = (round: Record<string, Load>, name: string) => round[name]?.cpu?.loopUsPerRequest;
    const loopCost = rounds.every((round) => paired.every((p) => loopUs(round, p.name) !== undefined))
      ? Object.fromEntries(paired.map((p) => [p.name, { usPerRequest: perRound((round) => loopUs(round, p.name) as number), rawOverThis: perRound((round) => (loopUs(round, 'raw node:http') as number) / (loopUs(round, p.name) as number)) }]))
      : null;
    // predictBatch reads no autocannon load: timeBatchPaired throws on any failed answer.
    const targets = [
      { target: 'REST /predict ≥ 0.5× raw node:http', ...ratioOf('REST /predict'), limit: 0.5, higherIsBetter: true, reads: inRounds('raw node:http', 'REST /predict') },
      { target: 'GraphQL predict ≥ 0.25× raw node:http', ...ratioOf('GraphQL predict'), limit: 0.25, higherIsBetter: true, reads: inRounds('raw node:http', 'GraphQL predict') },
      { target: 'predictBatch 1,000 ≤ 3× session.run (medians)', value: batch1000.ratio, low: batch1000.ratioOfMeans, high: batch1000.ratioOfMeans, limit: 3, higherIsBetter: false, reads: [] },
      { target: `p99 single prediction ≤ 10 ms at ${CONNECTIONS} connections (REST)`, ...p99Of('REST /predict'), limit: 10, higherIsBetter: false, wholeMilliseconds: true, reads: inRounds('REST /predict') },
      { target: `p99 single prediction ≤ 10 ms at ${CONNECTIONS} connections (GraphQL)`, ...p99Of('GraphQL predict'), limit: 10, higherIsBetter: false, wholeMilliseconds: true, reads: inRounds('GraphQL predict') },
      { target: `RSS under load ≤ 250 MB (peak during the gateway's ${CONNECTIONS}-connection loads)`, value: peakRss, low: peakRss, high: peakRss, limit: 250, higherIsBetter: false, reads: inRounds('REST /predict', 'GraphQL predict') },
      { target: 'ready ≤ 1.5 s after start', value: readyMs / 1000, low: readyMs / 1000, high: readyMs / 1000, limit: 1.5, higherIsBetter: false, reads: [] },
    ].map(judge);
    const failedLoads = loads.filter((l) => failedAnswers([l]) > 0 || answeredNothing(l));

    const date = new Date().toISOString().slice(0, 10);
    // loads and targets as bench/targets.ts documents them; an RSS figure (…Mb) is null where
    // /proc could not be read, and each peak is its phase's own (VmHWM reset before it).
    const result = { date, machine: { cpus: (await import('node:os')).cpus().length, node: process.version }, durationSec: DURATION, rounds: ROUNDS, connections: CONNECTIONS, rawRps, readyMs, idleRssMb, floorRatio, restOverFloor, loopCost, peakRssMb: peakRss, peakRssAllLoadsMb: peakRssAll, peakRssNoCoalescingMb: peakRssNoCoalescing, peakRssPredictBatchMb: batchRss.mb ?? null, peakRssLargeBodiesMb: largeBodyRss.mb ?? null, loads, batches, healthIdleMs, stalls, targets };
    // A --quick run is a smoke run: its files go beside the tracked results, never over latest.md.
    const outDir = `${ROOT}${QUICK ? QUICK_RUN.dir : 'bench/results'}`;
    await mkdir(outDir, { recursive: true });
    const name = await freeResultName(outDir, QUICK ? `quick-${date}` : date);
    await writeFile(`${outDir}/${name}.json`, `${JSON.stringify(result, null, 2)}\n`);
    const md = [
      `# Benchmark ${date}`,
      '',
      `Same run, same machine (${result.machine.cpus} cores, Node ${process.version}); autocannon in its own process, ${DURATION} s per load, ${CONNECTIONS} connections unless stated; every route a load measures was warmed up first (one request checked, then 2 s at ${CONNECTIONS} connections).`,
      `Raw node:http, REST and GraphQL at ${CONNECTIONS} connections ran in ${ROUNDS} paired round(s), in rotating order; each round's ratios use that round's raw figure, and a target reads the median round (range in brackets).`,
      `"${FLOOR}" ran in the same rounds: node:http with the gateway's own body decoding and checks of the same body and a fixed answer, no model, request id, timer, access log or metrics. It read ${fmtRange(floorRatio)}× raw${failedNote(inRounds(FLOOR, 'raw node:http'))}, and REST /predict ${fmtRange(restOverFloor)}× it${failedNote(inRounds(FLOOR, 'REST /predict'))} (median round, range): what a checked JSON route costs here, and what serving a prediction adds to it.`,
      'predictBatch alternates one end-to-end request with one in-process session.run on the same rows; its target compares the medians (the ratio of the means is in brackets).',
      "autocannon's latencies are whole milliseconds: a p99 it reports as k ms is a true p99 from k up to k + 1 ms, so a p99 target is met only when the reported figure is below its limit (10 reads as not met).",
      `A failed answer is a connection error, a timeout (a request unanswered for ${LOAD_TIMEOUT_SECONDS} s), a status outside 2xx, or (the gateway's loads) a 2xx that served no prediction, such as a GraphQL error: autocannon counts each as a request, so a target that reads a load with any is not met, whatever its figure, and says how many. A target that reads a load with no answers at all is not measured.`,
      '',
      '| Target | Measured | Limit | Met |',
      '|---|---|---|---|',
      ...targets.map((t) => `| ${t.target} | ${measuredCell(t)} | ${t.limit} | ${metCell(t)} |`),
      '',
      `× raw: a paired load (its round given) against its own round's raw figure; the others (1 and 256 connections, and no coalescing) against the median round's raw figure at ${CONNECTIONS} connections, not measured beside them. Mean ms is connections ÷ req/s (Little's law: each connection keeps one request in flight), the mean time from one request to the next on a connection, autocannon's own turn included; autocannon's own mean is of whole-millisecond samples and reads low by up to 1 ms, so it is not shown. p99 ms is autocannon's, in whole milliseconds.`,
      '',
      "Peak RSS is the gateway process's highest resident set during that load alone (VmHWM, reset before each load; the raw and checks-only servers' is not read).",
      '',
      '| Load | Round | Connections | req/s | × raw | mean ms (connections ÷ req/s) | p99 ms | failed answers | peak RSS MB during the load |',
      '|---|---|---|---|---|---|---|---|---|',
      ...loads.map((l) => {
        // Paired loads against their own round's raw figure; the others against the median raw.
        const raw = l.round === undefined ? rawRps : rawOf(rounds[l.round] as Record<string, Load>);
        return `| ${l.name} | ${l.round === undefined ? '' : l.round + 1} | ${l.connections} | ${Math.round(l.requestsPerSec)} | ${(l.requestsPerSec / raw).toFixed(3)} | ${l.meanLatencyFromThroughputMs.toFixed(2)} | ${l.latencyP99Ms} | ${failedAnswers([l])} | ${l.peakRssMb === undefined ? '' : `${l.peakRssMb}${l.peakRssSinceStart ? ' (since start)' : ''}`} |`;
      }),
      '',
      ...(loopCost
        ? [
            `Where the CPU went during the paired loads, from Linux's per-thread scheduler statistics (bench/sched.ts): the shares over each load's middle ${DURATION - 1} s, in % of one core, and the event loop's CPU time over the whole load ÷ the requests answered in it. On ${result.machine.cpus} cores shared with autocannon, req/s also counts the time a server's event loop waited for a core; its CPU time per request is its own cost.`,
            '',
            '| Load | Round | event loop on a CPU | event loop waiting for a CPU | server\'s other threads | autocannon | event-loop µs per request |',
            '|---|---|---|---|---|---|---|',
            ...loads
              .filter((l) => l.round !== undefined && l.cpu)
              .map((l) => {
                const c = l.cpu as LoadCpu;
                const pct = (v: number) => `${(v * 100).toFixed(1)}`;
                return `| ${l.name} | ${(l.round as number) + 1} | ${pct(c.loopOnCpu)} | ${pct(c.loopWaiting)} | ${pct(c.otherThreads)} | ${pct(c.loadGenerator)} | ${c.loopUsPerRequest.toFixed(1)} |`;
              }),
            '',
            `Event-loop CPU per request, median round: ${paired.map((p) => `${p.name} ${loopCost[p.name]?.usPerRequest.value.toFixed(1)} µs`).join(', ')}; raw's over REST's ${loopCost['REST /predict']?.rawOverThis.value.toFixed(3)} (${loopCost['REST /predict']?.rawOverThis.low.toFixed(3)}–${loopCost['REST /predict']?.rawOverThis.high.toFixed(3)}), over GraphQL's ${loopCost['GraphQL predict']?.rawOverThis.value.toFixed(3)}.`,
            '',
          ]
        : []),
      '| predictBatch rows | gateway end to end, median (mean) ms | raw session.run, median (mean) ms | ratio of medians | ratio of means |',
      '|---|---|---|---|---|',
      ...Object.entries(batches).map(
        ([n, b]) =>
          `| ${n} | ${b.gateway.medianMs.toFixed(2)} (${b.gateway.meanMs.toFixed(2)}) | ${b.sessionRun.medianMs.toFixed(2)} (${b.sessionRun.meanMs.toFixed(2)}) | ${b.ratio.toFixed(2)} | ${b.ratioOfMeans.toFixed(2)} |`,
      ),
      '',
      `A large body and everyone else: GET / asked back to back, one at a time, while one 10,000-row body is posted (5 times each, after a warm-up); idle, GET / takes ${healthIdleMs.toFixed(2)} ms (median of 200).`,
      '',
      '| 10,000-row body | its request, median ms | slowest GET / during it, median (max) ms | × idle GET / |',
      '|---|---|---|---|',
      ...Object.entries(stalls).map(
        ([kind, st]) => `| ${kind} | ${median(st.requestMs).toFixed(0)} | ${median(st.worstHealthMs).toFixed(1)} (${Math.max(...st.worstHealthMs).toFixed(1)}) | ${(median(st.worstHealthMs) / healthIdleMs).toFixed(0)} |`,
      ),
      '',
      `Start-up to first 200 on GET /: ${Math.round(readyMs)} ms. Idle RSS ${idleRssMb === null ? 'not measured' : `${Math.round(idleRssMb)} MB`}; peak ${mbText(peakRss)} at ${CONNECTIONS} connections, ${mbText(peakRssAll)} over all its loads (256 connections included); the no-coalescing comparison process peaked at ${mbText(peakRssNoCoalescing)}. Peak during the predictBatch timings (100 to 10,000 rows, one request at a time): ${rssText(batchRss)}; during the 10,000-row bodies: ${rssText(largeBodyRss)}.`,
      '',
    ].join('\n');
    await writeFile(`${outDir}/${name}.md`, md);
    if (QUICK) process.stderr.write(`--quick: wrote ${QUICK_RUN.dir}/${name}.{json,md}; bench/results/latest.md is untouched\n`);
    else await writeFile(`${ROOT}bench/results/latest.md`, md);
    process.stdout.write(`${md}\n`);
    if (failedLoads.length > 0) {
      process.stderr.write(`failed answers in ${failedLoads.map((l) => `${l.name} c=${l.connections}${l.round === undefined ? '' : ` round ${l.round + 1}`} (${answeredNothing(l) ? 'no answers at all' : failedAnswers([l])})`).join(', ')}: the targets reading them are not met; this run measured refusals, not the gateway\n`);
      process.exitCode = 1;
    }
  } finally {
    gateway.kill('SIGTERM');
    raw.kill('SIGTERM');
    floor.kill('SIGTERM');
  }
}

await main();
