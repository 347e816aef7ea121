/**
 * An operator promoting and rolling back through MLflow (docs/mlflow.md "Promoting a model",
 * infra/README.md "A model to roll back") against a real `mlflow server`: the alias moved
 * to a version that cannot be loaded, back to the serving one, and forward again once that
 * version's bundle is there; what modelInfo, GET / and the logs say at each step.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReloadModelDocument } from '../src/generated/graphql.js';
import { REJECTED_RETRY_POLLS } from '../src/model/model-admin.js';
import { BUNDLE_DIR, LEGACY_PAYLOAD, REPO_ROOT, gql, operatorNotice, postJson, publicNotice, startTestGateway, waitFor, type TestGateway } from './helpers/index.js';
import { collectGarbage, ensureVenv, mlflowRest, readBundleFiles, registerHandMadeBundle, setAlias, startMlflowServer, type MlflowServer } from './helpers/mlflow-server.js';

const MODEL = 'telco-churn';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let mlflow: MlflowServer;
let experimentId: string;
const v = { one: '', two: '', late: '' };
let lateRun = '';
/** The packaged bundle's files, registered as versions that load. */
let packaged: Record<string, Uint8Array>;
const gateways: TestGateway[] = [];

const champion = (version: string) => setAlias(mlflow.url, MODEL, 'champion', version);

const ADMIN_TOKEN = 'test-admin-token-0123456789';
/** reloadModel on `gw` (started with ADMIN_TOKEN), as an operator calls it. */
const reloadModel = (gw: TestGateway) => gql(gw.url, ReloadModelDocument, {}, { authorization: `Bearer ${ADMIN_TOKEN}` });

/**
 * MLFLOW_TIMEOUT_MS at MLflow's default (10 s): nothing here is about a timeout, and a poll's call
 * timing out on a loaded machine (parity.json is 1.3 MB) is a failure of another cause, logged and
 * counted besides the ones the tests count.
 */
async function gateway(env: Record<string, string> = {}): Promise<TestGateway> {
  const gw = await startTestGateway({ MLFLOW_TRACKING_URI: mlflow.url, MODEL_URI: `models:/${MODEL}@champion`, MLFLOW_POLL_INTERVAL_MS: '100', MLFLOW_TIMEOUT_MS: '10000', ADMIN_TOKEN, OPS_PORT: '0', ...env });
  gateways.push(gw);
  return gw;
}

/** The notice as operators read it (its detail): modelInfo.noticeDetail, and GET / on OPS_PORT (operatorNotice checks the summaries beside them). */
async function modelInfo(gw: TestGateway) {
  const { version, notice, health } = await operatorNotice(gw, ADMIN_TOKEN);
  return { version, notice, health: { version: health.version, notice: health.notice } };
}

/**
 * The timeout of a test that runs MLflow's CLI (pasteRestore, collectGarbage): on a loaded 2-core
 * machine the CLI's start alone (importing mlflow) took 20-30 s, and such a test up to 40 s of
 * vitest's default 60 s. The CLI call itself is allowed 120 s.
 */
const MLFLOW_CLI_TEST_MS = 180_000;

/**
 * Runs the restore command a notice names as an operator pastes it into a shell of their own: no
 * MLFLOW_TRACKING_URI in the environment, in an empty folder (where mlflow's CLI without a tracking
 * URI makes a new ./mlflow.db, and restores nothing), the venv's `mlflow` on the PATH.
 */
