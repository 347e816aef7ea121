/**
 * Two builds of the gateway at single-prediction load, A/B (`npx tsx bench/compare-builds.ts
 * --base <dir> [--starts 4] [--rounds 4] [--seconds 6] [--loads rest,graphql]`; not part of CI).
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
import { benchLoads } from './loads.js';
import { cliOption, startBuiltGateway, stopProcess, type BuiltGateway } from './process.js';
import { shareBetween, snapshot } from './sched.js';
import { median } from './stats.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const opt = (name: string): string | undefined => cliOption(args, name);
const count = (name: string, fallback: number): number => {
  const value = Number(opt(name) ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name}: a whole number from 1; got ${opt(name)}`);
  return value;
};
const BASE = opt('base');
if (!BASE) throw new Error('--base <dir>: a built checkout to compare this one with');
const STARTS = count('starts', 4);
const ROUNDS = count('rounds', 4);
const SECONDS = count('seconds', 6);
const CONNECTIONS = 50;

const single = await benchLoads(ROOT);
const LOADS = {
  rest: { path: '/predict', body: single.rest },
  graphql: { path: '/graphql', body: single.graphql },
} as const;
type LoadKind = keyof typeof LOADS;
const kinds = (opt('loads') ?? 'rest,graphql').split(',');
for (const k of kinds) if (!(k in LOADS)) throw new Error(`--loads: unknown load ${k}; use rest, graphql`);
const KINDS = kinds as LoadKind[];

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
  const argv = ['node_modules/autocannon/autocannon.js', '--json', '-c', String(CONNECTIONS), '-d', String(seconds), '-m', 'POST', '-H', 'content-type=application/json', '-b', body, `${gw.url}${target}`];
  const before = await snapshot(gw.pid);
  const { stdout } = await run(process.execPath, argv, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  const after = await snapshot(gw.pid);
  const r = autocannonResult.parse(JSON.parse(stdout));
  if (r.errors + r.non2xx > 0) throw new Error(`${gw.build.name} ${kind}: ${r.errors} errors, ${r.non2xx} non-2xx answers`);
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
