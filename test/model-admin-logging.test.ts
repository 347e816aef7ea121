/**
 * How ModelAdmin logs a reload that fails: a poll's load that fails as the last one did is logged
 * at debug (the artifact store down would otherwise write an error line per poll), a reloadModel's
 * failure always at error (docs/mlflow.md). The source here is a stand-in whose load fails on
 * demand, so that a reloadModel can be made to join a poll's follow-up check deterministically;
 * the failures themselves against a real MLflow are in test/mlflow-faults.test.ts. Also: a
 * reload that shutdown cancels while its candidate is being created.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleError } from '../src/errors.js';
import { REJECTED_RETRY_POLLS, type LoadOptions, type ModelSource } from '../src/model/model-admin.js';
import type { ChurnModel } from '../src/model/churn-model.js';
import { loadBundleModel } from '../src/model/startup.js';
import { adminOver } from './helpers/admin-over.js';
import { BUNDLE_DIR, startTestGateway, type TestGateway } from './helpers/index.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

/** A source naming version 9 (`serving` is its 5) whose every load waits for its gate to be opened, then ends as `then` does. */
function gatedSource(serving: ChurnModel, then: () => Promise<ChurnModel>) {
  const gates: (() => void)[] = [];
  const source: ModelSource = {
    description: 'models:/telco-churn@champion on http://mlflow.test',
    publicDescription: 'models:/telco-churn@champion',
    peek: () => Promise.resolve({ identity: '9', runId: null }),
    identify: (model) => (model === serving ? '5' : null),
    load: async (options?: LoadOptions) => {
      options?.onIdentity?.({ identity: '9', runId: null });
      await new Promise<void>((open) => gates.push(open));
      return then();
    },
  };
  return { source, openNext: () => gates.shift()?.() };
}

/** A gated source whose every load fails alike. */
const failingSource = (serving: ChurnModel) => gatedSource(serving, () => Promise.reject(new Error('the artifact store is down')));