async function pasteRestore(notice: string | null): Promise<void> {
  const command = /\bRestore it \((.+?)(?:, with [^)]* set)?\) or /.exec(notice ?? '')?.[1];
  if (command === undefined) throw new Error(`no restore command in the notice: ${notice}`);
  const cwd = await mkdtemp(path.join(tmpdir(), 'restore-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MLFLOW_')));
  try {
    await promisify(execFile)('bash', ['-c', command], { cwd, env: { ...env, PATH: `${REPO_ROOT}model/.venv/bin:${process.env['PATH'] ?? ''}` }, timeout: 120_000 });
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

/** Uploads the packaged bundle into `runId` (whose run had none), as an operator fixing it would. */
async function uploadBundle(runId: string): Promise<void> {
  const files = await readBundleFiles(BUNDLE_DIR);
  const manifest = JSON.parse(Buffer.from(files['manifest.json'] as Uint8Array).toString('utf8')) as { run: { runId: string } };
  manifest.run.runId = runId;
  // The manifest last: the gateway reads it first, so no poll finds a bundle half uploaded.
  const upload: Record<string, Uint8Array | string> = { ...Object.fromEntries(Object.entries(files).filter(([name]) => name !== 'manifest.json')), 'manifest.json': JSON.stringify(manifest) };
  for (const [file, bytes] of Object.entries(upload)) {
    const res = await fetch(`${mlflow.url}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/bundle/${file}`, {
      method: 'PUT',
      body: typeof bytes === 'string' ? bytes : Buffer.from(bytes),
    });
    expect(res.status, await res.text()).toBe(200);
  }
}

beforeAll(async () => {
  await ensureVenv();
  mlflow = await startMlflowServer();
  ({ experiment_id: experimentId } = await mlflowRest<{ experiment_id: string }>(mlflow.url, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'telco-churn' }));
  await mlflowRest(mlflow.url, 'POST', '/api/2.0/mlflow/registered-models/create', { name: MODEL });
  packaged = await readBundleFiles(BUNDLE_DIR);
  v.one = (await registerHandMadeBundle(mlflow.url, experimentId, MODEL, packaged)).version;
  v.two = (await registerHandMadeBundle(mlflow.url, experimentId, MODEL, packaged)).version;
  // Registered before its bundle was uploaded: MLflow answers 404 for bundle/manifest.json.
  const late = await registerHandMadeBundle(mlflow.url, experimentId, MODEL, {});
  v.late = late.version;
  lateRun = late.runId;
  await champion(v.one);
}, 300_000);

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await mlflow?.stop();
});

describe('rolling back from a version that cannot be loaded, then promoting it again once it can', () => {
  it('the poller loads the version the second time the alias names it, and the notice never claims the served version is the champion', async () => {
    const gw = await gateway();
    expect(await modelInfo(gw)).toMatchObject({ version: v.one, notice: null });

    // Promoted too early: its bundle is not in MLflow yet. Rejected, one serves, the notice says why.
    await champion(v.late);
    await waitFor('the notice about the version without a bundle', async () => (await modelInfo(gw)).notice?.includes(`names version ${v.late}, which could not be loaded (MLFLOW_NOT_FOUND`) === true);

    // Rolled back to the serving version: the notice goes.
    await champion(v.one);
    await waitFor('the notice to go', async () => (await modelInfo(gw)).notice === null);

    // The bundle is uploaded and the version promoted again: the poller loads it.
    await uploadBundle(lateRun);
    await champion(v.late);
    await waitFor(`version ${v.late} to serve`, async () => (await modelInfo(gw)).version === v.late);
    expect(await modelInfo(gw)).toEqual({ version: v.late, notice: null, health: { version: v.late, notice: null } });
    expect(gw.logs.filter((l) => l['msg'] === 'model swapped').map((l) => l['to'])).toEqual([v.late]);
    await gw.close();
  });

  it('a version still rejected keeps its notice when the alias was deleted in between and set to it again', async () => {
    // A second bad version (no bundle): v.late has one now.
    const { version: bad } = await registerHandMadeBundle(mlflow.url, experimentId, MODEL, {});
    await champion(v.two);
    const gw = await gateway();
    expect((await modelInfo(gw)).version).toBe(v.two);
    await champion(bad);
    await waitFor('the notice about the bad version', async () => (await modelInfo(gw)).notice?.includes(`names version ${bad}, which could not be loaded`) === true);

    const deleted = await fetch(`${mlflow.url}/api/2.0/mlflow/registered-models/alias`, { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: MODEL, alias: 'champion' }) });
    expect(deleted.status).toBe(200);
    await waitFor('the notice that the alias names nothing', async () => (await modelInfo(gw)).notice?.includes('names no model version') === true);

    await champion(bad);
    await waitFor('the notice about the bad version again', async () => (await modelInfo(gw)).notice?.includes(`names version ${bad}, which could not be loaded`) === true);
    await sleep(400);
    const info = await modelInfo(gw);
    expect(info.notice).not.toContain('names no model version');
    expect(info.health.notice).toBe(info.notice);
    expect(info.version).toBe(v.two);
    await gw.close();
    await champion(v.one);
  });
});

