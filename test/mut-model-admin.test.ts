/**
 * ModelAdmin's poll and reload bookkeeping, judged by mutants that passed every fast test before
 * (each test names the mutant of src/model/model-admin.ts it kills). The source is a stand-in,
 * as in test/model-admin-logging.test.ts: the gateway's own ModelAdmin, ModelSlot and models, a
 * hand-made ModelSource whose peek and load answer as each test says. No timing margin decides a
 * result: gates are opened once a load is known to wait on them, and a deadline's answer is awaited.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleError, NotReadyError } from '../src/errors.js';
import { MlflowError } from '../src/mlflow/client.js';
import { REJECTED_RETRY_POLLS, ReloadTimeoutError, type ModelAdmin, type LoadOptions, type ModelSource, type Named } from '../src/model/model-admin.js';
import { ChurnModel, lineageFromManifest } from '../src/model/churn-model.js';
import { readBundleDir, verifyBundle } from '../src/bundle/load.js';
import { loadBundleModel } from '../src/model/startup.js';
import { adminOver } from './helpers/admin-over.js';
import { BUNDLE_DIR, startTestGateway, type TestGateway } from './helpers/index.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

const URL = 'http://mlflow.test/api/2.0/mlflow/registered-models/alias';
/** MLflow unreachable (no answer): MLFLOW_UNAVAILABLE. */
const unreachable = (why = 'connect ECONNREFUSED 10.0.0.5:5000') => new MlflowError(URL, 'alias champion', null, null, `MLflow at http://mlflow.test is unreachable (${why})`);
/** MLflow answered that it is not there: MLFLOW_NOT_FOUND. */
const notThere = (what: string) => new MlflowError(URL, what, 404, 'RESOURCE_DOES_NOT_EXIST', `MLflow answered 404 RESOURCE_DOES_NOT_EXIST for ${what}`);
const badBundle = () => new BundleError('model.onnx of run r9 has sha256 5efe…, but the manifest says 9a26…');

/**
 * A source serving version 5 (the test gateway's model). `peek` answers what `state.names` says
 * (or throws `state.peekFails`); every load reports `state.names` as its identity and then ends as
 * `state.load` says. `gated`: each load waits until `openNext()`; `loadWaiting()` resolves once one does.
 */
function scriptedSource(serving: ChurnModel, gated = false) {
  const state: { names: Named; peekFails: Error | null; load: (named: Named) => Promise<ChurnModel>; loads: string[] } = {
    names: { identity: '9', runId: 'r9' },
    peekFails: null,
    load: () => Promise.reject(badBundle()),
    loads: [],
  };
  const gates: (() => void)[] = [];
  const source: ModelSource = {
    description: 'models:/telco-churn@champion on http://mlflow.test',
    publicDescription: 'models:/telco-churn@champion',
    peek: () => (state.peekFails === null ? Promise.resolve(state.names) : Promise.reject(state.peekFails)),
    identify: (model) => (model === serving ? '5' : null),
    load: async (options?: LoadOptions) => {
      const named = state.names;
      state.loads.push(named.identity);
      options?.onIdentity?.(named);
      if (gated) await new Promise<void>((open) => gates.push(open));
      return state.load(named);
    },
  };
  const loadWaiting = async () => {
    while (gates.length === 0) await sleep(5);
  };
  const openNext = async () => {
    await loadWaiting();
    gates.shift()?.();
  };
  return { source, state, openNext, loadWaiting };
}

/** A ModelAdmin serving the test gateway's model over a scripted source, logging at debug into `lines`. */
async function scriptedAdmin(gated = false, serving: ChurnModel = gw.slot.current) {
  const scripted = scriptedSource(serving, gated);
  return { ...scripted, ...(await adminOver(scripted.source, serving)), serving };
}

/** The number of loads after each of `polls` checks. */
async function loadsPerPoll(admin: ModelAdmin, state: { loads: string[] }, polls: number): Promise<number[]> {
  const counts: number[] = [];
  for (let i = 0; i < polls; i++) {
    await admin.checkForUpdate();
    counts.push(state.loads.length);
  }
  return counts;
}

