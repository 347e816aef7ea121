/**
 * Soak test (`npm run soak`, not part of CI): measures the gateway's maximum throughput,
 * then holds half of it for 10 minutes (REST and GraphQL, one autocannon process each),
 * sampling RSS every 5 s. Passes when there are 0 errors and RSS grows ≤ 10% after warm-up:
 * the median of the last minute's samples against the median of the minute after the
 * first (single samples swing by ~10 MB with the young generation, so one unlucky end
 * sample could read as growth).
 * Writes bench/results/soak-<date>.json and .md (soak-<date>-2, -3, … for a later soak of the same day).
 *
 * Options: `npm run soak -- --help` (CLI below).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseCli } from './cli.js';
import { benchLoads } from './loads.js';
import { freePort, rssMb } from './process.js';
import { freeResultName } from './result-files.js';
import { median } from './stats.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** RSS growth compares the minute after warm-up (the second) with the last one, so a soak needs two minutes at least. */
const MIN_MINUTES = 2;
const CLI = {
  command: 'npm run soak --',
  about: "Measures the gateway's maximum throughput, holds half of it (REST and GraphQL at once) and samples RSS every 5 s; writes bench/results/soak-<date>.{json,md}.",
  options: {
    minutes: { kind: 'integer', min: MIN_MINUTES, default: 10, value: 'n', help: "minutes at half capacity (minute 2's RSS, after warm-up, is compared with the last minute's)" },
  },
} as const;
const MINUTES = parseCli(CLI).values.minutes;

interface Cannon {
  requests: { average: number; total: number };
  /** Connection errors and timeouts together. */
  errors: number;
  non2xx: number;
  latency: { p99: number };
}

async function cannon(url: string, body: string, seconds: number, rate?: number): Promise<Cannon> {
  const argv = ['node_modules/autocannon/autocannon.js', '--json', '-c', '50', '-d', String(seconds), '-m', 'POST', '-H', 'content-type=application/json', '-b', body];
  if (rate) argv.push('-R', String(Math.max(1, Math.round(rate))));
  argv.push(url);
  const { stdout } = await run(process.execPath, argv, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as Cannon;
}

async function main(): Promise<void> {
  await run('npm', ['run', '--silent', 'build'], { cwd: ROOT });
  const single = await benchLoads(ROOT);
  const port = await freePort();
  const gw = spawn(process.execPath, ['dist/src/main.js'], { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'inherit'] });
  gw.stdout.resume();
  const base = `http://127.0.0.1:${port}`;
  for (let k = 0; k < 300; k++) {
    if (await fetch(`${base}/`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = gw.pid as number;
  try {
    if ((await rssMb(pid)) === undefined) throw new Error(`the gateway's RSS cannot be read (/proc/${pid}/status): the soak judges its growth`);
    const [maxRest, maxGql] = [await cannon(`${base}/predict`, single.rest, 5), await cannon(`${base}/graphql`, single.graphql, 5)];
    const restRate = maxRest.requests.average / 2;
    const gqlRate = maxGql.requests.average / 2;
    // Both paths at once, each at a quarter of its own maximum: together half the gateway's capacity.
    process.stderr.write(`max REST ${Math.round(maxRest.requests.average)}/s, GraphQL ${Math.round(maxGql.requests.average)}/s; soaking ${MINUTES} min at half capacity\n`);
    const samples: { atSec: number; rssMb: number }[] = [];
    const start = Date.now();
    // rssMb never rejects: a reading it cannot make is undefined, and skipped.
    const sampler = setInterval(
      () =>
        void rssMb(pid).then((rss) => {
          if (rss !== undefined) samples.push({ atSec: Math.round((Date.now() - start) / 1000), rssMb: Math.round(rss * 10) / 10 });
        }),
      5000,
    );
    const seconds = MINUTES * 60;
    const [rest, gql] = await Promise.all([cannon(`${base}/predict`, single.rest, seconds, restRate / 2), cannon(`${base}/graphql`, single.graphql, seconds, gqlRate / 2)]);
    clearInterval(sampler);
    const window = (from: number, to: number) => samples.filter((s) => s.atSec >= from && s.atSec < to).map((s) => s.rssMb);
    const warm = window(60, 120);
    const end = window(seconds - 60, Infinity);
    if (warm.length === 0 || end.length === 0) throw new Error(`no RSS samples in minute 2 (${warm.length}) or in the last minute (${end.length}): RSS growth compares the two`);
    const round1 = (mb: number) => Math.round(mb * 10) / 10;
    const afterWarmup = { rssMb: round1(median(warm)) };
    const last = { rssMb: round1(median(end)) };
    const growth = (last.rssMb - afterWarmup.rssMb) / afterWarmup.rssMb;
    const peakRssMb = Math.max(...samples.map((s) => s.rssMb));
    // autocannon's `errors` already counts its timeouts (each is an error and a timeout).
    const errors = rest.errors + rest.non2xx + gql.errors + gql.non2xx;
    const date = new Date().toISOString().slice(0, 10);
    const result = {
      date,
      minutes: MINUTES,
      maxRequestsPerSec: { rest: maxRest.requests.average, graphql: maxGql.requests.average },
      targetRequestsPerSec: { rest: restRate / 2, graphql: gqlRate / 2 },
      served: { rest: rest.requests.total, graphql: gql.requests.total },
      p99Ms: { rest: rest.latency.p99, graphql: gql.latency.p99 },
      errors,
      rssAfterWarmupMedianMb: afterWarmup.rssMb,
      rssEndMedianMb: last.rssMb,
      rssGrowth: growth,
      peakRssMb,
      pass: errors === 0 && growth <= 0.1,
      samples,
    };
    await mkdir(`${ROOT}bench/results`, { recursive: true });
    const name = await freeResultName(`${ROOT}bench/results`, `soak-${date}`);
    await writeFile(`${ROOT}bench/results/${name}.json`, `${JSON.stringify(result, null, 2)}\n`);
    const md = [
      `# Soak ${date}`,
      '',
      `${MINUTES} min; load = half the measured maximum, split over REST and GraphQL (autocannon -c 50 -R, two processes).`,
      '',
      '| | REST /predict | GraphQL predict |',
      '|---|---|---|',
      `| measured max req/s | ${Math.round(maxRest.requests.average)} | ${Math.round(maxGql.requests.average)} |`,
      `| soak rate req/s | ${Math.round(restRate / 2)} | ${Math.round(gqlRate / 2)} |`,
      `| requests served | ${rest.requests.total} | ${gql.requests.total} |`,
      `| p99 ms | ${rest.latency.p99} | ${gql.latency.p99} |`,
      '',
      `Errors (connection errors, timeouts, non-2xx): **${errors}** (target 0).`,
      `RSS, median of 5-s samples: minute 2 ${afterWarmup.rssMb} MB → last minute ${last.rssMb} MB: growth **${(growth * 100).toFixed(1)}%** (target ≤ 10%). Peak sample ${peakRssMb} MB.`,
      '',
      `Result: **${result.pass ? 'pass' : 'FAIL'}**.`,
      '',
    ].join('\n');
    await writeFile(`${ROOT}bench/results/${name}.md`, md);
    process.stdout.write(md);
    if (!result.pass) process.exitCode = 1;
  } finally {
    gw.kill('SIGTERM');
  }
}

await main();
