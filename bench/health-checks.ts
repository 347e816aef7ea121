/**
 * Health checks under a flood of large batches (`npx tsx bench/health-checks.ts`, `--help` for
 * all options and their defaults; not part of CI): how long the load balancer's `GET /` waits on
 * PORT and on OPS_PORT while callers post MAX_BATCH-row batches in a loop
 * (docs/performance.md, "Health checks under a flood of large batches").
 *
 * One run builds this checkout, starts it with OPS_PORT set (and, with `--cpu 0.5`, in a cgroup
 * limited to half a CPU, as Fargate gives a 512-unit task), posts a few batches to warm it, then:
 *   - idle: `GET /` on a new connection every 200 ms to each port (two checkers) for 5 s, the
 *     baseline;
 *   - flood: the same checks while `--callers` callers in another process post the batch to
 *     POST /predict (or, with `--route graphql`, as a predictBatch to POST /graphql) in a loop for
 *     `--seconds` s, posting again at once when refused (no wait for Retry-After);
 * and reports each port's p50 and max in the flood, the checks over the ALB's timeout, each p50
 * against its idle baseline and OPS_PORT's against PORT's, and the batches answered and refused.
 * Writes bench/results/health-checks-<date>[-<label>].json and .md (-2, -3, … for a later run of
 * the same day), except with --quick.
 *
 * The gateway runs with its defaults (those the task runs: LOG_LEVEL info, REQUEST_TIMEOUT_MS
 * 30 s, the 32 MiB body budget) and NODE_ENV=production. Its V8 heap is sized by V8 from the
 * machine's memory, not capped as docs/performance.md's hand-run capped it for a 1 GiB task
 * (--max-old-space-size=512). Timing targets are read from the
 * results, never asserted: the machine's load moves them (the load average is recorded).
 */
