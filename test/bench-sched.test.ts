/**
 * The benchmark's CPU accounting (bench/sched.ts) on real processes: a child that spins on
 * its main thread must read as busy there, a child that sleeps as idle, and a thread that
 * spins off the main thread must count as "other threads". Linux only (/proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { measureWindow, snapshot, type CpuShare } from '../bench/sched.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** A node child running `code`, resolved once it has printed "ready". */
async function child(code: string): Promise<number> {
  const c = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(c);
  await new Promise<void>((resolve, reject) => {
    c.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    c.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
  return c.pid as number;
}

const SPIN = "console.log('ready'); for (;;) {}";
const SLEEP = "console.log('ready'); setInterval(() => {}, 1000);";
const SPIN_IN_WORKER = `
const { Worker } = require('node:worker_threads');
new Worker('for (;;) {}', { eval: true }).on('online', () => console.log('ready'));
setInterval(() => {}, 1000);`;

/**
 * The shares of `pids` over windows of 600 ms, up to five, until `holds` holds for one; every window
 * read, for the failure's message. The kernel adds a thread's wait for a CPU to its schedstat only
 * when the wait ends, and a machine with ~20 runnable threads on two cores made waits of hundreds of
 * ms: a window that ends (or starts) inside one misreads it (a spinning thread read 28% and 117%
 * runnable there), and such a thread may get 6% of a core. A window like that says nothing about the
 * accounting, so another is read; accounting that is wrong is wrong in every window.
 */
async function someWindow(pids: readonly number[], holds: (shares: (CpuShare | null)[]) => boolean): Promise<{ shares: (CpuShare | null)[]; read: string }> {
  const windows: (CpuShare | null)[][] = [];
  for (let i = 0; i < 5; i++) {
    const shares = await measureWindow(pids, i === 0 ? 100 : 0, 600);
    windows.push(shares);
    if (holds(shares)) break;
  }
  return { shares: windows.at(-1) ?? [], read: JSON.stringify(windows) };
}

describe.runIf(existsSync('/proc/self/task'))('bench CPU accounting (bench/sched.ts)', () => {
  it('reads a spinning main thread as busy and a sleeping one as idle', async () => {
    const [spinning, sleeping] = await Promise.all([child(SPIN), child(SLEEP)]);
    // A spinning thread is always runnable: on a CPU or waiting for one, however loaded the
    // machine is (the test runner's other files included).
    const runnable = (busy: CpuShare | null | undefined) => (busy?.mainRun ?? 0) + (busy?.mainWait ?? 0);
    const expected = ([busy, idle]: (CpuShare | null)[]) =>
      runnable(busy) > 0.9 && runnable(busy) < 1.1 && (busy?.mainRun ?? 0) > 0.1 && (idle?.mainRun ?? 1) < 0.05 && (idle?.otherRun ?? 1) < 0.05;
    const { shares, read } = await someWindow([spinning, sleeping], expected);
    const [busy, idle] = shares;
    expect(runnable(busy), read).toBeGreaterThan(0.9);
    expect(runnable(busy), read).toBeLessThan(1.1);
    expect(busy?.mainRun, read).toBeGreaterThan(0.1);
    expect(idle?.mainRun, read).toBeLessThan(0.05);
    expect(idle?.otherRun, read).toBeLessThan(0.05);
  }, 30_000);

  it("counts a busy worker thread as the process's other threads, not its main thread", async () => {
    const pid = await child(SPIN_IN_WORKER);
    const { shares, read } = await someWindow([pid], ([share]) => (share?.otherRun ?? 0) > 0.1 && (share?.mainRun ?? 1) < 0.05);
    const [share] = shares;
    expect(share?.otherRun, read).toBeGreaterThan(0.1);
    expect(share?.mainRun, read).toBeLessThan(0.05);
  }, 30_000);

  it('reads null for a process that is gone', async () => {
    const c = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => c.once('exit', r));
    expect(await snapshot(c.pid as number)).toBeNull();
  });
});
