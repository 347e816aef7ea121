/**
 * Two builds of the gateway at single-prediction load, A/B (`npx tsx bench/compare-builds.ts
 * --base <dir>`; `--help` lists the other options and their defaults; not part of CI).
 * `<dir>` is another checkout, built (`npm ci && npm run build` there, or `npx tsc -p
 * tsconfig.build.json --outDir <dir>/dist` with node_modules, model/, ui/ and package.json
 * linked in); this checkout must be built too.
 *
 * A gateway process keeps its own speed for its life (memory layout, compiled code, where
 * the scheduler puts its threads): on this 2-core machine two processes of one build read up
 * to ±5 % apart at REST, as much as the changes being compared. So both builds are restarted
 * `--starts` times, in alternating start order; each start warms both up, then runs
 * `--rounds` alternating autocannon loads of `--seconds` at 50 connections (the bench's load),
 * per load kind. Reported per build: req/s, and the CPU per request of the event loop and of
 * the process's other threads together (the inference worker, V8's helpers), from
 * /proc/<pid>/task/<tid>/schedstat over the whole load; the median over all rounds of all
 * starts, and each start's median, so a lone process's luck shows.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { z } from 'zod';
import { parseCli, usageError } from './cli.js';
import { autocannonArgv, benchLoads } from './loads.js';
import { startBuiltGateway, stopProcess, type BuiltGateway } from './process.js';
import { shareBetween, snapshot } from './sched.js';
import { median } from './stats.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LOAD_KINDS = ['rest', 'graphql'] as const;
type LoadKind = (typeof LOAD_KINDS)[number];
const CLI = {
  command: 'npx tsx bench/compare-builds.ts',
  about: 'A/B of this checkout against another built one (--base, required) at single-prediction load, 50 connections.',
  options: {
    base: { kind: 'text', value: 'dir', help: 'the other checkout, built (dist/src/main.js)' },
    starts: { kind: 'integer', min: 1, default: 4, value: 'n', help: 'restarts of both builds, in alternating order' },
    rounds: { kind: 'integer', min: 1, default: 4, value: 'n', help: 'alternating loads per start and load kind' },
    seconds: { kind: 'integer', min: 1, default: 6, value: 's', help: 'seconds per load' },
    loads: { kind: 'text', list: LOAD_KINDS, default: LOAD_KINDS.join(','), value: 'kinds', help: 'which loads' },
  },
} as const;
const { values: cli } = parseCli(CLI);
const BASE = cli.base ?? usageError(CLI, '--base <dir>: a built checkout to compare this one with');
const STARTS = cli.starts;
const ROUNDS = cli.rounds;
const SECONDS = cli.seconds;
const CONNECTIONS = 50;

const single = await benchLoads(ROOT);
const LOADS: Record<LoadKind, { path: string; body: string }> = {
  rest: { path: '/predict', body: single.rest },
  graphql: { path: '/graphql', body: single.graphql },
};
// parseCli checked each word against LOAD_KINDS.
const KINDS = cli.loads.split(',') as LoadKind[];

const BUILDS = [
  { name: 'this checkout', dir: ROOT },
  { name: `base (${BASE})`, dir: path.resolve(BASE) },
] as const;

interface Gateway extends BuiltGateway {
  readonly build: (typeof BUILDS)[number];
}

async function startGateway(build: (typeof BUILDS)[number]): Promise<Gateway> {
  // As the bench runs it: production, access log on.
  return { build, ...(await startBuiltGateway(build.dir, { NODE_ENV: 'production', LOG_LEVEL: 'info' })) };
}

const autocannonResult = z.object({ requests: z.object({ average: z.number(), total: z.number() }), errors: z.number(), non2xx: z.number() });

interface Round {
  readonly rps: number;
  /** The event loop's CPU time per request, µs. */
  readonly loopUs: number;
  /** The other threads' CPU time per request (the inference worker, V8's helpers), µs. */
  readonly otherUs: number;
}

async function load(gw: Gateway, kind: LoadKind, seconds: number): Promise<Round> {
  const { path: target, body } = LOADS[kind];
  const argv = autocannonArgv(`${gw.url}${target}`, body, CONNECTIONS, seconds);
  const before = await snapshot(gw.pid);
  const { stdout } = await run(process.execPath, argv, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  const after = await snapshot(gw.pid);
  const r = autocannonResult.parse(JSON.parse(stdout));
  if (r.errors + r.non2xx > 0 || r.requests.total === 0) throw new Error(`${gw.build.name} ${kind}: ${r.requests.total} answers, ${r.errors} errors (timeouts included), ${r.non2xx} non-2xx answers`);
  const share = before && after ? shareBetween(gw.pid, before, after) : null;
  const windowS = before && after ? Number(after.atNs - before.atNs) / 1e9 : Number.NaN;
  const perRequestUs = (s: number | undefined) => (s === undefined ? Number.NaN : ((s * windowS) / r.requests.total) * 1e6);
  return { rps: r.requests.average, loopUs: perRequestUs(share?.mainRun), otherUs: perRequestUs(share?.otherRun) };
}

async function main(): Promise<void> {
  for (const build of BUILDS) await readFile(path.join(build.dir, 'dist/src/main.js')).catch(() => Promise.reject(new Error(`${build.name}: not built (no dist/src/main.js)`)));
  const rounds = new Map<string, Round[]>(KINDS.flatMap((k) => BUILDS.map((b) => [`${k} ${b.name}`, []] as [string, Round[]])));
  for (let start = 0; start < STARTS; start++) {
    const order = start % 2 === 0 ? [...BUILDS] : [...BUILDS].reverse();
    const gateways: Gateway[] = [];
    try {
      for (const build of order) gateways.push(await startGateway(build));
      for (const kind of KINDS) {
        for (const gw of gateways) await load(gw, kind, 2); // warm-up
        const here = new Map<string, number[]>(gateways.map((gw) => [gw.build.name, []]));
        for (let r = 0; r < ROUNDS; r++) {
          for (const gw of r % 2 === 0 ? gateways : [...gateways].reverse()) {
            const round = await load(gw, kind, SECONDS);
            rounds.get(`${kind} ${gw.build.name}`)?.push(round);
            here.get(gw.build.name)?.push(round.rps);
          }
        }
        process.stdout.write(`start ${start + 1} ${kind}: ${[...here].map(([name, rps]) => `${name} ${Math.round(median(rps))} req/s`).join(', ')}\n`);
      }
    } finally {
      await Promise.all(gateways.map((gw) => stopProcess(gw.child)));
    }
  }
  for (const kind of KINDS) {
    for (const build of BUILDS) {
      const rs = rounds.get(`${kind} ${build.name}`) ?? [];
      process.stdout.write(`${kind} ${build.name}: ${Math.round(median(rs.map((r) => r.rps)))} req/s, event loop ${median(rs.map((r) => r.loopUs)).toFixed(1)} µs, other threads ${median(rs.map((r) => r.otherUs)).toFixed(1)} µs per request (medians of ${rs.length} rounds)\n`);
    }
  }
}

await main();