import { execFile, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { z } from 'zod';
import { loadConfig } from '../src/config.js';
import type { FloodCounts, FloodOrder } from './batch-flood.js';
import { parseCli, usageError } from './cli.js';
import { limitCpu, parseCpus, type CpuLimit } from './cpu-quota.js';
import { ALB_HEALTH_CHECK_TIMEOUT_MS, batchCounts, floodRatios, summarizeChecks, type Check, type CheckSummary } from './health-check-stats.js';
import { benchLoads, graphqlBatch } from './loads.js';
import { freePort, startBuiltGateway, stopProcess, waitFor200 } from './process.js';
import { freeResultName } from './result-files.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** What --quick changes: the options it sets when they are not given; it writes no results files. */
const QUICK_RUN = { seconds: 5, callers: 20 } as const;
const CLI = {
  command: 'npx tsx bench/health-checks.ts',
  about: "GET / latency on PORT and on OPS_PORT while callers post MAX_BATCH-row batches in a loop, against the same checks idle; writes bench/results/health-checks-<date>[-<label>].{json,md}.",
  options: {
    callers: { kind: 'integer', min: 1, default: 80, value: 'n', help: `callers posting batches at once (${QUICK_RUN.callers} with --quick)` },
    seconds: { kind: 'integer', min: 1, default: 20, value: 's', help: `seconds of the flood (${QUICK_RUN.seconds} with --quick)` },
    cpu: { kind: 'text', value: 'cpus', help: "limit the gateway to this many CPUs with a cgroup quota (0.5: a 512-unit Fargate task), where the cgroup file system is writable; the run says when it could not, and runs without" },
    port: { kind: 'integer', min: 1, value: 'port', help: "the gateway's PORT, and OPS_PORT the next one; free ports by default" },
    route: { kind: 'text', value: 'rest|graphql', help: 'where the batches go: rest (POST /predict, the default) or graphql (predictBatch, whose 10,000 customers graphql-js reads from the variables in one piece)' },
    label: { kind: 'text', value: 'word', help: 'added to the results files\' name: health-checks-<date>-<word>' },
    quick: { kind: 'flag', help: `a smoke run: --seconds ${QUICK_RUN.seconds} --callers ${QUICK_RUN.callers} unless given; writes no results files` },
  },
} as const;
const { values: cli, given } = parseCli(CLI);
const QUICK = cli.quick;
const SECONDS = QUICK && !given.has('seconds') ? QUICK_RUN.seconds : cli.seconds;
const CALLERS = QUICK && !given.has('callers') ? QUICK_RUN.callers : cli.callers;
const cpuAsked = cli.cpu === undefined ? undefined : parseCpus(cli.cpu, os.availableParallelism());
if (cpuAsked !== undefined && 'problem' in cpuAsked) usageError(CLI, cpuAsked.problem);
if (cli.port !== undefined && cli.port > 65_534) usageError(CLI, `--port: at most 65534 (OPS_PORT is the next port); got "${cli.port}"`);
if (cli.label !== undefined && !/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(cli.label)) usageError(CLI, `--label: letters, digits, '.' and '-', for a file name; got "${cli.label}"`);
if (QUICK && cli.label !== undefined) usageError(CLI, '--label names the results files, which --quick does not write');
const ROUTE = cli.route ?? 'rest';
if (ROUTE !== 'rest' && ROUTE !== 'graphql') usageError(CLI, `--route: rest or graphql; got "${ROUTE}"`);
/** The batches' path and what the result files call them. */
const FLOODED = ROUTE === 'rest' ? { path: '/predict', route: 'POST /predict', what: 'REST batches' } : { path: '/graphql', route: 'POST /graphql predictBatch', what: '`predictBatch` requests' };

/** The baseline: checks on an idle gateway, this long. */
const IDLE_SECONDS = 5;
/** How long after an answer the next check is sent (the ALB's own interval is 10 s; a denser series shows the spread). */
const CHECK_INTERVAL_MS = 200;
/** A check still unanswered after this long (four ALB timeouts) is given up and counted as failed. */
const CHECK_GIVE_UP_MS = 4 * ALB_HEALTH_CHECK_TIMEOUT_MS;
/** Batches posted one after another before the baseline, so neither phase pays the first batches' compilation. */
const WARM_UP_BATCHES = 2;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `GET /` on a new connection to `port`, as the ALB sends it: the time from connecting to the answer's first bytes, and whether it was a 200. */
function healthCheck(port: number): Promise<Check> {
  return new Promise((resolve) => {
    const start = performance.now();
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ ms: Math.round((performance.now() - start) * 10) / 10, ok });
    };
    const giveUp = setTimeout(() => done(false), CHECK_GIVE_UP_MS);
    socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\nUser-Agent: ELB-HealthChecker/2.0\r\n\r\n`);
    socket.once('data', (chunk: Buffer) => done(chunk.toString('latin1').startsWith('HTTP/1.1 200 ')));
    socket.once('error', () => done(false));
  });
}

/** Checks `port` until `seconds` have passed, one CHECK_INTERVAL_MS after each answer. */
async function checkFor(port: number, seconds: number): Promise<Check[]> {
  const end = performance.now() + seconds * 1000;
  const checks: Check[] = [];
  while (performance.now() < end) {
    checks.push(await healthCheck(port));
    await sleep(CHECK_INTERVAL_MS);
  }
  return checks;
}

interface PhaseChecks {
  readonly summary: { readonly port: CheckSummary; readonly ops: CheckSummary };
  /** Every check in the order sent, for a reading the summary does not give (how many in a row were slow). */
  readonly series: { readonly port: readonly Check[]; readonly ops: readonly Check[] };
}

/** Both ports checked at once, each by its own checker, for `seconds`. */
async function checkBoth(port: number, opsPort: number, seconds: number): Promise<PhaseChecks> {
  const [onPort, onOps] = await Promise.all([checkFor(port, seconds), checkFor(opsPort, seconds)]);
  return { summary: { port: summarizeChecks(onPort, ALB_HEALTH_CHECK_TIMEOUT_MS), ops: summarizeChecks(onOps, ALB_HEALTH_CHECK_TIMEOUT_MS) }, series: { port: onPort, ops: onOps } };
}

const floodCountsSchema = z.record(z.string(), z.number().int().nonnegative());

/** The flood, in a forked process (bench/batch-flood.ts), so this one's event loop times only the checks. */
async function floodFor(order: FloodOrder): Promise<FloodCounts> {
  const child = fork(fileURLToPath(new URL('./batch-flood.ts', import.meta.url)), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = once(child, 'exit');
  try {
    const answer = once(child, 'message');
    child.send(order);
    const message: unknown[] = await Promise.race([answer, exited.then(([code]) => Promise.reject(new Error(`the flood's process exited (${String(code)}) without its counts`)))]);
    return floodCountsSchema.parse(message[0]);
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

/** The event loop's longest delay since the last scrape, in seconds (prom-client resets it on each collection). */
async function eventLoopLagMaxSeconds(opsUrl: string): Promise<number | null> {
  const text = await (await fetch(`${opsUrl}/metrics`)).text();
  const m = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
  return m?.[1] === undefined ? null : Number(m[1]);
}

const fmtMs = (ms: number): string => (ms < 10 ? `${ms.toFixed(1)} ms` : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`);
const fmtRatio = (r: number | null): string => (r === null ? 'n/a' : `${r}×`);

function cpuLine(limit: CpuLimit | undefined): string {
  if (cpuAsked === undefined) return 'no CPU quota (--cpu not given): the gateway could use every core';
  const cpus = 'cpus' in cpuAsked ? cpuAsked.cpus : NaN;
  if (limit?.applied) return `limited to ${cpus} CPU (${limit.how})`;
  return `**NOT limited**: --cpu ${cpus} was asked, and could not be applied (${limit?.reason ?? 'not tried'}); the gateway could use every core`;
}

async function main(): Promise<void> {
  process.stderr.write('building…\n');
  await run('npm', ['run', '--silent', 'build'], { cwd: ROOT });
  const loadAtStart = os.loadavg()[0] ?? 0;
  const head = (await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT })).stdout.trim();
  const changed = (await run('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT })).stdout.trim() !== '';
  const commit = changed ? `${head} with uncommitted changes` : head;
  // The gateway below runs with MAX_BATCH unset: the batch is its default, the most one request may hold.
  const rows = loadConfig({}).MAX_BATCH;
  const customers = (await benchLoads(ROOT)).rowsOf(rows);
  const body = ROUTE === 'rest' ? JSON.stringify(customers) : graphqlBatch(customers);
  const port = cli.port ?? (await freePort());
  const opsPort = cli.port === undefined ? await freePort() : cli.port + 1;
  const gw = await startBuiltGateway(ROOT, { NODE_ENV: 'production', OPS_PORT: String(opsPort) }, port);
  const opsUrl = `http://127.0.0.1:${opsPort}`;
  let limit: CpuLimit | undefined;
  try {
    await waitFor200(`${opsUrl}/`);
    if (cpuAsked !== undefined && 'cpus' in cpuAsked) limit = await limitCpu(gw.pid, cpuAsked.cpus, `churn-bench-health-${process.pid}`);
    process.stderr.write(`${cpuLine(limit).replaceAll('**', '')}\n`);
    for (let k = 0; k < WARM_UP_BATCHES; k++) await (await fetch(`${gw.url}${FLOODED.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).arrayBuffer();

    process.stderr.write(`idle checks, ${IDLE_SECONDS} s…\n`);
    const idleChecks = await checkBoth(port, opsPort, IDLE_SECONDS);
    await eventLoopLagMaxSeconds(opsUrl); // from here on, the flood's
    process.stderr.write(`flood: ${CALLERS} callers, ${SECONDS} s…\n`);
    const [floodChecks, counts] = await Promise.all([checkBoth(port, opsPort, SECONDS), floodFor({ url: gw.url, path: FLOODED.path, body, callers: CALLERS, seconds: SECONDS })]);
    const lagMaxSeconds = await eventLoopLagMaxSeconds(opsUrl);
    const loadAtEnd = os.loadavg()[0] ?? 0;
    const [idle, flood] = [idleChecks.summary, floodChecks.summary];
    const ratios = floodRatios(idle, flood);
    const batches = { ...batchCounts(counts), byStatusOrError: counts };

    const date = new Date().toISOString().slice(0, 10);
    const result = {
      date,
      commit,
      machine: { cpus: os.availableParallelism(), node: process.version, loadAverage1m: { start: loadAtStart, end: loadAtEnd } },
      cpu: cpuAsked === undefined ? null : { asked: 'cpus' in cpuAsked ? cpuAsked.cpus : null, applied: limit?.applied ?? false, how: limit?.applied ? limit.how : null, reason: limit?.applied === false ? limit.reason : null },
      callers: CALLERS,
      seconds: SECONDS,
      batch: { route: FLOODED.route, rows, bytes: Buffer.byteLength(body) },
      checkIntervalMs: CHECK_INTERVAL_MS,
      albTimeoutMs: ALB_HEALTH_CHECK_TIMEOUT_MS,
      idle,
      flood,
      ratios,
      batches,
      eventLoopLagMaxSecondsInFlood: lagMaxSeconds,
      series: { idle: idleChecks.series, flood: floodChecks.series },
    };
    const row = (name: string, i: CheckSummary, f: CheckSummary, r: number | null) =>
      `| ${name} | ${fmtMs(i.p50Ms)} | ${fmtMs(f.p50Ms)} | ${fmtMs(f.maxMs)} | ${f.overTimeout} of ${f.checks} | ${f.overTimeoutInARow} | ${f.failed} | ${fmtRatio(r)} |`;
    const md = [
      `# Health checks under a flood of large batches, ${date}`,
      '',
      `${CALLERS} callers posting ${rows.toLocaleString('en-US')}-row ${FLOODED.what} (${(result.batch.bytes / 1e6).toFixed(1)} MB) in a loop for ${SECONDS} s; \`GET /\` on a new connection every ${CHECK_INTERVAL_MS} ms after the last answer, on PORT and on OPS_PORT (one checker each), and the same checks on the idle gateway for ${IDLE_SECONDS} s before, the baseline. Commit ${commit}.`,
      '',
      `Gateway CPU: ${cpuLine(limit)}. Load average (1 min): ${loadAtStart.toFixed(2)} at the start, ${loadAtEnd.toFixed(2)} at the end, on ${result.machine.cpus} CPUs.`,
      '',
      `| \`GET /\` on | idle p50 | flood p50 | flood max | over the ALB's ${ALB_HEALTH_CHECK_TIMEOUT_MS / 1000} s (or failed) | most in a row | failed | flood p50 / idle p50 |`,
      '|---|---|---|---|---|---|---|---|',
      row('PORT', idle.port, flood.port, ratios.portFloodOverIdle),
      row('OPS_PORT', idle.ops, flood.ops, ratios.opsFloodOverIdle),
      '',
      `OPS_PORT's p50 in the flood: **${fmtRatio(ratios.opsOverPortInFlood)}** PORT's.`,
      `Batches: ${batches.answered} answered, ${batches.refused} refused, ${batches.errors} connection errors (${JSON.stringify(counts)}).`,
      `The event loop's longest delay in the flood (nodejs_eventloop_lag_max_seconds): ${lagMaxSeconds === null ? 'not read' : `${lagMaxSeconds.toFixed(2)} s`}.`,
      '',
    ].join('\n');
    process.stdout.write(md);
    if (QUICK) process.stderr.write('--quick: no results files written\n');
    else {
      const dir = `${ROOT}bench/results`;
      await mkdir(dir, { recursive: true });
      const name = await freeResultName(dir, `health-checks-${date}${cli.label === undefined ? '' : `-${cli.label}`}`);
      await writeFile(`${dir}/${name}.json`, `${JSON.stringify(result, null, 2)}\n`);
      await writeFile(`${dir}/${name}.md`, md);
      process.stderr.write(`wrote bench/results/${name}.{json,md}\n`);
    }
  } finally {
    await stopProcess(gw.child);
    if (limit?.applied) await limit.release();
  }
}

await main();