describe('a version that failed verification, fixed in MLflow', () => {
  const REJECTED = 'model reload rejected; the current model keeps serving';
  /** The packaged bundle with one byte of model.onnx changed: its sha256 is not the manifest's. */
  const tampered = () => {
    const onnx = new Uint8Array(packaged['model.onnx'] as Uint8Array);
    onnx[onnx.length - 1] = (onnx[onnx.length - 1] as number) ^ 0xff;
    return { ...packaged, 'model.onnx': onnx };
  };
  const failedReloads = async (gw: TestGateway) => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    return Number(/^gateway_model_reloads_total\{result="failed"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  };
  const health = async (gw: TestGateway) => (await (await fetch(`${gw.url}/`)).json()) as { version?: string; source?: string; notice?: string };
  // The notice's next step, with the test gateways' 100 ms interval.
  const NEXT = `; every ${REJECTED_RETRY_POLLS}th poll loads it again: once its bundle is fixed in MLflow, each task serves it within ${(REJECTED_RETRY_POLLS * 100) / 1000} s (${REJECTED_RETRY_POLLS} × MLFLOW_POLL_INTERVAL_MS), or at once on the task a reloadModel reaches`;

  it('is loaded again every few polls while the alias names it, the unchanged failure logged once, and served once fixed without moving the alias', async () => {
    const { version: bad, runId } = await registerHandMadeBundle(mlflow.url, experimentId, MODEL, tampered());
    await champion(v.one);
    const gw = await gateway({ LOG_LEVEL: 'debug' });
    try {
      await champion(bad);
      await waitFor('the notice about the version that failed verification', async () => (await modelInfo(gw)).notice?.includes(`names version ${bad}, which could not be loaded (MODEL_BUNDLE_INVALID`) === true);
      const { notice } = await modelInfo(gw);
      expect(notice?.endsWith(`${NEXT}; model version ${v.one} keeps serving.`), notice ?? 'no notice').toBe(true);
      // Not every poll downloads and verifies it: 6 polls at most in 600 ms, so one try again at most.
      const before = await failedReloads(gw);
      await sleep(600);
      expect((await failedReloads(gw)) - before).toBeLessThanOrEqual(1);
      // But it is tried again, and the same failure is logged once at error, then at debug.
      await waitFor('the poller to try it again', async () => (await failedReloads(gw)) >= 3);
      const lines = gw.logs.filter((l) => l['msg'] === REJECTED);
      expect(lines.filter((l) => l['level'] === 'error')).toHaveLength(1);
      expect(lines.filter((l) => l['level'] === 'debug').length).toBeGreaterThanOrEqual(2);

      // Fixed in place (its run's bundle uploaded again), the alias left as it is: the poller serves it.
      await uploadBundle(runId);
      await waitFor(`version ${bad} to serve`, async () => (await modelInfo(gw)).version === bad);
      expect(await modelInfo(gw)).toEqual({ version: bad, notice: null, health: { version: bad, notice: null } });
      expect(gw.logs.filter((l) => l['msg'] === 'model swapped').map((l) => [l['from'], l['to']])).toEqual([[v.one, bad]]);
    } finally {
      await gw.close();
      await champion(v.one);
    }
  });

  it('is loaded at the next poll when the alias names another version and then it again', async () => {
    const { version: bad, runId } = await registerHandMadeBundle(mlflow.url, experimentId, MODEL, tampered());
    await champion(bad);
    // Polling every 5 s: a retry would come 25 s later, so only the alias's move can load it here.
    const gw = await gateway({ MLFLOW_POLL_INTERVAL_MS: '5000' });
    try {
      await champion(v.one);
      await waitFor('the poller to swap the champion in', async () => (await modelInfo(gw)).version === v.one, 30_000);
      await champion(bad);
      await waitFor('the notice about the version that failed verification', async () => (await modelInfo(gw)).notice?.includes('(MODEL_BUNDLE_INVALID') === true, 30_000);
      await champion(v.one);
      await waitFor('the notice to go', async () => (await modelInfo(gw)).notice === null, 30_000);
      await uploadBundle(runId);
      await champion(bad);
      await waitFor(`version ${bad} to serve`, async () => (await modelInfo(gw)).version === bad, 15_000);
      expect(await modelInfo(gw)).toEqual({ version: bad, notice: null, health: { version: bad, notice: null } });
    } finally {
      await gw.close();
      await champion(v.one);
    }
  });

  it('with MODEL_URI naming that version: the task that fell back to its packaged bundle at start-up serves the version once fixed', async () => {
    const { version: bad, runId } = await registerHandMadeBundle(mlflow.url, experimentId, MODEL, tampered());
    const gw = await gateway({ MODEL_URI: `models:/${MODEL}/${bad}` });
    try {
      expect((await health(gw)).source).toBe('BUNDLE');
      await waitFor('the notice that names the version', async () => (await modelInfo(gw)).notice?.includes(`names version ${bad}, which could not be loaded (MODEL_BUNDLE_INVALID`) === true);
      await uploadBundle(runId);
      await waitFor(`version ${bad} from MLflow to serve`, async () => (await health(gw)).source === 'MLFLOW');
      expect(await modelInfo(gw)).toEqual({ version: bad, notice: null, health: { version: bad, notice: null } });
    } finally {
      await gw.close();
    }
  });
});

describe('MODEL_URI naming a fixed version', () => {
  it('models:/<name>/0<n> serves version n and its poller never reloads it, as models:/<name>/<n> does', async () => {
    const gw = await gateway({ MODEL_URI: `models:/${MODEL}/0${v.two}` });
    expect(await modelInfo(gw)).toMatchObject({ version: v.two, notice: null });
    await sleep(1_000); // ten polls
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    // Each poll found the version serving without loading it: no reload at all.
    expect(metrics).not.toMatch(/^gateway_model_reloads_total\{[^}]*\} [1-9]/m);
    await gw.close();
  });
});

