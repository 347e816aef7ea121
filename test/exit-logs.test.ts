/**
 * The process's last log lines reach stdout, in order, even when its log reader is behind.
 *
 * In a container stdout is a pipe to the log driver. When the driver reads slower than the
 * gateway writes, the pipe fills and the gateway's (asynchronous) log stream holds a chunk it
 * keeps retrying. An exit then wrote the lines behind that chunk and ended the process without
 * it: access lines were lost, and what was written came out of order.
 */
import { once } from 'node:events';
import { get } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { EXIT_LOG_WAIT_MS } from '../src/logger.js';
import { LEGACY_PAYLOAD, REPO_ROOT, spawnGateway, type SpawnedGateway } from './helpers/index.js';

const REQUESTS = 3000;

/** Sends REQUESTS single predictions, 16 at a time, with these request ids. */
async function predictions(gw: SpawnedGateway, ids: readonly string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < ids.length; i = next++) {
      const res = await fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': ids[i] as string }, body: JSON.stringify(LEGACY_PAYLOAD) });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/** The child's exit code and the ms from now until it exited (its 'exit', which does not wait for stdout to be read), or 'still running' after `ms`. */
async function exitWithin(gw: SpawnedGateway, ms: number): Promise<{ code: number | null; afterMs: number } | 'still running'> {
  const from = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)));
  const exited = once(gw.child, 'exit').then(([code]) => ({ code: code as number | null, afterMs: Date.now() - from }));
  const result = await Promise.race([exited, late]);
  clearTimeout(timer);
  return result;
}

describe('exit with a log reader behind', () => {
  it('writes every access line and the shutdown lines, in order, before exiting', async () => {
    const gw = await spawnGateway({ SHUTDOWN_TIMEOUT_MS: '5000' });
    // The reader stops: the pipe (64 KiB) fills with far less than REQUESTS access lines (~230 bytes each).
    gw.child.stdout.pause();
    const ids = Array.from({ length: REQUESTS }, (_, i) => `exit-log-${i}`);
    await predictions(gw, ids);
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

  it('exits with its code after EXIT_LOG_WAIT_MS when the reader never reads again (the lines it did not take are dropped)', async () => {
    const gw = await spawnGateway({ SHUTDOWN_TIMEOUT_MS: '5000' });
    gw.child.stdout.pause();
    await predictions(gw, Array.from({ length: REQUESTS }, (_, i) => `stuck-${i}`));
    gw.child.kill('SIGTERM');
    // pino's exit flush retried the full pipe for ever: the task stayed up until ECS's SIGKILL.
    const exit = await exitWithin(gw, EXIT_LOG_WAIT_MS + 15_000);
    if (exit === 'still running') gw.child.kill('SIGKILL');
    gw.child.stdout.resume();
    expect(exit).toEqual({ code: 0, afterMs: expect.any(Number) as number });
  }, 60_000);

  it('does not wait out EXIT_LOG_WAIT_MS when the reader keeps up', async () => {
    const gw = await spawnGateway({});
    gw.child.kill('SIGTERM');
    const exit = await exitWithin(gw, 30_000);
    expect(exit).toEqual({ code: 0, afterMs: expect.any(Number) as number });
    expect(exit !== 'still running' && exit.afterMs).toBeLessThan(EXIT_LOG_WAIT_MS);
  }, 60_000);

  it('after an uncaught exception, takes no new requests and exits within EXIT_LOG_WAIT_MS though the reader never reads again', async () => {
    const gw = await spawnGateway({}, { nodeArgs: ['--import', `${REPO_ROOT}test/fixtures/throw-on-sigusr2.mjs`] });
    gw.child.stdout.pause();
    await predictions(gw, Array.from({ length: REQUESTS }, (_, i) => `before-uncaught-${i}`));
    // A request in flight at the exception: its body has not arrived in full yet.
    const body = JSON.stringify(LEGACY_PAYLOAD);
    const inFlight = connect(Number(new URL(gw.url).port), '127.0.0.1');
    await once(inFlight, 'connect');
    let answer = '';
    inFlight.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    inFlight.on('error', () => undefined);
    const inFlightClosed = once(inFlight, 'close');
    inFlight.write(`POST /predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`);
    const healthCheck = (timeout = 1000) =>
      new Promise<number | string>((resolve) => {
        const req = get(`${gw.url}/`, { agent: false, timeout }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 'no status');
        });
        req.on('timeout', () => req.destroy(new Error(`no answer within ${timeout} ms`)));
        req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      });
    // The request is in flight before the exception: a health check on a connection opened after
    // it is answered only once the gateway has accepted both (in order) and read what each had
    // sent. (A fixed 100 ms could pass, on a loaded machine, before the gateway had even accepted
    // it: the exception then closed the listener on a connection it never answered.) On a new
    // connection (agent: false), not one of the pool the predictions used.
    expect(await healthCheck(30_000)).toBe(200);
    gw.child.kill('SIGUSR2');
    // pino's fatal() flushed the full pipe synchronously, every 100 ms for as long as it stayed
    // full: the process hung inside the log call, answering nothing and never exiting.
    const exit = exitWithin(gw, EXIT_LOG_WAIT_MS + 15_000);
    // While it waits for its last lines, a health check on a new connection was answered 200.
    // Asked until refused, for most of that wait (the exception is handled a moment after the signal).
    const askUntil = Date.now() + EXIT_LOG_WAIT_MS - 1000;
    let health = await healthCheck();
    while (health !== 'ECONNREFUSED' && Date.now() < askUntil) {
      await new Promise((r) => setTimeout(r, 50));
      health = await healthCheck();
    }
    // The request in flight is still answered, saying `connection: close`: the caller (the ALB)
    // sends its next request on another connection, to another task, not to one about to exit.
    inFlight.write(body.slice(10));
    await Promise.race([inFlightClosed, exit]);
    const exited = await exit;
    if (exited === 'still running') gw.child.kill('SIGKILL');
    gw.child.stdout.resume();
    expect(health).toBe('ECONNREFUSED');
    const head = (answer.split('\r\n\r\n')[0] ?? '').toLowerCase().split('\r\n');
    expect(head[0]).toBe('http/1.1 200 ok');
    expect(head).toContain('connection: close');
    expect(exited).toEqual({ code: 1, afterMs: expect.any(Number) as number });
  }, 60_000);

  it('logs an uncaught exception as its last line, fatal, and exits 1', async () => {
    const gw = await spawnGateway({}, { nodeArgs: ['--import', `${REPO_ROOT}test/fixtures/throw-on-sigusr2.mjs`] });
    gw.child.kill('SIGUSR2');
    expect(await gw.exited).toBe(1);
    const last = JSON.parse(gw.stdout().trim().split('\n').at(-1) as string) as Record<string, unknown>;
    expect(last).toMatchObject({ level: 'fatal', msg: 'uncaught exception; exiting', err: 'test: an exception nothing caught' });
  }, 60_000);
});