describe('the poller and a version that failed verification', () => {
  // Kills: `this.rejected.skipped = 0` dropped in follow(). A retry that fails otherwise (MLflow
  // down) does not reset the count, so every poll after the REJECTED_RETRY_POLLS-th downloaded the bundle.
  it(`waits another ${REJECTED_RETRY_POLLS} polls after a retry that failed otherwise (MLflow unreachable)`, async () => {
    const { admin, state } = await scriptedAdmin();
    let first = true;
    state.load = () => {
      const err = first ? badBundle() : unreachable();
      first = false;
      return Promise.reject(err);
    };
    const counts = await loadsPerPoll(admin, state, 2 * REJECTED_RETRY_POLLS + 1);
    expect(counts).toEqual(Array.from({ length: 2 * REJECTED_RETRY_POLLS + 1 }, (_, i) => 1 + Math.floor(i / REJECTED_RETRY_POLLS)));
  });

  // Kills: follow()'s `if (!sameNamed(wanted, this.rejected?.named ?? null)) this.rejected = null` dropped:
  // the rejected version's skip count then held back every other version, and the same one promoted again.
  it('loads another version at once, and the rejected one at once once the source named something else in between', async () => {
    const { admin, state } = await scriptedAdmin();
    await admin.checkForUpdate(); // 9 rejected
    expect(state.loads).toEqual(['9']);
    state.names = { identity: '10', runId: 'r10' };
    await admin.checkForUpdate();
    expect(state.loads).toEqual(['9', '10']);
    state.names = { identity: '5', runId: null }; // rolled back to what serves
    await admin.checkForUpdate();
    state.names = { identity: '9', runId: 'r9' }; // promoted again
    await admin.checkForUpdate();
    expect(state.loads).toEqual(['9', '10', '9']);
  });

  // Kills: checkForUpdate's `this.rejected = null` dropped when MLflow answers that the alias names nothing.
  it('loads it at the next poll after MLflow answered that the alias names nothing', async () => {
    const { admin, state, serving } = await scriptedAdmin();
    await admin.checkForUpdate();
    state.peekFails = notThere('alias champion');
    await admin.checkForUpdate();
    expect(admin.noticeFor(serving)?.summary).toMatch(/models:\/telco-churn@champion names no model version \(MLFLOW_NOT_FOUND\)/);
    state.peekFails = null;
    await admin.checkForUpdate();
    expect(state.loads).toEqual(['9', '9']);
  });

  // Kills: `err instanceof BundleError &&` dropped where doReload remembers a rejected version: one
  // MLflow says it does not have (its bundle/ not uploaded yet) must be tried at every poll.
  it('is the only failure that makes polls pass over a version: one MLflow does not have is tried at every poll', async () => {
    const { admin, state } = await scriptedAdmin();
    state.load = () => Promise.reject(notThere('bundle/ of run r9'));
    expect(await loadsPerPoll(admin, state, 3)).toEqual([1, 2, 3]);
  });

  // Found by the mutation round: rejected for its bundle, then found not there on a retry (its bundle/
  // files deleted to be uploaded again), the version was still passed over for REJECTED_RETRY_POLLS - 1
  // polls at a time, while its notice said that each poll tries it.
  it('is tried at every poll once a retry finds it not there, as its notice then says', async () => {
    const { admin, state, serving } = await scriptedAdmin();
    let loads = 0;
    state.load = () => Promise.reject(++loads === 1 ? badBundle() : notThere('bundle/ of run r9'));
    const counts = await loadsPerPoll(admin, state, REJECTED_RETRY_POLLS + 3);
    // Poll 1 rejects it; polls 2..N pass over it; poll N+1 finds it not there; each poll after tries it.
    expect(counts).toEqual([...Array.from({ length: REJECTED_RETRY_POLLS }, () => 1), 2, 3, 4]);
    // Said as a version not there, not as one that failed verification (which polls pass over).
    expect(admin.noticeFor(serving)?.summary).toMatch(/names 9, which could not be loaded \(MLFLOW_NOT_FOUND\)/);
    expect(admin.noticeFor(serving)?.detail).not.toContain(`every ${REJECTED_RETRY_POLLS}th poll`);
  });
});

