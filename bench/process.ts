/** What the bench scripts share about processes: free ports, RSS, readiness, built gateways, options. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A field of /proc/<pid>/status in MB; undefined when it cannot be read (not Linux, the process gone), never 0. */
async function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number | undefined> {
  try {
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/** A process's resident set now, in MB; undefined when it cannot be read. */
export function rssMb(pid: number): Promise<number | undefined> {
  return statusMb(pid, 'VmRSS');
}

/** A process's peak resident set (VmHWM) since it started or since resetPeakRss, in MB; undefined when it cannot be read. */
export function peakRssMb(pid: number): Promise<number | undefined> {
  return statusMb(pid, 'VmHWM');
}

/**
 * Sets a process's peak resident set back to its resident set now (Linux ≥ 4.0: 5 written to
 * /proc/<pid>/clear_refs, allowed for one's own children), so peakRssMb reads the peak of what
 * follows and not an earlier phase's; false when it could not.
 */
export async function resetPeakRss(pid: number): Promise<boolean> {
  try {
    await writeFile(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Waits until `url` answers 200; returns how long that took, in ms. */
export async function waitFor200(url: string, deadlineMs = 30_000): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < deadlineMs) {
    const ok = await fetch(url).then((r) => r.status === 200, () => false);
    if (ok) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${url} not ready`);
}

export interface BuiltGateway {
  readonly url: string;
  readonly child: ChildProcess;
  readonly pid: number;
}

/**
 * Starts `node dist/src/main.js` of the built checkout `dir` on `onPort` (a free port when not
 * given) with `env`; resolves once GET / answers 200. A gateway that exits first, or is not ready in 30 s, is
 * stopped and reported with the end of what it wrote to stderr.
 */
export async function startBuiltGateway(dir: string, env: Readonly<Record<string, string>>, onPort?: number): Promise<BuiltGateway> {
  const port = onPort ?? (await freePort());
  const child = spawn(process.execPath, ['dist/src/main.js'], { cwd: dir, env: { PATH: process.env['PATH'] ?? '', ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exitedEarly = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`${dir}: the gateway exited (${signal ?? code}) before it was ready: ${stderr.trim()}`)));
  });
  exitedEarly.catch(() => undefined); // an exit after readiness is not this function's to report
  const url = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([waitFor200(`${url}/`), exitedEarly]);
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
  if (child.pid === undefined) throw new Error(`${dir}: the gateway has no pid`);
  return { url, child, pid: child.pid };
}

/** SIGTERM, then resolves once the process has exited (at once when it already has). */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}
