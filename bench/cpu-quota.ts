/**
 * A CPU quota for a process the bench started (`--cpu 0.5`: half a CPU, as Fargate gives a
 * 512-unit task), through a Linux cgroup: v1's cpu controller (cpu.cfs_quota_us over
 * cpu.cfs_period_us) or v2's cpu.max. It needs a writable cgroup file system (root, or a
 * delegated subtree); where there is none the caller is told why and runs without a quota,
 * so a number measured without it is never read as one measured under it.
 */
import { access, mkdir, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The scheduler's period the quota is a share of: the kernel's default, 100 ms. */
export const CPU_PERIOD_US = 100_000;
/** The smallest quota the kernel accepts (1 ms per period), so the smallest --cpu is 0.01. */
const MIN_QUOTA_US = 1_000;

/** `text` as a number of CPUs from 0.01 to `cores`, or what is wrong with it. */
export function parseCpus(text: string, cores: number): { cpus: number } | { problem: string } {
  const cpus = Number(text);
  const min = MIN_QUOTA_US / CPU_PERIOD_US;
  if (text.trim() === '' || !Number.isFinite(cpus) || cpus < min || cpus > cores) return { problem: `--cpu: a number of CPUs from ${min} to ${cores} (this machine's); got "${text}"` };
  return { cpus };
}

/** The quota for `cpus` CPUs, in microseconds of CPU time per CPU_PERIOD_US. */
export function quotaUs(cpus: number): number {
  return Math.round(cpus * CPU_PERIOD_US);
}

export type CpuLimit =
  | {
      readonly applied: true;
      /** Where the quota was written, e.g. `cgroup v1 /sys/fs/cgroup/cpu/…: 50000/100000 µs`. */
      readonly how: string;
      /** Removes the cgroup once the process has exited (a cgroup with a process in it cannot be removed). */
      readonly release: () => Promise<void>;
    }
  | { readonly applied: false; readonly reason: string };

const exists = (file: string): Promise<boolean> =>
  access(file).then(
    () => true,
    () => false,
  );

/**
 * Moves `pid` (with all its threads: the inference worker's and V8's share the quota, as in a
 * task) into a new cgroup `name` limited to `cpus` CPUs. Never throws: a cgroup file system that
 * is missing or read-only gives `applied: false` with the error.
 */
export async function limitCpu(pid: number, cpus: number, name: string, root = '/sys/fs/cgroup'): Promise<CpuLimit> {
  const quota = quotaUs(cpus);
  const v2 = await exists(path.join(root, 'cgroup.controllers'));
  const dir = v2 ? path.join(root, name) : path.join(root, 'cpu', name);
  if (!v2 && !(await exists(path.join(root, 'cpu', 'cpu.cfs_quota_us')))) return { applied: false, reason: `no cgroup v2 (${root}/cgroup.controllers) nor v1 cpu controller (${root}/cpu/cpu.cfs_quota_us)` };
  let made = false;
  try {
    if (v2) await writeFile(path.join(root, 'cgroup.subtree_control'), '+cpu');
    await mkdir(dir);
    made = true;
    if (v2) await writeFile(path.join(dir, 'cpu.max'), `${quota} ${CPU_PERIOD_US}`);
    else {
      await writeFile(path.join(dir, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
      await writeFile(path.join(dir, 'cpu.cfs_quota_us'), String(quota));
    }
    await writeFile(path.join(dir, 'cgroup.procs'), String(pid));
  } catch (err) {
    if (made) await rmdir(dir).catch(() => undefined);
    return { applied: false, reason: `${v2 ? 'cgroup v2' : 'cgroup v1'}: ${err instanceof Error ? err.message : String(err)}` };
  }
  return { applied: true, how: `cgroup ${v2 ? 'v2' : 'v1'} ${dir}: ${quota}/${CPU_PERIOD_US} µs`, release: () => rmdir(dir).catch(() => undefined) };
}
