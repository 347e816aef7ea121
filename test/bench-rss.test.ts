/**
 * The benchmark's RSS readings (bench/process.ts) on a real process: the kernel's peak
 * (VmHWM) keeps a peak that is gone by the time anyone samples, a reset confines it to what
 * follows, and a process that cannot be read gives no figure rather than 0 MB. Linux only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { peakRssMb, resetPeakRss, rssMb } from '../bench/process.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** A node child that touches 200 MB, lets it go, and prints "ready". */
async function childThatPeaked(): Promise<number> {
  const code = "let b = Buffer.alloc(200 * 2 ** 20, 1); b = null; globalThis.gc(); console.log('ready'); setInterval(() => {}, 1000);";
  const c = spawn(process.execPath, ['--expose-gc', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(c);
  await new Promise<void>((resolve, reject) => {
    c.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    c.once('exit', (status) => reject(new Error(`child exited with ${status}`)));
  });
  return c.pid as number;
}

describe.runIf(existsSync('/proc/self/status'))('bench RSS readings (bench/process.ts)', () => {
  it("reads a peak the process no longer holds, and after a reset only what follows it", async () => {
    const pid = await childThatPeaked();
    const [now, peak] = [await rssMb(pid), await peakRssMb(pid)];
    expect((peak ?? 0) - (now ?? Infinity)).toBeGreaterThan(150);
    expect(await resetPeakRss(pid)).toBe(true);
    expect((await peakRssMb(pid)) ?? Infinity).toBeLessThan((now ?? 0) + 50);
  });

  it('gives no figure, and no error, for a process it cannot read', async () => {
    const gone = 2 ** 22 + 1; // above Linux's largest pid
    expect([await rssMb(gone), await peakRssMb(gone), await resetPeakRss(gone)]).toEqual([undefined, undefined, false]);
  });
});