describe("what the source names that is not served (noticeFor's unserved part)", () => {
  // Kills: follow()'s `this.unserved = null` dropped when the source names the serving model again.
  it('is forgotten once a poll finds the source naming the serving model again', async () => {
    const { admin, state, serving } = await scriptedAdmin();
    await admin.checkForUpdate();
    expect(admin.noticeFor(serving)?.summary).toMatch(/names 9, which could not be loaded \(MODEL_BUNDLE_INVALID\)/);
    state.names = { identity: '5', runId: null };
    await admin.checkForUpdate();
    expect(admin.noticeFor(serving)).toEqual(serving.lineage.notice);
  });

  // Kills: doReload's `this.unserved = null` dropped where the candidate is the model already serving.
  it('is forgotten once a reloadModel loads the serving model again', async () => {
    const { admin, state, serving } = await scriptedAdmin();
    await admin.checkForUpdate();
    expect(admin.noticeFor(serving)).not.toEqual(serving.lineage.notice);
    state.names = { identity: '5', runId: null };
    state.load = () => loadBundleModel(BUNDLE_DIR); // the same bundle: sameModel
    await expect(admin.reload('reloadModel mutation')).resolves.toMatchObject({ changed: false, model: serving });
    expect(admin.noticeFor(serving)).toEqual(serving.lineage.notice);
  });

  // Kills: noteUnserved's `since` always `new Date()`: the notice's "Since …" moved at every poll
  // that failed alike, so it no longer said how long the source has named a model that is not served.
  it("keeps the first failure's time while later polls fail alike", async () => {
    const { admin, state, serving } = await scriptedAdmin();
    state.load = () => Promise.reject(unreachable());
    await admin.checkForUpdate();
    const first = admin.noticeFor(serving)?.summary;
    expect(first).toMatch(/^Since \S+, /);
    await sleep(20); // a later millisecond, so a new Date() would differ
    await admin.checkForUpdate();
    expect(state.loads).toHaveLength(2);
    expect(admin.noticeFor(serving)?.summary).toBe(first);
  });
});

describe('failed checks (peeks) in the log', () => {
  // Kills: checkFailed comparing the failure's kind instead of its cause (a new cause went to debug), and
  // `this.checkFailing = null` dropped after 'model source answers again' (said again at every later poll).
  it('says each new cause at warn, its repeats at debug, and once that the source answers again', async () => {
    const { admin, state, lines } = await scriptedAdmin();
    state.names = { identity: '5', runId: null };
    state.peekFails = unreachable();
    await admin.checkForUpdate();
    await admin.checkForUpdate();
    state.peekFails = unreachable('timed out after 10000 ms'); // another cause, the same kind
    await admin.checkForUpdate();
    state.peekFails = null;
    await admin.checkForUpdate();
    await admin.checkForUpdate();
    const said = lines.filter((l) => String(l['msg']).startsWith('model source')).map((l) => [l['level'], String(l['msg']).split(';')[0], l['kind']]);
    expect(said).toEqual([
      ['warn', 'model source check failed', 'unavailable'],
      ['debug', 'model source check failed again', 'unavailable'],
      ['warn', 'model source check failed', 'unavailable'],
      ['info', 'model source answers again', 'unavailable'],
    ]);
    expect(lines.find((l) => l['msg'] === 'model source answers again')).toMatchObject({ failedChecks: 3 });
  });
});

