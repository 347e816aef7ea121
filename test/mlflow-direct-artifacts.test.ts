/**
 * A tracking server that does not serve artifacts (`mlflow server --no-serve-artifacts`): a run's
 * artifact URI is its folder's path, and the gateway reads the bundle through /get-artifact and
 * lists `bundle/` through artifacts/list, where every other MLflow test goes through the artifact
 * proxy. The files are written straight into the runs' folders, as an artifact store shared with
 * the trainer would hold them. A version whose bundle/ has group_report.json serves it; one
 * without serves groupReport null.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GroupReportDocument, ReloadModelDocument } from '../src/generated/graphql.js';
import { BUNDLE_DIR, GRAPHQL_CUSTOMER, gql, startTestGateway, type TestGateway } from './helpers/index.js';
import { ensureVenv, mlflowRest, readBundleFiles, setAlias, startMlflowServer, type MlflowServer } from './helpers/mlflow-server.js';

const MODEL = 'telco-churn';
const ADMIN_TOKEN = 'direct-artifacts-admin-token-0123';
const sha = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

let mlflow: MlflowServer;
let gw: TestGateway;
const v = { withReport: '', withoutReport: '' };
let reportText = '';

/** A run whose artifact folder (a path: the server serves no artifacts) gets `files` under bundle/, registered as a new version. */
async function registerInFolder(experimentId: string, files: Record<string, Uint8Array | string>): Promise<string> {
  const { run } = await mlflowRest<{ run: { info: { run_id: string; artifact_uri: string } } }>(mlflow.url, 'POST', '/api/2.0/mlflow/runs/create', {
    experiment_id: experimentId,
    start_time: Date.now(),
  });
  const { run_id: runId, artifact_uri: artifactUri } = run.info;
  expect(artifactUri).toMatch(/^(file:\/\/)?\//); // a path, not mlflow-artifacts:/
  const folder = path.join(artifactUri.replace(/^file:\/\//, ''), 'bundle');
  await mkdir(folder, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) {
    // The manifest names the run that wrote it, as the pipeline's does (the gateway checks it).
    const manifest = name === 'manifest.json' ? (JSON.parse(Buffer.from(bytes).toString('utf8')) as { run: Record<string, unknown> }) : null;
    await writeFile(path.join(folder, name), manifest ? JSON.stringify({ ...manifest, run: { ...manifest.run, runId } }) : bytes);
  }
  await mlflowRest(mlflow.url, 'POST', '/api/2.0/mlflow/runs/update', { run_id: runId, status: 'FINISHED', end_time: Date.now() });
  const mv = await mlflowRest<{ model_version: { version: string } }>(mlflow.url, 'POST', '/api/2.0/mlflow/model-versions/create', { name: MODEL, source: `${artifactUri}/bundle`, run_id: runId });
  return mv.model_version.version;
}

beforeAll(async () => {
  await ensureVenv();
  mlflow = await startMlflowServer({ serveArtifacts: false });
  const { experiment_id: experimentId } = await mlflowRest<{ experiment_id: string }>(mlflow.url, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'telco-churn' });
  await mlflowRest(mlflow.url, 'POST', '/api/2.0/mlflow/registered-models/create', { name: MODEL });
  const packaged = await readBundleFiles(BUNDLE_DIR);
  reportText = await readFile(path.join(BUNDLE_DIR, 'group_report.json'), 'utf8');
  v.withReport = await registerInFolder(experimentId, { ...packaged, 'group_report.json': reportText });
  v.withoutReport = await registerInFolder(experimentId, packaged);
  await setAlias(mlflow.url, MODEL, 'champion', v.withReport);
  gw = await startTestGateway({ MLFLOW_TRACKING_URI: mlflow.url, MODEL_URI: `models:/${MODEL}@champion`, MLFLOW_POLL_INTERVAL_MS: '0', ADMIN_TOKEN });
}, 300_000);

afterAll(async () => {
  await gw?.close();
  await mlflow?.stop();
});

describe('a tracking server that serves no artifacts (/get-artifact and artifacts/list)', () => {
  it('loads the version with its group report, and predicts with it', async () => {
    const res = await gql(gw.url, GroupReportDocument);
    expect(res.body.errors).toBeUndefined();
    const info = res.body.data?.modelInfo;
    expect(info).toMatchObject({ modelVersion: v.withReport, groupReport: { fileSha256: sha(reportText), overall: { customers: 1409 } } });
    const predicted = await gql(gw.url, 'mutation P($c: CustomerInput!) { predict(customer: $c) { modelVersion willChurn } }', { c: GRAPHQL_CUSTOMER });
    expect(predicted.body.data).toEqual({ predict: { modelVersion: v.withReport, willChurn: true } });
  });

  it('a version whose bundle/ has no group report loads with groupReport null', async () => {
    await setAlias(mlflow.url, MODEL, 'champion', v.withoutReport);
    const reload = await gql(gw.url, ReloadModelDocument, {}, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(reload.body.errors).toBeUndefined();
    expect(reload.body.data?.reloadModel).toMatchObject({ changed: true, model: { version: v.withoutReport } });
    const res = await gql(gw.url, GroupReportDocument);
    expect(res.body.data?.modelInfo).toMatchObject({ modelVersion: v.withoutReport, groupReport: null });
  });
});
