/**
 * The health-check bench's pure parts (bench/health-check-stats.ts, bench/cpu-quota.ts): what a
 * run of checks sums up to, the ratios it is reported as, the batches' counts, the --cpu value
 * and the cgroup files a quota is written to (in a directory laid out as each cgroup version's
 * file system is). Its command line is test/bench-cli.test.ts's; its timings are read from its
 * results, never asserted.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CPU_PERIOD_US, limitCpu, parseCpus, quotaUs } from '../bench/cpu-quota.js';
import { ALB_HEALTH_CHECK_TIMEOUT_MS, batchCounts, floodRatios, ratio, summarizeChecks, type Check } from '../bench/health-check-stats.js';
import { REPO_ROOT } from './helpers/gateway.js';

const ok = (ms: number): Check => ({ ms, ok: true });

describe('summarizeChecks', () => {
  it('gives the median and the longest, and counts as over the timeout the slower checks and every failed one', () => {
    const checks = [ok(3), ok(7000), { ms: 20_000, ok: false }, ok(5000), ok(1), { ms: 2, ok: false }, ok(4)];
    expect(summarizeChecks(checks, 5000)).toEqual({ checks: 7, failed: 2, p50Ms: 4, maxMs: 20_000, overTimeout: 3, overTimeoutInARow: 2 });
  });

  it('gives the longest run of checks over the timeout, in the order they were made', () => {
    const slow = ok(6000);
    expect(summarizeChecks([slow, ok(1), slow, slow, { ms: 1, ok: false }, ok(1), slow], 5000).overTimeoutInARow).toBe(3);
    expect(summarizeChecks([ok(1), ok(2)], 5000).overTimeoutInARow).toBe(0);
  });

  it('counts a check answered at exactly the timeout as in time', () => {
    expect(summarizeChecks([ok(5000), ok(5001)], 5000).overTimeout).toBe(1);
  });

  it('refuses to summarize no checks (a phase that checked nothing is a broken run, not a p50 of 0)', () => {
    expect(() => summarizeChecks([], 5000)).toThrow('no health checks');
  });
});

describe('ratios', () => {
  it('to 2 significant figures, and none against a baseline of 0', () => {
    expect(ratio(2300, 2.1)).toBe(1100);
    expect(ratio(300, 2300)).toBe(0.13);
    expect(ratio(5, 0)).toBeNull();
  });

  it("each port's flood p50 against its own idle p50, and OPS_PORT's against PORT's in the flood", () => {
    const s = (p50Ms: number) => summarizeChecks([ok(p50Ms)], ALB_HEALTH_CHECK_TIMEOUT_MS);
    expect(floodRatios({ port: s(2), ops: s(4) }, { port: s(3000), ops: s(300) })).toEqual({ portFloodOverIdle: 1500, opsFloodOverIdle: 75, opsOverPortInFlood: 0.1 });
  });
});

describe('batchCounts', () => {
  it('splits the answers into 200s and other statuses, and connection errors apart', () => {
    expect(batchCounts({ '200': 85, '503': 300, '413': 1, ECONNRESET: 2, 'socket hang up': 1 })).toEqual({ answered: 85, refused: 301, errors: 3 });
    expect(batchCounts({})).toEqual({ answered: 0, refused: 0, errors: 0 });
  });
});

describe('ALB_HEALTH_CHECK_TIMEOUT_MS', () => {
  it("is the target groups' health check timeout in infra/lib/load-balancer.ts", () => {
    const source = readFileSync(path.join(REPO_ROOT, 'infra/lib/load-balancer.ts'), 'utf8');
    const seconds = /healthCheck: \{[^}]*?timeout: Duration\.seconds\((\d+)\)/s.exec(source)?.[1];
    expect(seconds, "the healthCheck block's timeout in infra/lib/load-balancer.ts").toBeDefined();
    expect(ALB_HEALTH_CHECK_TIMEOUT_MS).toBe(Number(seconds) * 1000);
  });
});

describe('--cpu (parseCpus)', () => {
  it('takes a fraction or a whole number of CPUs up to the machine\'s', () => {
    expect(parseCpus('0.5', 2)).toEqual({ cpus: 0.5 });
    expect(parseCpus('2', 2)).toEqual({ cpus: 2 });
    expect(parseCpus('0.01', 2)).toEqual({ cpus: 0.01 });
    expect(quotaUs(0.5)).toBe(50_000);
    expect(quotaUs(0.01)).toBe(1000);
    expect(CPU_PERIOD_US).toBe(100_000);
  });

  it.each(['0', '0.009', '-1', '3', 'half', '', ' ', 'Infinity', 'NaN'])('refuses %j, naming the range', (text) => {
    expect(parseCpus(text, 2)).toEqual({ problem: `--cpu: a number of CPUs from 0.01 to 2 (this machine's); got "${text}"` });
  });
});

describe('limitCpu, on a directory laid out as a cgroup file system', () => {
  let root: string | undefined;
  afterEach(async () => {
    if (root) await rm(root, { recursive: true, force: true });
    root = undefined;
  });

  it('v1: a cgroup under the cpu controller with the quota over the period, and the process in it', async () => {
    root = await mkdtemp(path.join(tmpdir(), 'cgroup-v1-'));
    await mkdir(path.join(root, 'cpu'));
    await writeFile(path.join(root, 'cpu', 'cpu.cfs_quota_us'), '-1\n');
    const limit = await limitCpu(4242, 0.5, 'bench', root);
    const dir = path.join(root, 'cpu', 'bench');
    expect(limit).toMatchObject({ applied: true, how: `cgroup v1 ${dir}: 50000/100000 µs` });
    expect(await readFile(path.join(dir, 'cpu.cfs_quota_us'), 'utf8')).toBe('50000');
    expect(await readFile(path.join(dir, 'cpu.cfs_period_us'), 'utf8')).toBe('100000');
    expect(await readFile(path.join(dir, 'cgroup.procs'), 'utf8')).toBe('4242');
  });

  it('v2: the cpu controller enabled for the children, cpu.max, and the process in it', async () => {
    root = await mkdtemp(path.join(tmpdir(), 'cgroup-v2-'));
    await writeFile(path.join(root, 'cgroup.controllers'), 'cpu io memory pids\n');
    const limit = await limitCpu(4242, 0.25, 'bench', root);
    const dir = path.join(root, 'bench');
    expect(limit).toMatchObject({ applied: true, how: `cgroup v2 ${dir}: 25000/100000 µs` });
    expect(await readFile(path.join(root, 'cgroup.subtree_control'), 'utf8')).toBe('+cpu');
    expect(await readFile(path.join(dir, 'cpu.max'), 'utf8')).toBe('25000 100000');
    expect(await readFile(path.join(dir, 'cgroup.procs'), 'utf8')).toBe('4242');
  });

  it('says why it could not, and never throws: no cgroup file system, or a cgroup of that name already there', async () => {
    root = await mkdtemp(path.join(tmpdir(), 'cgroup-none-'));
    expect(await limitCpu(4242, 0.5, 'bench', root)).toEqual({ applied: false, reason: `no cgroup v2 (${root}/cgroup.controllers) nor v1 cpu controller (${root}/cpu/cpu.cfs_quota_us)` });
    await mkdir(path.join(root, 'cpu', 'bench'), { recursive: true });
    await writeFile(path.join(root, 'cpu', 'cpu.cfs_quota_us'), '-1\n');
    const taken = await limitCpu(4242, 0.5, 'bench', root);
    expect(taken).toMatchObject({ applied: false, reason: expect.stringMatching(/^cgroup v1: EEXIST/) as unknown });
    // Another run's cgroup is left as it was.
    await expect(readFile(path.join(root, 'cpu', 'bench', 'cgroup.procs'), 'utf8')).rejects.toThrow('ENOENT');
  });
});