describe('reloads that share a follow-up check', () => {
  // Kills: withDeadline aborting the reload whatever `others` says: one caller's deadline cancelled
  // the follow-up another reloadModel (with no deadline) still waited for.
  it("go on for the caller still waiting when another's deadline passes", async () => {
    const { admin, state, openNext } = await scriptedAdmin(true);
    state.names = { identity: '5', runId: null };
    state.load = () => loadBundleModel(BUNDLE_DIR);
    const poll = admin.reload('poll', { byPoller: true });
    const hurried = admin.reload('reloadModel A', { deadlineMs: 20 });
    const patient = admin.reload('reloadModel B');
    await expect(hurried).rejects.toBeInstanceOf(ReloadTimeoutError);
    await expect(hurried).rejects.toMatchObject({ goesOn: true });
    await openNext(); // the poll's load
    await expect(poll).resolves.toMatchObject({ changed: false });
    await openNext(); // the follow-up's, which B still waits for
    await expect(patient).resolves.toMatchObject({ changed: false, message: expect.stringMatching(/already serving/) as unknown });
    await admin.settled();
  });

  // Kills: reload() joining a follow-up already cancelled (`this.next = null` for an aborted one dropped):
  // a reloadModel asked after the only caller of the follow-up gave up got that caller's timeout.
  it('is started afresh for a call made after every caller of the queued one gave up', async () => {
    const { admin, state, openNext } = await scriptedAdmin(true);
    state.names = { identity: '5', runId: null };
    state.load = () => loadBundleModel(BUNDLE_DIR);
    const poll = admin.reload('poll', { byPoller: true });
    await expect(admin.reload('reloadModel A', { deadlineMs: 20 })).rejects.toMatchObject({ goesOn: false });
    const later = admin.reload('reloadModel B');
    await openNext();
    await poll;
    await openNext();
    await expect(later).resolves.toMatchObject({ changed: false });
    expect(state.loads).toEqual(['5', '5']);
    await admin.settled();
  });

  // Kills: settled() waiting for the running reload only (`while` to `if`): shutdown then closed the
  // slot while the follow-up, which becomes the running reload, was still loading.
  it('are all awaited by settled(), the follow-up too', async () => {
    const { admin, state, openNext } = await scriptedAdmin(true);
    state.names = { identity: '5', runId: null };
    state.load = () => loadBundleModel(BUNDLE_DIR);
    const poll = admin.reload('poll', { byPoller: true });
    const followUp = admin.reload('poll', { byPoller: true });
    let settled = false;
    const done = admin.settled().then(() => (settled = true));
    await openNext();
    await poll;
    await sleep(20); // any continuation of the first reload's end has run by now
    expect(settled).toBe(false);
    await openNext();
    await followUp;
    await done;
    expect(settled).toBe(true);
  });
});

describe('after close()', () => {
  // Kills: reload()'s `if (this.closed)` refusal dropped: a reload asked during shutdown downloaded a
  // model for nothing and answered as if it had found the model already serving.
  it('a reload is refused at once, and loads nothing', async () => {
    const { admin, state } = await scriptedAdmin();
    state.load = () => loadBundleModel(BUNDLE_DIR);
    admin.close();
    await expect(admin.reload('reloadModel mutation')).rejects.toBeInstanceOf(NotReadyError);
    await expect(admin.checkForUpdate()).resolves.toEqual({ checked: false, reloaded: null });
    expect(state.loads).toEqual([]);
  });
});


describe('the same version and ONNX bytes from another run (sameModel)', () => {
  // Kills: sameModel without `a.lineage.runId === b.lineage.runId`: a version number re-registered from
  // another run (byte-identical ONNX from a deterministic retrain) was "already serving", and modelInfo
  // kept crediting the old run. (test/mlflow-lineage.test.ts shows it against a real MLflow, in minutes.)
  it('is swapped in, and the answer names both runs', async () => {
    const own = await loadBundleModel(BUNDLE_DIR); // served by this test only: the swap releases it
    const { admin, state, slot } = await scriptedAdmin(false, own);
    const bundle = verifyBundle(await readBundleDir(BUNDLE_DIR));
    const rerun = await ChurnModel.create(bundle, { ...lineageFromManifest(bundle.manifest), runId: 'another-run' });
    state.names = { identity: '5', runId: 'another-run' };
    state.load = () => Promise.resolve(rerun);
    try {
      const answer = await admin.reload('reloadModel mutation');
      expect(answer).toMatchObject({ changed: true, model: rerun });
      expect(answer.message).toBe(`now serving ${rerun.modelVersion} of run another-run (was ${own.modelVersion} of run ${own.lineage.runId})`);
      expect(slot.current).toBe(rerun);
    } finally {
      await slot.close();
    }
  });
});