describe('MODEL_URI naming a fixed version deleted from the registry', () => {
  it('keeps serving it, and modelInfo and GET / say the URI names no model version any more', async () => {
    const { version } = await registerHandMadeBundle(mlflow.url, experimentId, MODEL, packaged);
    const gw = await gateway({ MODEL_URI: `models:/${MODEL}/${version}` });
    try {
      expect(await modelInfo(gw)).toEqual({ version, notice: null, health: { version, notice: null } });
      await mlflowRest(mlflow.url, 'DELETE', '/api/2.0/mlflow/model-versions/delete', { name: MODEL, version });
      await waitFor('the notice that the URI names nothing', async () => (await modelInfo(gw)).notice !== null);
      const info = await modelInfo(gw);
      expect(info.version).toBe(version);
      expect(info.notice).toMatch(new RegExp(`^Since [^,]+, models:/${MODEL}/${version} on \\S+ names no model version \\(.*RESOURCE_DOES_NOT_EXIST.*\\); set MODEL_URI to a version the registry has; model version ${version} keeps serving\\.$`));
      expect(info.health.notice).toBe(info.notice);
      const summary = `${info.notice?.slice(0, info.notice.indexOf(', ') + 2)}models:/${MODEL}/${version} names no model version (MLFLOW_NOT_FOUND); model version ${version} keeps serving.`;
      expect(await publicNotice(gw.url)).toEqual({ version, notice: summary, health: { version, notice: summary } });
    } finally {
      await gw.close();
    }
  });
});

