/**
 * Large batches beside other traffic, A/B (`npx tsx bench/large-batches.ts [--base <dir>]
 * [--runs <n>]`, `--help` for all options and their defaults; not part of CI): how a caller posting 10,000-row batches shares the gateway.
 * Each run starts the gateway of this checkout and, with --base, of another built checkout
 * (alternating), and measures:
 *   - mixed: one caller posting a 10,000-row batch (REST, then GraphQL predictBatch) in a loop
 *     beside autocannon -c 10 of single REST predictions, 10 s: the singles' answers and
 *     latency, and the batches completed;
 *   - batches only: 6 callers posting 10,000-row REST batches (then GraphQL), 8 s: answers and
 *     the gateway's peak RSS;
 *   - giving up: 3 callers posting 10,000-row batches with a 50 ms client timeout (each closes
 *     its connection after 50 ms without an answer, then posts again) beside autocannon -c 10
 *     of single REST predictions, 10 s: the singles' answers and latency, and the batches sent.
 * `--measures` picks some (default all).
 * Both gateways run with LOG_LEVEL=warn (no access log) and must have been built
 * (`npm run build` in each).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GRAPHQL_CUSTOMER, LEGACY_PAYLOAD } from '../test/helpers/customers.js';
import { parseCli } from './cli.js';
import { UNCOMPRESSED_JSON } from './loads.js';
import { peakRssMb, resetPeakRss, startBuiltGateway, stopProcess } from './process.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MEASURE_NAMES = ['mixed', 'only', 'giving-up'] as const;
const CLI = {
  command: 'npx tsx bench/large-batches.ts',
  about: 'How 10,000-row batches share the gateway with other traffic, for this checkout and, with --base, another built one.',
  options: {
    base: { kind: 'text', value: 'dir', help: 'another built checkout to run alternately with this one' },
    runs: { kind: 'integer', min: 1, default: 3, value: 'n', help: 'runs of each measure' },
    measures: { kind: 'text', list: MEASURE_NAMES, default: MEASURE_NAMES.join(','), value: 'names', help: 'which measures' },
  },
} as const;
const { values: cli } = parseCli(CLI);
const RUNS = cli.runs;
const MEASURES = new Set(cli.measures.split(','));
const checkouts = [ROOT, ...(cli.base === undefined ? [] : [cli.base])];

/** The README's legacy customer, with SeniorCitizen sent (no default applied). */
const LEGACY = { ...LEGACY_PAYLOAD, SeniorCitizen: 0 };
const ROWS = 10_000;
const BATCHES = {
  REST: ['/predict', JSON.stringify(Array.from({ length: ROWS }, (_, i) => ({ ...LEGACY, tenure: i % 72, TotalCharges: i % 72 === 0 ? null : 30 * (i % 72) })))],
  GraphQL: ['/graphql', JSON.stringify({ query: 'mutation B($cs: [CustomerInput!]!) { predictBatch(customers: $cs) { churnProbability willChurn } }', variables: { cs: Array.from({ length: ROWS }, (_, i) => ({ ...GRAPHQL_CUSTOMER, tenure: i % 72 })) } })],
} as const;

async function post(url: string, path: string, body: string): Promise<number> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: UNCOMPRESSED_JSON, body });
  await res.arrayBuffer();
  return res.status;
}

/** autocannon -c 10 of single REST predictions for 10 s, while `beside` runs. */
async function singlesBeside(url: string, beside: (stopped: () => boolean) => Promise<void>): Promise<string> {
  let stop = false;
  const other = beside(() => stop);
  const { stdout } = await run(process.execPath, ['node_modules/autocannon/autocannon.js', '--json', '-c', '10', '-d', '10', '-m', 'POST', '-H', 'content-type=application/json', '-b', JSON.stringify(LEGACY), `${url}/predict`], { cwd: ROOT, maxBuffer: 1 << 26 });
  stop = true;
  await other;
  const r = JSON.parse(stdout) as { requests: { total: number }; latency: { p50: number; p90: number; p99: number; max: number }; non2xx: number; errors: number };
  return `singles ${r.requests.total} (errors ${r.errors + r.non2xx}), p50 ${r.latency.p50} p90 ${r.latency.p90} p99 ${r.latency.p99} max ${r.latency.max} ms`;
}

async function mixed(url: string, kind: keyof typeof BATCHES): Promise<string> {
  const [path, body] = BATCHES[kind];
  for (let k = 0; k < 3; k++) await post(url, path, body); // warm-up
  let batches = 0;
  const singles = await singlesBeside(url, async (stopped) => {
    while (!stopped()) if ((await post(url, path, body)) === 200) batches++;
  });
  return `${kind} batches ${batches} | ${singles}`;
}

async function givingUp(url: string, kind: keyof typeof BATCHES): Promise<string> {
  const [path, body] = BATCHES[kind];
  for (let k = 0; k < 3; k++) await post(url, path, body); // warm-up
  let sent = 0;
  let answered = 0;
  const singles = await singlesBeside(url, async (stopped) => {
    await Promise.all(
      Array.from({ length: 3 }, async () => {
        while (!stopped()) {
          sent++;
          try {
            const res = await fetch(`${url}${path}`, { method: 'POST', headers: UNCOMPRESSED_JSON, body, signal: AbortSignal.timeout(50) });
            await res.arrayBuffer();
            answered++;
          } catch {
            /* gave up after 50 ms: the connection is closed */
          }
        }
      }),
    );
  });
  return `${kind} batches sent ${sent}, answered within 50 ms ${answered} | ${singles}`;
}

async function batchesOnly(url: string, pid: number, kind: keyof typeof BATCHES): Promise<string> {
  const [path, body] = BATCHES[kind];
  // The kernel's peak (VmHWM, reset here), which no sampling interval can miss.
  const reset = await resetPeakRss(pid);
  const end = performance.now() + 8000;
  const statuses: Record<number, number> = {};
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      while (performance.now() < end) {
        const s = await post(url, path, body);
        statuses[s] = (statuses[s] ?? 0) + 1;
      }
    }),
  );
  const peak = await peakRssMb(pid);
  return `${kind} 6 callers: answers by status ${JSON.stringify(statuses)}, peak RSS ${peak === undefined ? 'not measured' : `${Math.round(peak)} MB${reset ? '' : ' (since the gateway started)'}`}`;
}

async function main(): Promise<void> {
  await readFile(`${ROOT}dist/src/main.js`); // built?
  for (let r = 1; r <= RUNS; r++) {
    for (const dir of checkouts) {
      for (const [measure, kind] of [...MEASURES].flatMap((m) => (['REST', 'GraphQL'] as const).map((k) => [m, k] as const))) {
        const { url, child, pid } = await startBuiltGateway(dir, { NODE_ENV: 'production', LOG_LEVEL: 'warn' });
        try {
          const line =
            measure === 'mixed' ? `mixed, ${await mixed(url, kind)}` : measure === 'only' ? await batchesOnly(url, pid, kind) : `giving up, ${await givingUp(url, kind)}`;
          process.stdout.write(`run ${r} ${dir === ROOT ? 'this checkout' : dir}: ${line}\n`);
        } finally {
          await stopProcess(child); // the next gateway starts on a quiet machine
        }
      }
    }
  }
}

await main();
