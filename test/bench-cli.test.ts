/**
 * The bench scripts' command lines (bench/cli.ts): `--help` prints the usage and exits 0, an
 * unknown option or a bad value exits 2 naming it, and in all of these no load starts (nothing is
 * built, no gateway started, no result file written). Each script runs as a child process with a
 * timeout far below any load run: a script that ignored its arguments would start one, and be
 * killed (with everything it started) at the timeout.
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { USAGE_ERROR_EXIT } from '../bench/cli.js';
import { REPO_ROOT } from './helpers/gateway.js';

/** Far below a load run (a build and a gateway's start alone take longer on a loaded machine), far above tsx's start. */
const TIMEOUT_MS = 30_000;

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs `npx tsx <script> <args>` in its own process group; at the timeout the whole group (a build, gateways, autocannon) is killed. */
function runScript(script: string, args: readonly string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), [script, ...args], { cwd: REPO_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/**
 * What the bench scripts write (bench/results/, bench/tmp/ for --quick), by name and modification
 * time. (Not dist/: other test files build it; a build the script started shows as `building…`.)
 */
function written(): Map<string, number> {
  const files = new Map<string, number>();
  for (const dir of ['bench/results', 'bench/tmp']) {
    let names: string[] = [];
    try {
      names = readdirSync(path.join(REPO_ROOT, dir));
    } catch {
      /* not there: nothing written */
    }
    for (const name of names) files.set(`${dir}/${name}`, statSync(path.join(REPO_ROOT, dir, name)).mtimeMs);
  }
  return files;
}

/** Each script, the options its usage lists, and arguments it refuses with what the refusal says. */
const SCRIPTS = [
  {
    script: 'bench/run.ts',
    command: 'npm run bench --',
    options: ['--duration <s>', '--rounds <n>', '--connections <n>', '--quick'],
    bad: [
      { args: ['--rounds', 'abc'], says: '--rounds: a whole number ≥ 1; got "abc"' },
      { args: ['--duration', '0'], says: '--duration: a whole number ≥ 1; got "0"' },
      { args: ['--quick', 'extra'], says: "Unexpected argument 'extra'" },
    ],
  },
  {
    script: 'bench/soak.ts',
    command: 'npm run soak --',
    options: ['--minutes <n>'],
    bad: [
      { args: ['--minutes', '1'], says: '--minutes: a whole number ≥ 2; got "1"' },
      { args: ['--minutes', 'abc'], says: '--minutes: a whole number ≥ 2; got "abc"' },
    ],
  },
  {
    script: 'bench/compare-builds.ts',
    command: 'npx tsx bench/compare-builds.ts',
    options: ['--base <dir>', '--starts <n>', '--rounds <n>', '--seconds <s>', '--loads <kinds>'],
    bad: [
      { args: [], says: '--base <dir>: a built checkout to compare this one with' },
      { args: ['--base', '.', '--loads', 'rest,soap'], says: '--loads: unknown "soap"; use one or more of rest,graphql' },
      { args: ['--base', '.', '--starts', '1.5'], says: '--starts: a whole number ≥ 1; got "1.5"' },
    ],
  },
  {
    script: 'bench/large-batches.ts',
    command: 'npx tsx bench/large-batches.ts',
    options: ['--base <dir>', '--runs <n>', '--measures <names>'],
    bad: [
      { args: ['--runs', '0'], says: '--runs: a whole number ≥ 1; got "0"' },
      { args: ['--measures', 'all'], says: '--measures: unknown "all"; use one or more of mixed,only,giving-up' },
    ],
  },
  {
    script: 'bench/health-checks.ts',
    command: 'npx tsx bench/health-checks.ts',
    options: ['--callers <n>', '--seconds <s>', '--cpu <cpus>', '--port <port>', '--route <rest|graphql>', '--label <word>', '--quick'],
    bad: [
      { args: ['--callers', '0'], says: '--callers: a whole number ≥ 1; got "0"' },
      { args: ['--cpu', 'half'], says: '--cpu: a number of CPUs from 0.01 to' },
      { args: ['--cpu', '0'], says: '--cpu: a number of CPUs from 0.01 to' },
      { args: ['--port', '65535'], says: '--port: at most 65534 (OPS_PORT is the next port); got "65535"' },
      { args: ['--label', '../x'], says: `--label: letters, digits, '.' and '-', for a file name; got "../x"` },
      { args: ['--quick', '--label', 'x'], says: '--label names the results files, which --quick does not write' },
      { args: ['--route', 'soap'], says: '--route: rest or graphql; got "soap"' },
    ],
  },
] as const;

describe('bench scripts: --help and refused arguments start no load (bench/cli.ts)', () => {
  describe.each(SCRIPTS)('$script', ({ script, command, options, bad }) => {
    it('--help prints the usage listing each option, exits 0, and starts nothing', async () => {
      const before = written();
      const r = await runScript(script, ['--help']);
      expect(r.timedOut, `${script} --help was still running after ${TIMEOUT_MS} ms (a load started?)\n${r.stderr}`).toBe(false);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.startsWith(`Usage: ${command} [options]`), r.stdout).toBe(true);
      for (const o of options) expect(r.stdout).toContain(`  ${o} `);
      expect(r.stdout).toContain('--help');
      expect(r.stderr).not.toContain('building');
      expect(written()).toEqual(before);
    });

    it('an unknown option exits 2 naming it, and starts nothing', async () => {
      const before = written();
      const r = await runScript(script, ['--no-such-option']);
      expect(r.timedOut, `${script} --no-such-option was still running after ${TIMEOUT_MS} ms (a load started?)\n${r.stderr}`).toBe(false);
      expect(r.code, r.stderr).toBe(USAGE_ERROR_EXIT);
      expect(r.stderr).toContain("Unknown option '--no-such-option'");
      expect(r.stderr).toContain(`${command} --help`);
      expect(written()).toEqual(before);
    });

    it.each(bad.map(({ args, says }) => ({ args: [...args], says })))('refuses $args before any load: exit 2, saying $says', async ({ args, says }) => {
      const before = written();
      const r = await runScript(script, args);
      expect(r.timedOut, `${script} ${args.join(' ')} was still running after ${TIMEOUT_MS} ms (a load started?)\n${r.stderr}`).toBe(false);
      expect(r.code, r.stderr).toBe(USAGE_ERROR_EXIT);
      expect(r.stderr).toContain(says);
      expect(r.stderr).not.toContain('building');
      expect(written()).toEqual(before);
    });
  });
});