describe('restarting while the alias names a version that cannot be loaded', () => {
  it('serves the packaged bundle with one notice that names the version, why, and that the packaged bundle serves', async () => {
    const { version: bad, runId } = await registerHandMadeBundle(mlflow.url, experimentId, MODEL, {});
    await champion(bad);
    const gw = await gateway();
    try {
      const startup = await modelInfo(gw);
      expect(startup.notice).toContain('could not be loaded at start-up, so the packaged bundle is served');
      await waitFor('the poller to name the version', async () => (await modelInfo(gw)).notice?.includes(`names version ${bad}`) === true);
      const info = await modelInfo(gw);
      expect(info.notice).toMatch(new RegExp(`^Since [^,]+, models:/${MODEL}@champion on \\S+ names version ${bad}, which could not be loaded \\(MLFLOW_NOT_FOUND: .*\\); each poll tries it again, and loads it once MLflow has its run and bundle/ files; point models:/${MODEL}@champion at a version whose run is kept; the packaged bundle \\(model version \\S+\\) keeps serving\\.$`));
      // MLflow's answer once, not once for the start-up load and again for the poller's.
      expect(info.notice?.split(`bundle/manifest.json of run ${runId}`)).toHaveLength(2);
      expect(info.health.notice).toBe(info.notice);
      // Anyone is told the same without the tracking server, MLflow's answer and the advice.
      const summary = await publicNotice(gw.url);
      expect(summary.notice).toMatch(new RegExp(`^Since [^,]+, models:/${MODEL}@champion names version ${bad}, which could not be loaded \\(MLFLOW_NOT_FOUND\\); the packaged bundle \\(model version \\S+\\) keeps serving\\.$`));
      expect(summary.health.notice).toBe(summary.notice);
    } finally {
      await gw.close();
      await champion(v.one);
    }
  });
});

describe('a version promoted before its bundle was uploaded', () => {
  it('is loaded by the poller once the bundle is there, without moving the alias, the rejection logged once', async () => {
    const { version: early, runId } = await registerHandMadeBundle(mlflow.url, experimentId, MODEL, {});
    await champion(v.one);
    const gw = await gateway();
    try {
      await champion(early);
      await waitFor('the notice about the version without a bundle', async () => (await modelInfo(gw)).notice?.includes(`names version ${early}, which could not be loaded (MLFLOW_NOT_FOUND`) === true);
      await sleep(500); // polls that find it still missing
      expect(gw.logs.filter((l) => l['msg'] === 'model reload rejected; the current model keeps serving')).toHaveLength(1);

      // A reloadModel through the load balancer would reach one task: every task's poller must find it.
      await uploadBundle(runId);
      await waitFor(`version ${early} to serve`, async () => (await modelInfo(gw)).version === early);
      expect(await modelInfo(gw)).toEqual({ version: early, notice: null, health: { version: early, notice: null } });
      expect(gw.logs.filter((l) => l['msg'] === 'model reload rejected; the current model keeps serving')).toHaveLength(1);
    } finally {
      await gw.close();
      await champion(v.one);
    }
  });
});