/** adminOver failingSource: every load fails. */
async function adminOverFailingSource() {
  const serving = gw.slot.current;
  const { source, openNext } = failingSource(serving);
  return { ...(await adminOver(source, serving)), openNext };
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

describe('a version that failed verification, while the source still names it', () => {
  it(`is loaded again at every ${REJECTED_RETRY_POLLS}th poll only, its unchanged failure logged at error once and then at debug`, async () => {
    const serving = gw.slot.current;
    let loads = 0;
    const source: ModelSource = {
      description: 'models:/telco-churn/9 on http://mlflow.test',
      publicDescription: 'models:/telco-churn/9',
      peek: () => Promise.resolve({ identity: '9', runId: 'r9' }),
      identify: (model) => (model === serving ? '5' : null),
      load: (options?: LoadOptions) => {
        loads++;
        options?.onIdentity?.({ identity: '9', runId: 'r9' });
        return Promise.reject(new BundleError('model.onnx of run r9 has sha256 5efe…, but the manifest says 9a26…'));
      },
    };
    const { admin, lines } = await adminOver(source, serving);
    const loadsAtPoll: number[] = [];
    for (let poll = 1; poll <= 2 * REJECTED_RETRY_POLLS + 1; poll++) {
      await admin.checkForUpdate();
      loadsAtPoll.push(loads);
    }
    // Polls 1, N+1 and 2N+1 load it; the others pass over it.
    expect(loadsAtPoll).toEqual(Array.from({ length: 2 * REJECTED_RETRY_POLLS + 1 }, (_, i) => 1 + Math.floor(i / REJECTED_RETRY_POLLS)));
    const rejected = lines.filter((l) => l['msg'] === 'model reload rejected; the current model keeps serving');
    expect(rejected.map((l) => l['level'])).toEqual(['error', 'debug', 'debug']);
    // This admin's poller was never started (MLFLOW_POLL_INTERVAL_MS=0): no poll will load the fixed bundle.
    expect(admin.noticeFor(serving)?.summary).toMatch(/^Since [^,]+, models:\/telco-churn\/9 names 9, which could not be loaded \(MODEL_BUNDLE_INVALID\); the packaged bundle \(model version \S+\) keeps serving\.$/);
    expect(admin.noticeFor(serving)?.detail).toMatch(/\(MODEL_BUNDLE_INVALID: [^]*\); this gateway does not poll \(MLFLOW_POLL_INTERVAL_MS=0\): once its bundle is fixed in MLflow, call reloadModel on each task, or restart them; the packaged bundle \(model version \S+\) keeps serving\.$/);
    // A reloadModel in between is someone asking: it loads it at once, and its failure is logged at error.
    await expect(admin.reload('reloadModel mutation')).rejects.toBeInstanceOf(BundleError);
    expect(loads).toBe(4);
    expect(lines.filter((l) => l['msg'] === 'model reload rejected; the current model keeps serving').at(-1)?.['level']).toBe('error');
  });
});

describe('a reloadModel past its deadline', () => {
  it('is answered that it timed out and that the poller loads the version at its next check, and logged as cancelled, not rejected', async () => {
    const { admin, lines, openNext } = await adminOverFailingSource();
    admin.startPolling(3_600_000); // no poll comes within the test: the interval only says that one will
    try {
      const answer = admin.reload('reloadModel mutation', { deadlineMs: 20 });
      await expect(answer).rejects.toMatchObject({
        goesOn: false,
        message: expect.stringMatching(/^no answer within 20 ms .*; the reload was cancelled and swaps nothing in \(the poller, which has no deadline, loads what the source names at its next check\)$/) as unknown,
      });
      openNext(); // the cancelled load ends
      await admin.settled();
      expect(lines.filter((l) => l['msg'] === 'model reload rejected; the current model keeps serving')).toEqual([]);
      expect(lines.filter((l) => l['msg'] === 'model reload cancelled after its deadline; the current model keeps serving').map((l) => l['level'])).toEqual(['warn']);
    } finally {
      admin.close();
    }
  });
});

describe('shutdown (close) while a reload creates its candidate', () => {
  it('lets the candidate finish (no exit inside onnxruntime), then releases it instead of swapping it in, logged at info', async () => {
    const serving = gw.slot.current;
    let candidate: ChurnModel | null = null;
    // Past MLflow's calls: the candidate's ONNX session is being created (until the gate opens), which no signal stops.
    const { source, openNext: finishCreating } = gatedSource(serving, async () => (candidate = await loadBundleModel(BUNDLE_DIR)));
    const { admin, slot, lines, metrics } = await adminOver(source, serving);
    const poll = admin.reload('poll', { byPoller: true });
    await new Promise((r) => setTimeout(r, 20));
    admin.close();
    const settled = admin.settled().then(() => 'settled');
    expect(await Promise.race([settled, new Promise((r) => setTimeout(() => r('still creating'), 200))])).toBe('still creating');
    finishCreating();
    expect(await settled).toBe('settled');
    await expect(poll).rejects.toThrow(/the gateway is shutting down; the reload was cancelled/);
    expect(slot.current).toBe(serving);
    expect(candidate).not.toBeNull();
    await expect((candidate as unknown as ChurnModel).predictRows([])).rejects.toThrow(/was released/);
    expect(lines.filter((l) => String(l['msg']).startsWith('model reload')).map((l) => [l['level'], l['msg']])).toEqual([
      ['info', 'model reload cancelled: the gateway is shutting down; its candidate was released'],
    ]);
    // Counted as cancelled, which the metric's help must say covers shutdown too (it said "past its deadline" only).
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^gateway_model_reloads_total\{result="cancelled"\} 1$/m);
    expect(text).toMatch(/^# HELP gateway_model_reloads_total .*cancelled \([^)]*at shutdown\)/m);
  });
});
