/**
 * Where the CPU went during a load, from Linux's per-thread scheduler statistics:
 * /proc/<pid>/task/<tid>/schedstat holds each thread's time on a CPU and its time runnable
 * but waiting for one (both in ns). The gateway's event loop is the thread whose id is the
 * process id; its other threads are the inference worker, V8's helpers and libuv's pool.
 *
 * The load generator shares this machine's cores with the servers, so req/s alone cannot
 * tell "the server does more work per request" from "the server waited for a core". Both
 * are read here: time on a CPU per request is the server's own cost, time waiting is the
 * contention. Off Linux (no /proc) every reading is null and the bench reports req/s only.
 */
import { readdirSync, readFileSync } from 'node:fs';

interface ThreadTimes {
  readonly runNs: number;
  readonly waitNs: number;
}

export interface Snapshot {
  readonly atNs: bigint;
  readonly threads: ReadonlyMap<number, ThreadTimes>;
}

/** Shares of one core over a window (0.87 = 87% of one core's time). */
export interface CpuShare {
  /** The process's main thread (for the servers: the event loop) on a CPU. */
  readonly mainRun: number;
  /** The main thread runnable but waiting for a CPU. */
  readonly mainWait: number;
  /** Every other thread of the process on a CPU, summed. */
  readonly otherRun: number;
}

function threadTimes(pid: number, tid: number): ThreadTimes | null {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return run === undefined || wait === undefined || Number.isNaN(run) || Number.isNaN(wait) ? null : { runNs: run, waitNs: wait };
  } catch {
    return null; // the thread ended between readdir and read
  }
}

/** The process's threads' times now; null when /proc cannot be read (not Linux, or the process is gone). */
export function snapshot(pid: number): Promise<Snapshot | null> {
  let tids: number[];
  try {
    tids = readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return Promise.resolve(null);
  }
  // Read at once beside the clock, the main thread first: reads awaited in libuv's pool came back
  // late on a busy machine, so a spinning thread read 119% of the window in a test.
  const atNs = process.hrtime.bigint();
  const threads = new Map<number, ThreadTimes>();
  for (const tid of [pid, ...tids.filter((t) => t !== pid)]) {
    const times = threadTimes(pid, tid);
    if (times) threads.set(tid, times);
  }
  return Promise.resolve(threads.has(pid) ? { atNs, threads } : null);
}

/** The shares between two snapshots of process `pid` (threads started in between count from zero). */
export function shareBetween(pid: number, before: Snapshot, after: Snapshot): CpuShare {
  const elapsedNs = Number(after.atNs - before.atNs);
  let mainRun = 0;
  let mainWait = 0;
  let otherRun = 0;
  for (const [tid, now] of after.threads) {
    const then = before.threads.get(tid) ?? { runNs: 0, waitNs: 0 };
    if (tid === pid) {
      mainRun = now.runNs - then.runNs;
      mainWait = now.waitNs - then.waitNs;
    } else {
      otherRun += now.runNs - then.runNs;
    }
  }
  return { mainRun: mainRun / elapsedNs, mainWait: mainWait / elapsedNs, otherRun: otherRun / elapsedNs };
}

/**
 * Snapshots every process in `pids` after `skipMs`, and again `windowMs` later; the shares in
 * between, or null for a process that could not be read at both ends.
 */
export async function measureWindow(pids: readonly number[], skipMs: number, windowMs: number): Promise<(CpuShare | null)[]> {
  await new Promise((r) => setTimeout(r, skipMs));
  const before = await Promise.all(pids.map(snapshot));
  await new Promise((r) => setTimeout(r, windowMs));
  const after = await Promise.all(pids.map(snapshot));
  return pids.map((pid, i) => {
    const a = before[i];
    const b = after[i];
    return a && b ? shareBetween(pid, a, b) : null;
  });
}