describe("the serving model's run deleted in MLflow", () => {
  const GOING = "the serving model's record in the model source is going away; it keeps serving";
  const KEPT = "the serving model's record in the model source is kept again";
  const served = (version: string) => `version ${version} of ${MODEL}`;
  const ALIAS_ADVICE = `point models:/${MODEL}@champion at a version whose run is kept`;
  const runDeleted = (runId: string, version: string, advice = ALIAS_ADVICE) =>
    `In MLflow at ${mlflow.url}, run ${runId}, which trained the served model (${served(version)}), is deleted: it can be restored until mlflow gc removes the run and its artifacts for good, ` +
    `after which no gateway can load this model and modelInfo's run can no longer be looked up. Restore it (MLFLOW_TRACKING_URI=${mlflow.url} mlflow runs restore --run-id ${runId}) or ${advice}.`;
  /** What anyone is told of it (modelInfo.notice, GET / on PORT): the facts, without the tracking server, the command and the advice. */
  const runDeletedSummary = (runId: string, version: string) =>
    `In MLflow, run ${runId}, which trained the served model (${served(version)}), is deleted: it can be restored until mlflow gc removes the run and its artifacts for good, ` +
    "after which no gateway can load this model and modelInfo's run can no longer be looked up.";
  const messages = (gw: TestGateway, msg: string) => gw.logs.filter((l) => l['msg'] === msg);
  const predictedBy = async (gw: TestGateway) => {
    const res = await postJson(gw.url, '/predict', LEGACY_PAYLOAD);
    expect(res.status).toBe(200);
    return (res.json as { model_version: string }).model_version;
  };

  it('keeps serving it, and modelInfo and GET / say so until the run is restored, each change logged once', async () => {
    const { version, runId } = await registerHandMadeBundle(mlflow.url, experimentId, MODEL, packaged);
    await champion(version);
    const gw = await gateway();
    try {
      expect(await modelInfo(gw)).toEqual({ version, notice: null, health: { version, notice: null } });
      await mlflowRest(mlflow.url, 'POST', '/api/2.0/mlflow/runs/delete', { run_id: runId });
      await waitFor('the notice about the deleted run', async () => (await modelInfo(gw)).notice !== null);
      expect(await modelInfo(gw)).toEqual({ version, notice: runDeleted(runId, version), health: { version, notice: runDeleted(runId, version) } });
      expect(await publicNotice(gw.url)).toEqual({ version, notice: runDeletedSummary(runId, version), health: { version, notice: runDeletedSummary(runId, version) } });
      expect(await predictedBy(gw)).toBe(version);
      await sleep(500); // polls that find it still deleted
      expect(messages(gw, GOING)).toHaveLength(1);
      expect(messages(gw, GOING)[0]).toMatchObject({ level: 'warn', runId, notice: runDeleted(runId, version) });

      // Restored with the command the notice names, pasted as it is.
      await pasteRestore((await modelInfo(gw)).notice);
      await waitFor('the notice to go', async () => (await modelInfo(gw)).notice === null);
      expect(await modelInfo(gw)).toEqual({ version, notice: null, health: { version, notice: null } });
      expect(messages(gw, KEPT)).toHaveLength(1);
      expect(messages(gw, KEPT)[0]).toMatchObject({ level: 'info', runId, clearedNotice: runDeleted(runId, version) });
      // Nothing was loaded again: the poller only asked.
      expect(messages(gw, 'model swapped')).toEqual([]);
    } finally {
      await gw.close();
      await champion(v.one);
    }
  }, MLFLOW_CLI_TEST_MS);

  it('is told within an interval, and by reloadModel, also while MLflow answers that the alias names no version (the alias deleted first)', async () => {
    const { version, runId } = await registerHandMadeBundle(mlflow.url, experimentId, MODEL, packaged);
    await champion(version);
    const polling = await gateway();
    const quiet = await gateway({ MLFLOW_POLL_INTERVAL_MS: '0', ADMIN_TOKEN });
    try {
      expect(await modelInfo(polling)).toEqual({ version, notice: null, health: { version, notice: null } });
      expect(await modelInfo(quiet)).toEqual({ version, notice: null, health: { version, notice: null } });
      await mlflowRest(mlflow.url, 'DELETE', '/api/2.0/mlflow/registered-models/alias', { name: MODEL, alias: 'champion' });
      await waitFor('the notice that the alias names nothing', async () => (await modelInfo(polling)).notice?.includes('names no model version') === true);
      await mlflowRest(mlflow.url, 'POST', '/api/2.0/mlflow/runs/delete', { run_id: runId });

      // The poller: the run's notice first, then what the alias names (nothing).
      await waitFor('the notice about the deleted run', async () => (await modelInfo(polling)).notice?.startsWith(runDeleted(runId, version)) === true);
      const info = await modelInfo(polling);
      const own = `${runDeleted(runId, version)} `;
      expect(info.notice?.slice(0, own.length)).toBe(own);
      expect(info.notice?.slice(own.length)).toMatch(new RegExp(`^Since [^,]+, models:/${MODEL}@champion on \\S+ names no model version \\(.*\\); point models:/${MODEL}@champion at a version \\(the MLflow UI, or the REST call in docs/mlflow\\.md, "Promoting a model"\\); model version ${version} keeps serving\\.$`));
      expect(info).toMatchObject({ version, health: { version, notice: info.notice } });
      expect(messages(polling, GOING)).toEqual([expect.objectContaining({ level: 'warn', runId, notice: runDeleted(runId, version) })]);

      // reloadModel on a gateway that does not poll: 502 for the alias, and the run's notice.
      const res = await reloadModel(quiet);
      expect(res.body.errors?.[0]?.extensions?.['code']).toBe('MLFLOW_NOT_FOUND');
      expect(await modelInfo(quiet)).toEqual({ version, notice: runDeleted(runId, version), health: { version, notice: runDeleted(runId, version) } });
      expect(messages(quiet, GOING)).toEqual([expect.objectContaining({ level: 'warn', runId, notice: runDeleted(runId, version) })]);
      expect(await predictedBy(polling)).toBe(version);
    } finally {
      await Promise.all([polling.close(), quiet.close()]);
      await mlflowRest(mlflow.url, 'POST', '/api/2.0/mlflow/runs/restore', { run_id: runId });
      await champion(v.one);
    }
  });

  it('a gateway that starts, or is promoted to it, while the run is deleted serves it and says so from its first answer and in its log', async () => {
    const { version, runId } = await registerHandMadeBundle(mlflow.url, experimentId, MODEL, packaged);
    const { version: kept } = await registerHandMadeBundle(mlflow.url, experimentId, MODEL, packaged);
    await mlflowRest(mlflow.url, 'POST', '/api/2.0/mlflow/runs/delete', { run_id: runId });
    await champion(kept);
    const promoted = await gateway({ MLFLOW_POLL_INTERVAL_MS: '0', ADMIN_TOKEN });
    await champion(version);
    const started = await gateway();
    try {
      expect(await modelInfo(started)).toEqual({ version, notice: runDeleted(runId, version), health: { version, notice: runDeleted(runId, version) } });
      expect(messages(started, 'ready')[0]).toMatchObject({ version, runId, source: 'MLFLOW', notice: runDeleted(runId, version) });
      // The line an operator's query looks for, as when a run goes while its model serves.
      expect(messages(started, GOING)).toEqual([expect.objectContaining({ level: 'warn', runId, notice: runDeleted(runId, version) })]);
      expect(await predictedBy(started)).toBe(version);

      // A reloadModel onto the version whose run is deleted.
      expect(await modelInfo(promoted)).toEqual({ version: kept, notice: null, health: { version: kept, notice: null } });
      expect((await reloadModel(promoted)).body.data?.reloadModel).toMatchObject({ changed: true, model: { version, runId } });
      expect(await modelInfo(promoted)).toEqual({ version, notice: runDeleted(runId, version), health: { version, notice: runDeleted(runId, version) } });
      expect(messages(promoted, 'model swapped').at(-1)).toMatchObject({ to: version, notice: runDeleted(runId, version) });
      expect(messages(promoted, GOING).map((l) => l['runId'])).toEqual([runId]);

      // And away from it: the notice goes with the model.
      await champion(kept);
      await waitFor(`version ${kept} to serve`, async () => (await modelInfo(started)).version === kept);
      expect(await modelInfo(started)).toEqual({ version: kept, notice: null, health: { version: kept, notice: null } });
      expect(messages(started, GOING)).toHaveLength(1);
    } finally {
      await Promise.all([started.close(), promoted.close()]);
      await mlflowRest(mlflow.url, 'POST', '/api/2.0/mlflow/runs/restore', { run_id: runId });
      await champion(v.one);
    }
  });

  it('names the experiment and how to restore it when the experiment was deleted', async () => {
    const { experiment_id: trashId } = await mlflowRest<{ experiment_id: string }>(mlflow.url, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'telco-churn-trash' });
    const { version, runId } = await registerHandMadeBundle(mlflow.url, trashId, MODEL, packaged);
    await champion(version);
    const gw = await gateway();
    try {
      expect(await modelInfo(gw)).toEqual({ version, notice: null, health: { version, notice: null } });
      await mlflowRest(mlflow.url, 'POST', '/api/2.0/mlflow/experiments/delete', { experiment_id: trashId });
      await waitFor('the notice about the deleted experiment', async () => (await modelInfo(gw)).notice !== null);
      expect((await modelInfo(gw)).notice).toBe(
        `In MLflow at ${mlflow.url}, experiment telco-churn-trash (id ${trashId}), which holds run ${runId} that trained the served model (${served(version)}), is deleted: ` +
          "it can be restored until mlflow gc removes the run and its artifacts for good, after which no gateway can load this model and modelInfo's run can no longer be looked up. " +
          `Restore it (MLFLOW_TRACKING_URI=${mlflow.url} mlflow experiments restore --experiment-id ${trashId}) or ${ALIAS_ADVICE}.`,
      );
      await pasteRestore((await modelInfo(gw)).notice);
      await waitFor('the notice to go', async () => (await modelInfo(gw)).notice === null);
    } finally {
      await gw.close();
      await champion(v.one);
    }
  }, MLFLOW_CLI_TEST_MS);

  it('once mlflow gc removed the run for good, the model keeps serving and the notice says no gateway can load it again', async () => {
    const { version, runId } = await registerHandMadeBundle(mlflow.url, experimentId, MODEL, packaged);
    await champion(version);
    const gw = await gateway();
    try {
      await mlflowRest(mlflow.url, 'POST', '/api/2.0/mlflow/runs/delete', { run_id: runId });
      await waitFor('the notice about the deleted run', async () => (await modelInfo(gw)).notice === runDeleted(runId, version));
      await collectGarbage(mlflow, [runId]);
      const gone =
        `MLflow at ${mlflow.url} no longer has run ${runId}, which trained the served model (${served(version)}): it was removed for good (mlflow gc), with its artifacts, ` +
        `so no gateway can load this model again and modelInfo's run can no longer be looked up. This gateway keeps serving it; ${ALIAS_ADVICE}.`;
      await waitFor('the notice about the removed run', async () => (await modelInfo(gw)).notice === gone);
      expect(await modelInfo(gw)).toEqual({ version, notice: gone, health: { version, notice: gone } });
      const goneSummary =
        `MLflow no longer has run ${runId}, which trained the served model (${served(version)}): it was removed for good (mlflow gc), with its artifacts, ` +
        "so no gateway can load this model again and modelInfo's run can no longer be looked up. This gateway keeps serving it.";
      expect(await publicNotice(gw.url)).toEqual({ version, notice: goneSummary, health: { version, notice: goneSummary } });
      expect(await predictedBy(gw)).toBe(version);
      expect(messages(gw, GOING).map((l) => l['notice'])).toEqual([runDeleted(runId, version), gone]);
    } finally {
      await gw.close();
      await champion(v.one);
    }
  }, MLFLOW_CLI_TEST_MS);
});

