/**
 * The benchmark's CPU accounting (bench/sched.ts) on real processes: a child that spins on
 * its main thread must read as busy there, a child that sleeps as idle, and a thread that
 * spins off the main thread must count as "other threads". Linux only (/proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { measureWindow, snapshot } from '../bench/sched.js';

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

describe.runIf(existsSync('/proc/self/task'))('bench CPU accounting (bench/sched.ts)', () => {
  it('reads a spinning main thread as busy and a sleeping one as idle', async () => {
    const [spinning, sleeping] = await Promise.all([child(SPIN), child(SLEEP)]);
    const [busy, idle] = await measureWindow([spinning, sleeping], 100, 600);
    // A spinning thread is always runnable: on a CPU or waiting for one, however loaded the
    // machine is (the test runner's other files included).
    const runnable = (busy?.mainRun ?? 0) + (busy?.mainWait ?? 0);
    expect(runnable).toBeGreaterThan(0.9);
    expect(runnable).toBeLessThan(1.1);
    expect(busy?.mainRun).toBeGreaterThan(0.1);
    expect(idle?.mainRun).toBeLessThan(0.05);
    expect(idle?.otherRun).toBeLessThan(0.05);
  });

  it("counts a busy worker thread as the process's other threads, not its main thread", async () => {
    const pid = await child(SPIN_IN_WORKER);
    const [share] = await measureWindow([pid], 100, 600);
    expect(share?.otherRun).toBeGreaterThan(0.1);
    expect(share?.mainRun).toBeLessThan(0.05);
  });

  it('reads null for a process that is gone', async () => {
    const c = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => c.once('exit', r));
    expect(await snapshot(c.pid as number)).toBeNull();
  });
});
