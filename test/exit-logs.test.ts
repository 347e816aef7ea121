/**
 * The process's last log lines reach stdout, in order, even when its log reader is behind.
 *
 * In a container stdout is a pipe to the log driver. When the driver reads slower than the
 * gateway writes, the pipe fills and the gateway's (asynchronous) log stream holds a chunk it
 * keeps retrying. An exit then wrote the lines behind that chunk and ended the process without
 * it: access lines were lost, and what was written came out of order.
 */
import { describe, expect, it } from 'vitest';
import { LEGACY_PAYLOAD, spawnGateway } from './helpers/index.js';

const REQUESTS = 3000;

describe('exit with a log reader behind', () => {
  it('writes every access line and the shutdown lines, in order, before exiting', async () => {
    const gw = await spawnGateway({ SHUTDOWN_TIMEOUT_MS: '5000' });
    // The reader stops: the pipe (64 KiB) fills with far less than REQUESTS access lines (~230 bytes each).
    gw.child.stdout.pause();
    const ids = Array.from({ length: REQUESTS }, (_, i) => `exit-log-${i}`);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < ids.length; i = next++) {
        const res = await fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': ids[i] as string }, body: JSON.stringify(LEGACY_PAYLOAD) });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    gw.child.kill('SIGTERM');
    // The reader catches up only after the gateway has finished its shutdown and wants to exit.
    await new Promise((r) => setTimeout(r, 1000));
    gw.child.stdout.resume();
    expect(await gw.exited).toBe(0);

    const lines = gw
      .stdout()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { msg: string; reqId?: string });
    const logged = lines.filter((l) => l.msg === 'request').map((l) => l.reqId);
    expect(logged.length).toBe(REQUESTS);
    expect(new Set(logged)).toEqual(new Set(ids));
    const msgs = lines.map((l) => l.msg);
    expect(msgs.indexOf('shutting down: draining')).toBeGreaterThan(msgs.lastIndexOf('request'));
    expect(msgs.at(-1)).toBe('stopped');
  }, 60_000);
});
