/**
 * How ModelAdmin logs a reload that fails: a poll's load that fails as the last one did is logged
 * at debug (the artifact store down would otherwise write an error line per poll), a reloadModel's
 * failure always at error (docs/mlflow.md). The source here is a stand-in whose load fails on
 * demand, so that a reloadModel can be made to join a poll's follow-up check deterministically;
 * the failures themselves against a real MLflow are in test/mlflow-faults.test.ts.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { GatewayMetrics } from '../src/metrics.js';
import { ModelAdmin, type LoadOptions, type ModelSource } from '../src/model/model-admin.js';
import { ModelSlot } from '../src/model/model-slot.js';
import type { ChurnModel } from '../src/model/churn-model.js';
import { startTestGateway, type TestGateway } from './helpers/index.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

/** A source naming version 9 whose every load fails alike, each once its gate is opened. */
function failingSource(serving: ChurnModel) {
  const gates: (() => void)[] = [];
  const source: ModelSource = {
    description: 'models:/telco-churn@champion on http://mlflow.test',
    peek: () => Promise.resolve('9'),
    identify: (model) => (model === serving ? '5' : null),
    load: async (options?: LoadOptions) => {
      options?.onIdentity?.('9');
      await new Promise<void>((open) => gates.push(open));
      throw new Error('the artifact store is down');
    },
  };
  return { source, openNext: () => gates.shift()?.() };
}

/** A ModelAdmin serving the test gateway's model, over failingSource, logging at debug into `lines`. */
async function adminOverFailingSource() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const serving = gw.slot.current;
  const slot = new ModelSlot();
  await slot.swap(serving); // nothing swaps it out (every load fails); the test gateway releases it
  const { source, openNext } = failingSource(serving);
  return { admin: new ModelAdmin(slot, source, createLogger('debug', destination), new GatewayMetrics()), lines, openNext };
}

describe('a failed reload', () => {
  it("is logged at error for a reloadModel that joined a poll's follow-up check, which fails as the poll before it did", async () => {
    const { admin, lines, openNext } = await adminOverFailingSource();

    const poll = admin.reload('poll', { byPoller: true });
    const pollFollowUp = admin.reload('poll', { byPoller: true });
    const operator = admin.reload('reloadModel');
    const settled = Promise.allSettled([poll, pollFollowUp, operator]);
    openNext(); // the first poll's load fails
    await poll.catch(() => undefined);
    openNext(); // the follow-up, shared by the second poll and the reloadModel, fails alike
    const outcomes = await settled;
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);

    const rejected = lines.filter((l) => l['msg'] === 'model reload rejected; the current model keeps serving');
    expect(rejected.map((l) => [l['level'], l['reason'], l['candidate']])).toEqual([
      ['error', 'poll', '9'],
      ['error', 'poll', '9'],
    ]);
  });

  it("is logged at debug for a poll's follow-up check that fails as the poll before it did, when no reloadModel joined it", async () => {
    const { admin, lines, openNext } = await adminOverFailingSource();

    const poll = admin.reload('poll', { byPoller: true });
    const pollFollowUp = admin.reload('poll', { byPoller: true });
    const settled = Promise.allSettled([poll, pollFollowUp]);
    openNext();
    await poll.catch(() => undefined);
    openNext();
    await settled;

    const rejected = lines.filter((l) => l['msg'] === 'model reload rejected; the current model keeps serving');
    expect(rejected.map((l) => l['level'])).toEqual(['error', 'debug']);
  });
});
