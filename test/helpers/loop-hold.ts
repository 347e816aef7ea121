/**
 * How long a request held the event loop of a gateway running in this test process
 * (startTestGateway): the longest delay the loop saw while the request was answered.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { afterAll, beforeAll } from 'vitest';

export interface LoopHold {
  /**
   * The least hold in ms (a busy machine only adds to a hold), with the last answer, of each of
   * several requests whose holds are compared, taken in turns (`send(0)` of each to warm up, then
   * `tries` rounds of one of each): a busy machine's slow moment then falls on all of them alike,
   * not on whichever was measured during it.
   */
  leastOfEach<K extends string, T>(sends: Readonly<Record<K, (attempt: number) => Promise<T>>>, tries?: number): Promise<Record<K, { ms: number; answer: T }>>;
}

/** Watches the event loop for the suite it is called in (from beforeAll to afterAll). */
export function watchLoopHolds(): LoopHold {
  let histogram: IntervalHistogram | null = null;
  beforeAll(() => {
    histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
  });
  afterAll(() => histogram?.disable());
  return {
    async leastOfEach<K extends string, T>(sends: Readonly<Record<K, (attempt: number) => Promise<T>>>, tries = 3) {
      if (!histogram) throw new Error('watchLoopHolds() must be called at the top of a test file or describe block');
      const keys = Object.keys(sends) as K[];
      const result = {} as Record<K, { ms: number; answer: T }>;
      for (const key of keys) result[key] = { ms: Infinity, answer: await sends[key](0) };
      for (let attempt = 1; attempt <= tries; attempt++) {
        for (const key of keys) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          histogram.reset();
          const answer = await sends[key](attempt);
          result[key] = { ms: Math.min(result[key].ms, histogram.max / 1e6), answer };
        }
      }
      return result;
    },
  };
}
