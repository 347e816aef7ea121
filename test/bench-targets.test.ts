/**
 * How the benchmark judges its targets (bench/targets.ts): a load with failed answers fails
 * every target that reads it, whatever its figure, and the table says how many.
 */
import { describe, expect, it } from 'vitest';
import { failedAnswers, judge, measuredCell, metCell, type Load } from '../bench/targets.js';

const load = (over: Partial<Load> = {}): Load => ({ name: 'REST /predict', round: 0, connections: 50, requestsPerSec: 30_000, latencyMeanMs: 1, latencyP99Ms: 4, errors: 0, non2xx: 0, ...over });
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

  it('adds up every kind of failed answer over the loads', () => {
    expect(failedAnswers([load({ errors: 1, non2xx: 2 }), load({ withoutPrediction: 3 }), load()])).toBe(6);
  });
});
