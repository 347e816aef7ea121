/**
 * The flood of bench/health-checks.ts, in a process of its own (forked by it, never run by hand)
 * so that the health checker's event loop, which times the checks, does none of the callers' work.
 * Receives one FloodOrder over IPC, has `callers` callers post `body` to `url` + `path` in a loop
 * for `seconds` s, each on its own keep-alive connection, posting again as soon as it is answered
 * (a refused caller does not wait for Retry-After, and reconnects at once after a `connection:
 * close`), and answers with the count of answers by status and of connection errors by code.
 */
import http from 'node:http';

export interface FloodOrder {
  readonly url: string;
  readonly path: string;
  readonly body: string;
  readonly callers: number;
  readonly seconds: number;
}

/** Answers by HTTP status ("200", "503", …) and connection errors by code ("ECONNRESET", …). */
export type FloodCounts = Record<string, number>;

function flood(order: FloodOrder): Promise<FloodCounts> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: order.callers });
  const counts: FloodCounts = {};
  const count = (key: string) => (counts[key] = (counts[key] ?? 0) + 1);
  const end = performance.now() + order.seconds * 1000;
  const post = () =>
    new Promise<void>((resolve) => {
      const req = http.request(`${order.url}${order.path}`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => {
          count(String(res.statusCode));
          resolve();
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        count(err.code ?? err.message);
        resolve();
      });
      req.end(order.body);
    });
  const caller = async () => {
    while (performance.now() < end) await post();
  };
  return Promise.all(Array.from({ length: order.callers }, caller)).then(() => {
    agent.destroy();
    return counts;
  });
}

process.once('message', (order: FloodOrder) => {
  void flood(order).then((counts) => process.send?.(counts, () => process.exit(0)));
});
