/**
 * How the benchmark judges its targets (bench/targets.ts): a load with failed answers fails
 * every target that reads it, whatever its figure, and the table says how many; a latency in
 * autocannon's whole milliseconds meets its limit only below it; a figure not measured, or read
 * from a load with no answers, is not met. And the bench's autocannon call (bench/loads.ts)
 * counts a request a server never answers as failed.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { autocannonArgv } from '../bench/loads.js';
import { failedAnswers, judge, measuredCell, metCell, type Load } from '../bench/targets.js';
import { REPO_ROOT } from './helpers/index.js';

const load = (over: Partial<Load> = {}): Load => ({ name: 'REST /predict', round: 0, connections: 50, requestsPerSec: 30_000, latencyMeanMs: 1, meanLatencyFromThroughputMs: 1.67, latencyP99Ms: 4, errors: 0, non2xx: 0, ...over });
const restRatio = (reads: Load[]) => judge({ target: 'REST /predict ≥ 0.5× raw node:http', value: 0.6, low: 0.55, high: 0.65, limit: 0.5, higherIsBetter: true, reads });

describe('bench targets (bench/targets.ts)', () => {
  it('meets a target whose figure is within its limit when its loads answered every request', () => {
    const t = restRatio([load({ name: 'raw node:http' }), load()]);
    expect([t.met, t.failedAnswers, measuredCell(t), metCell(t)]).toEqual([true, 0, '0.600 (0.550–0.650)', 'yes']);
  });

  it.each([
    ['non-2xx answers (a 503 or 400 refusal)', { non2xx: 7 }],
    ['connection errors and timeouts', { errors: 7 }],
    ["2xx answers that served no prediction (a GraphQL error in a 200)", { withoutPrediction: 7 }],
  ])('fails a target whose figure is within its limit when a load it reads had %s, and says how many', (_, failures) => {
    const t = restRatio([load({ name: 'raw node:http' }), load(failures)]);
    expect([t.met, t.failedAnswers, measuredCell(t), metCell(t)]).toEqual([false, 7, '0.600 (0.550–0.650) (7 failed answers)', '**no**']);
  });

  it("counts the failed answers of raw's loads against the ratios divided by them", () => {
    expect(restRatio([load({ name: 'raw node:http', errors: 1 }), load()]).met).toBe(false);
  });

  it.each([
    [9, true],
    [10, false],
  ])('meets a p99 limit of 10 ms only when autocannon reports it below 10: its %i ms is a true p99 below that + 1 ms (met: %s)', (p99, met) => {
    const t = judge({ target: 'p99 ≤ 10 ms', value: p99, low: 4, high: p99, limit: 10, higherIsBetter: false, wholeMilliseconds: true, reads: [load()] });
    expect([t.met, measuredCell(t)]).toEqual([met, `${p99} (4–${p99})`]);
  });

  it('meets any other upper limit at the limit itself', () => {
    expect(judge({ target: 'ready ≤ 1.5 s after start', value: 1.5, low: 1.5, high: 1.5, limit: 1.5, higherIsBetter: false, reads: [] }).met).toBe(true);
  });

  it('reads an RSS that could not be read as not measured, and not met', () => {
    const t = judge({ target: 'RSS under load ≤ 250 MB', value: null, low: null, high: null, limit: 250, higherIsBetter: false, reads: [load()] });
    expect([t.met, measuredCell(t), metCell(t)]).toEqual([false, 'not measured', '**no** (not measured)']);
  });

  it("reads a target from a load with no answers as not measured, and not met: autocannon's p99 of nothing is 0 ms", () => {
    const silent = load({ requestsPerSec: 0, latencyMeanMs: 0, meanLatencyFromThroughputMs: Number.POSITIVE_INFINITY, latencyP99Ms: 0 });
    const t = judge({ target: 'p99 ≤ 10 ms', value: 0, low: 0, high: 4, limit: 10, higherIsBetter: false, wholeMilliseconds: true, reads: [load(), silent] });
    expect([t.met, t.value, measuredCell(t), metCell(t)]).toEqual([false, null, 'not measured', '**no** (not measured)']);
  });

  it('adds up every kind of failed answer over the loads', () => {
    expect(failedAnswers([load({ errors: 1, non2xx: 2 }), load({ withoutPrediction: 3 }), load()])).toBe(6);
  });
});

describe("the bench's autocannon call (bench/loads.ts autocannonArgv)", () => {
  it('counts the requests of a server that never answers as failed: autocannon\'s default timeout (10 s) outlasted every load, which then read 0 errors and a p99 of 0 ms', async () => {
    const held: http.ServerResponse[] = [];
    const server = http.createServer((_req, res) => void held.push(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const { stdout } = await promisify(execFile)(process.execPath, autocannonArgv(url, '{}', 5, 2), { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 });
      const r = JSON.parse(stdout) as { requests: { total: number }; errors: number; timeouts: number };
      expect(r.requests.total).toBe(0);
      expect(r.timeouts).toBeGreaterThan(0);
      expect(r.errors).toBeGreaterThanOrEqual(r.timeouts);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }, 20_000);
});
