/** What the bench scripts share about processes: free ports, RSS, readiness. */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A process's resident set, in MB (Linux /proc). */
export function rssMb(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then((s) => Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024);
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
