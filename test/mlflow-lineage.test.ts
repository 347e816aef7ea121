/**
 * A registry version number that comes back pointing at another run, against a real `mlflow server`:
 * the registered model deleted and made again, its version 1 now a run in another experiment with
 * byte-identical ONNX (training is deterministic). The gateway used to keep serving with the old
 * lineage (modelInfo.runId, every modelRunId) and reloadModel said "already serving": both the
 * poller and reloadModel now swap to the run the version names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelInfoDocument, PredictDocument, ReloadModelDocument } from '../src/generated/graphql.js';
import { BUNDLE_DIR, GRAPHQL_CUSTOMER, gql, startTestGateway, waitFor, type TestGateway } from './helpers/index.js';
import { ensureVenv, mlflowRest, readBundleFiles, registerHandMadeBundle, setAlias, startMlflowServer, type MlflowServer } from './helpers/mlflow-server.js';

const MODEL = 'telco-churn';
const ADMIN_TOKEN = 'test-admin-token-0123456789';
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };

let mlflow: MlflowServer;
const gateways: TestGateway[] = [];
/** The run version 1 of MODEL names before the registered model is deleted, and after it is made again. */
const runs = { first: '', second: '' };

const experiment = async (name: string) => (await mlflowRest<{ experiment_id: string }>(mlflow.url, 'POST', '/api/2.0/mlflow/experiments/create', { name })).experiment_id;

/** MODEL made (again) with the packaged bundle as its version 1, logged as a run in `experimentName`, and champion. */
async function registerVersionOne(experimentName: string): Promise<string> {
  await mlflowRest(mlflow.url, 'POST', '/api/2.0/mlflow/registered-models/create', { name: MODEL });
  const { version, runId } = await registerHandMadeBundle(mlflow.url, await experiment(experimentName), MODEL, await readBundleFiles(BUNDLE_DIR));
  expect(version).toBe('1');
  await setAlias(mlflow.url, MODEL, 'champion', version);
  return runId;
}

async function lineage(gw: TestGateway) {
  const info = (await gql(gw.url, ModelInfoDocument)).body.data?.modelInfo;
  const predicted = (await gql(gw.url, PredictDocument, { customer: GRAPHQL_CUSTOMER })).body.data?.predict;
  return { version: info?.version, runId: info?.runId, experimentName: info?.experimentName, notice: info?.notice ?? null, modelRunId: predicted?.modelRunId };
}

let reloading: TestGateway;
let polling: TestGateway;

beforeAll(async () => {
  await ensureVenv();
  mlflow = await startMlflowServer();
  runs.first = await registerVersionOne('telco-churn');
  const gateway = async (interval: string) => {
    const gw = await startTestGateway({ MLFLOW_TRACKING_URI: mlflow.url, MODEL_URI: `models:/${MODEL}@champion`, MLFLOW_POLL_INTERVAL_MS: interval, MLFLOW_TIMEOUT_MS: '10000', ADMIN_TOKEN });
    gateways.push(gw);
    return gw;
  };
  reloading = await gateway('0');
  polling = await gateway('200');
  for (const gw of [reloading, polling]) expect(await lineage(gw)).toEqual({ version: '1', runId: runs.first, experimentName: 'telco-churn', notice: null, modelRunId: runs.first });
  await mlflowRest(mlflow.url, 'DELETE', '/api/2.0/mlflow/registered-models/delete', { name: MODEL });
  runs.second = await registerVersionOne('audit-retrain');
}, 300_000);

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await mlflow?.stop();
});

describe('version 1 re-registered from another run with the same ONNX bytes', () => {
  const now = () => ({ version: '1', runId: runs.second, experimentName: 'audit-retrain', notice: null, modelRunId: runs.second });

  it('reloadModel swaps to the run the version names now, saying both runs', async () => {
    const res = await gql(reloading.url, ReloadModelDocument, {}, { ...ADMIN, 'x-request-id': 'lineage-reload' });
    expect(res.body.data?.reloadModel).toEqual({
      changed: true,
      message: `now serving 1 of run ${runs.second} (was 1 of run ${runs.first})`,
      model: { modelVersion: '1', version: '1', alias: 'champion', runId: runs.second, source: 'MLFLOW' },
    });
    expect(await lineage(reloading)).toEqual(now());
    // Who put it into service: the request's id and address, as on its access line.
    expect(reloading.logs.find((l) => l['msg'] === 'model swapped')).toMatchObject({ from: '1', to: '1', fromRunId: runs.first, toRunId: runs.second, reqId: 'lineage-reload', client: '127.0.0.1' });
    // Now the same model: a second call changes nothing.
    expect((await gql(reloading.url, ReloadModelDocument, {}, ADMIN)).body.data?.reloadModel).toMatchObject({ changed: false, model: { runId: runs.second } });
  });

  it('the poller swaps to it by itself', async () => {
    await waitFor('the poller to serve the new run', async () => (await lineage(polling)).runId === runs.second, 60_000);
    expect(await lineage(polling)).toEqual(now());
    expect(polling.logs.filter((l) => l['msg'] === 'model swapped').at(-1)).toMatchObject({
      from: '1',
      to: '1',
      fromRunId: runs.first,
      toRunId: runs.second,
      reason: `poll: source names 1 (run ${runs.second}), serving 1 (run ${runs.first})`,
    });
    // No request asked for it.
    expect(polling.logs.filter((l) => l['msg'] === 'model swapped').at(-1)).not.toHaveProperty('reqId');
    expect(polling.logs.filter((l) => l['msg'] === 'model swapped').at(-1)).not.toHaveProperty('client');
  });
});