describe("the serving model's run deleted, on a gateway that does not poll or serves a fixed version", () => {
  const notice = async (gw: TestGateway) => (await modelInfo(gw)).notice;

  it('reloadModel tells it (the same model loaded again), and tells the restore; MODEL_URI naming a version is told to change MODEL_URI', async () => {
    const { version, runId } = await registerHandMadeBundle(mlflow.url, experimentId, MODEL, packaged);
    await champion(version);
    const quiet = await gateway({ MLFLOW_POLL_INTERVAL_MS: '0', ADMIN_TOKEN });
    // With credentials (MLflow here asks for none, and ignores them): the notice names their variables, never their values.
    const token = 'a-token-no-notice-may-show-0123456789';
    const fixed = await gateway({ MODEL_URI: `models:/${MODEL}/${version}`, MLFLOW_TRACKING_TOKEN: token });
    try {
      expect(await notice(quiet)).toBeNull();
      await mlflowRest(mlflow.url, 'POST', '/api/2.0/mlflow/runs/delete', { run_id: runId });
      expect((await reloadModel(quiet)).body.data?.reloadModel).toMatchObject({ changed: false, model: { version } });
      expect(await notice(quiet)).toMatch(new RegExp(`^In MLflow at \\S+, run ${runId}, which trained the served model \\(version ${version} of ${MODEL}\\), is deleted: .* or point models:/${MODEL}@champion at a version whose run is kept\\.$`));
      await waitFor('the fixed version\'s notice', async () => (await notice(fixed)) !== null);
      expect(await notice(fixed)).toMatch(/ Restore it \(MLFLOW_TRACKING_URI=http:\/\/127\.0\.0\.1:\d+ mlflow runs restore --run-id \w+, with MLFLOW_TRACKING_TOKEN set\) or set MODEL_URI to a version whose run is kept\.$/);
      expect(JSON.stringify(await modelInfo(fixed))).not.toContain(token);

      await mlflowRest(mlflow.url, 'POST', '/api/2.0/mlflow/runs/restore', { run_id: runId });
      expect((await reloadModel(quiet)).body.data?.reloadModel).toMatchObject({ changed: false });
      expect(await notice(quiet)).toBeNull();
      expect(quiet.logs.filter((l) => l['msg'] === "the serving model's record in the model source is kept again")).toHaveLength(1);
      await waitFor('the fixed version\'s notice to go', async () => (await notice(fixed)) === null);
    } finally {
      await Promise.all([quiet.close(), fixed.close()]);
      await champion(v.one);
    }
  });
});
