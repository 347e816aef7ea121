/**
 * The audit trail, as an auditor follows it with the product's own interfaces only (modelInfo,
 * the answers, the access log, MLflow's REST API), against a real MLflow server with two
 * versions trained and registered by the project's pipeline:
 * - every modelInfo value is the MLflow run's own (params as logged strings, every metric,
 *   tags, experiment, registry version and alias, the ONNX artifact's sha256), whether the
 *   gateway serves the packaged bundle or loads the version from MLflow;
 * - from an answer's x-request-id, the access log names the model version, and MLflow that
 *   version's run and threshold, which is the threshold the answer was decided at;
 * - a promotion is one log line naming both models (version, run, ONNX sha256, source), and
 *   every answer before and after it is attributable to exactly one of them;
 * - modelInfo.groupReport is the run's bundle/group_report.json, which names the run's ONNX
 *   artifact and data set, whichever way the gateway got the model; a promotion's log line
 *   names both models' reports by sha256.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GroupReportDocument, ModelInfoDocument, type ModelInfoQuery } from '../src/generated/graphql.js';
import { expectedGroupReport, type GroupReportJson } from './helpers/group-report.js';
import { BUNDLE_DIR, GRAPHQL_CUSTOMER, LEGACY_PAYLOAD, gql, postJson, startTestGateway, waitFor, type TestGateway } from './helpers/index.js';
import { ensureVenv, mlflowRest, setAlias, startMlflowServer, trainAndRegister, writeChurnCsvs, type MlflowServer } from './helpers/mlflow-server.js';

const MODEL = 'telco-churn';
const ADMIN_TOKEN = 'audit-admin-token-0123456789';
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };

interface KeyValue<V> {
  key: string;
  value: V;
}
interface RestRun {
  run: {
    info: { run_id: string; experiment_id: string; artifact_uri: string };
    data: { params?: KeyValue<string>[]; metrics?: KeyValue<number>[]; tags?: KeyValue<string>[] };
  };
}
type Info = ModelInfoQuery['modelInfo'];

let mlflow: MlflowServer;
let work: string;
const gateways: TestGateway[] = [];

async function modelInfo(gw: TestGateway): Promise<Info> {
  const res = await gql(gw.url, ModelInfoDocument);
  expect(res.body.errors).toBeUndefined();
  return res.body.data?.modelInfo as Info;
}

/** What MLflow itself says about a registered version: the version, its run (params, metrics, tags), experiment and ONNX artifact. */
async function fromMlflow(version: string) {
  const mv = await mlflowRest<{ model_version: { version: string; run_id: string; aliases?: string[] } }>(mlflow.url, 'GET', '/api/2.0/mlflow/model-versions/get', { name: MODEL, version });
  const { run } = await mlflowRest<RestRun>(mlflow.url, 'GET', '/api/2.0/mlflow/runs/get', { run_id: mv.model_version.run_id });
  const experiment = await mlflowRest<{ experiment: { name: string } }>(mlflow.url, 'GET', '/api/2.0/mlflow/experiments/get', { experiment_id: run.info.experiment_id });
  const root = run.info.artifact_uri.replace(/^mlflow-artifacts:\/+/, '');
  const onnx = await fetch(`${mlflow.url}/api/2.0/mlflow-artifacts/artifacts/${root}/bundle/model.onnx`);
  expect(onnx.status).toBe(200);
  const groupReport = await fetch(`${mlflow.url}/api/2.0/mlflow-artifacts/artifacts/${root}/bundle/group_report.json`);
  expect(groupReport.status).toBe(200);
  const tags = Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value]));
  const sorted = <V>(list: KeyValue<V>[] | undefined) => (list ?? []).map(({ key, value }) => ({ key, value })).sort((a, b) => (a.key < b.key ? -1 : 1));
  return {
    version: mv.model_version.version,
    aliases: mv.model_version.aliases ?? [],
    runId: run.info.run_id,
    experimentId: run.info.experiment_id,
    experimentName: experiment.experiment.name,
    params: sorted(run.data.params),
    metrics: sorted(run.data.metrics),
    tags,
    onnxSha256: createHash('sha256').update(Buffer.from(await onnx.arrayBuffer())).digest('hex'),
    groupReportSha256: createHash('sha256').update(Buffer.from(await groupReport.arrayBuffer())).digest('hex'),
    artifactRoot: root,
  };
}

/** The lineage fields that name the trained model: the same whichever way the gateway got it. */
function lineage(info: Info) {
  const how = new Set(['source', 'loadedAt', 'notice', 'alias', 'parity']);
  return { ...Object.fromEntries(Object.entries(info).filter(([key]) => !how.has(key))), parity: { ...info.parity, maxAbsDiff: undefined } };
}

beforeAll(async () => {
  await ensureVenv();
  work = await mkdtemp(path.join(tmpdir(), 'audit-trail-'));
  const [server, csvs] = await Promise.all([startMlflowServer(), writeChurnCsvs(work, 600, [11, 12])]);
  mlflow = server;
  // Version 1 then version 2 (each made champion); bundle-2 is what a release would package.
  await trainAndRegister(mlflow.url, csvs[0] as string, path.join(work, 'bundle-1'));
  await trainAndRegister(mlflow.url, csvs[1] as string, path.join(work, 'bundle-2'));
}, 300_000);

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await mlflow?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function gateway(env: Record<string, string>): Promise<TestGateway> {
  const gw = await startTestGateway({ ADMIN_TOKEN, MLFLOW_POLL_INTERVAL_MS: '0', ...env });
  gateways.push(gw);
  return gw;
}

describe('modelInfo is the MLflow run', () => {
  it('the packaged bundle reports the registry version, run, experiment, params, metrics, tags and ONNX artifact MLflow holds', async () => {
    const gw = await gateway({ MODEL_DIR: path.join(work, 'bundle-2') });
    const info = await modelInfo(gw);
    const truth = await fromMlflow('2');
    expect(info.source).toBe('BUNDLE');
    expect(info).toMatchObject({
      name: MODEL,
      version: truth.version,
      modelVersion: truth.version,
      runId: truth.runId,
      experimentId: truth.experimentId,
      experimentName: truth.experimentName,
      onnxSha256: truth.onnxSha256,
      datasetSha256: truth.tags['dataset_sha256'],
    });
    expect(truth.aliases).toContain(info.alias);
    // Params as logged (strings, every one), metrics as logged (every one, unrounded).
    expect(info.params).toEqual(truth.params);
    expect(info.metrics).toEqual(truth.metrics);
    expect(info.threshold).toBe(truth.metrics.find((m) => m.key === 'threshold')?.value);
    expect(info.gitCommit ?? 'none').toBe(truth.tags['git_commit']);
    const libraryTags = Object.entries(truth.tags)
      .filter(([key]) => key.startsWith('version.'))
      .map(([key, version]) => ({ name: key.slice('version.'.length), version }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    expect(info.libraryVersions).toEqual(libraryTags);
    expect(info.onnx.sha256).toBe(truth.onnxSha256);
  });

  it('loading the same version from MLflow reports the same lineage as its packaged bundle', async () => {
    const [packaged, loaded] = await Promise.all([
      gateway({ MODEL_DIR: path.join(work, 'bundle-2') }),
      gateway({ MLFLOW_TRACKING_URI: mlflow.url, MODEL_URI: `models:/${MODEL}@champion` }),
    ]);
    const [a, b] = await Promise.all([modelInfo(packaged), modelInfo(loaded)]);
    expect(b.source).toBe('MLFLOW');
    expect(b.alias).toBe('champion');
    expect(lineage(b)).toEqual(lineage(a));
  });
});

describe("modelInfo.groupReport is the run's own", () => {
  it('the group report served is the bundle/group_report.json artifact of the run, packaged or loaded from MLflow', async () => {
    const truth = await fromMlflow('2');
    const artifact = async (file: string) => {
      const res = await fetch(`${mlflow.url}/api/2.0/mlflow-artifacts/artifacts/${truth.artifactRoot}/bundle/${file}`);
      expect(res.status).toBe(200);
      return res.text();
    };
    const reportText = await artifact('group_report.json');
    const report = JSON.parse(reportText) as GroupReportJson;
    const manifest = JSON.parse(await artifact('manifest.json')) as { featureSpec: { columns: { name: string }[] } };
    // The report names the run's model: the run's ONNX artifact and the dataset sha256 it tagged.
    expect(report.bundle).toEqual({ onnxSha256: truth.onnxSha256, runId: truth.runId });
    expect(report.datasetSha256).toBe(truth.tags['dataset_sha256']);
    expect(createHash('sha256').update(reportText).digest('hex')).toBe(truth.groupReportSha256);
    const expected = expectedGroupReport(report, manifest.featureSpec.columns.map((c) => c.name), truth.groupReportSha256);
    const [packaged, loaded] = await Promise.all([
      gateway({ MODEL_DIR: path.join(work, 'bundle-2') }),
      gateway({ MLFLOW_TRACKING_URI: mlflow.url, MODEL_URI: `models:/${MODEL}@champion` }),
    ]);
    for (const gw of [packaged, loaded]) {
      const res = await gql(gw.url, GroupReportDocument);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.modelInfo.runId).toBe(truth.runId);
      expect(res.body.data?.modelInfo.groupReport).toEqual(expected);
    }
  });
});

describe('from an answer back to the training run', () => {
  it('x-request-id → access log → model version → MLflow run and threshold; a promotion is logged with both models and splits the answers', async () => {
    await setAlias(mlflow.url, MODEL, 'champion', '1');
    const gw = await gateway({ MLFLOW_TRACKING_URI: mlflow.url, MODEL_URI: `models:/${MODEL}@champion` });
    const [v1, v2] = await Promise.all([fromMlflow('1'), fromMlflow('2')]);
    const thresholdOf = (t: typeof v1) => t.metrics.find((m) => m.key === 'threshold')?.value;

    const answer = async (id: string) => {
      const rest = await postJson(gw.url, '/predict', LEGACY_PAYLOAD, { 'x-request-id': `${id}-rest` });
      const graphql = await gql(gw.url, 'mutation P($c: CustomerInput!) { predict(customer: $c) { threshold modelVersion } }', { c: GRAPHQL_CUSTOMER }, { 'x-request-id': `${id}-gql` });
      expect(rest.headers.get('x-request-id')).toBe(`${id}-rest`);
      expect(graphql.headers.get('x-request-id')).toBe(`${id}-gql`);
      const r = rest.json as { threshold: number; model_version: string };
      const g = (graphql.body.data as { predict: { threshold: number; modelVersion: string } }).predict;
      return [
        { reqId: `${id}-rest`, threshold: r.threshold, modelVersion: r.model_version },
        { reqId: `${id}-gql`, threshold: g.threshold, modelVersion: g.modelVersion },
      ];
    };
    const before = await answer('audit-before');
    await setAlias(mlflow.url, MODEL, 'champion', '2');
    // One request whose fields run on both sides of the promotion (mutation fields run in order,
    // each on the model serving when it starts): its answer names a model per prediction, and
    // its access line must name both, not only the last.
    const mixed = await gql(
      gw.url,
      'mutation Mixed($c: CustomerInput!) { a: predict(customer: $c) { modelVersion } reload: reloadModel { changed } b: predict(customer: $c) { modelVersion } }',
      { c: GRAPHQL_CUSTOMER },
      { ...ADMIN, 'x-request-id': 'audit-mixed' },
    );
    expect(mixed.body.errors).toBeUndefined();
    expect(mixed.body.data).toEqual({ a: { modelVersion: v1.version }, reload: { changed: true }, b: { modelVersion: v2.version } });
    const after = await answer('audit-after');

    const accessLine = (reqId: string) => gw.logs.find((l) => l['msg'] === 'request' && l['reqId'] === reqId);
    await waitFor('the access lines', () => [...before, ...after].every((a) => accessLine(a.reqId) !== undefined));
    for (const [answers, truth] of [
      [before, v1],
      [after, v2],
    ] as const) {
      for (const a of answers) {
        const line = accessLine(a.reqId);
        // The log names the version; MLflow names its run and the threshold it decides at.
        expect(line?.['modelVersion'], a.reqId).toBe(truth.version);
        expect(a.modelVersion).toBe(truth.version);
        expect(a.threshold).toBe(thresholdOf(truth));
      }
    }
    await waitFor('the mixed request\'s access line', () => accessLine('audit-mixed') !== undefined);
    expect(accessLine('audit-mixed')).toMatchObject({ modelVersion: `${v1.version},${v2.version}`, rows: 2 });
    const swaps = gw.logs.filter((l) => l['msg'] === 'model swapped');
    expect(swaps).toHaveLength(1);
    expect(swaps[0]).toMatchObject({
      from: v1.version,
      to: v2.version,
      fromRunId: v1.runId,
      toRunId: v2.runId,
      fromOnnxSha256: v1.onnxSha256,
      toOnnxSha256: v2.onnxSha256,
      fromGroupReportSha256: v1.groupReportSha256,
      toGroupReportSha256: v2.groupReportSha256,
      fromSource: 'MLFLOW',
      toSource: 'MLFLOW',
      // Who put version 2 into service: the reloadModel request, by its id and address.
      reason: 'reloadModel mutation',
      reqId: 'audit-mixed',
      client: '127.0.0.1',
    });
  });
});

describe('a version number two models share', () => {
  it("the packaged bundle's version 2, then MLflow's: REST answers, the access line and gateway_predictions_total name each by its run", async () => {
    // An alias that names nothing yet: the gateway falls back to the packaged bundle (model/bundle),
    // version 2 of the registry it was trained against, a run this MLflow does not have.
    const alias = 'audit-collision';
    const gw = await gateway({ MODEL_DIR: BUNDLE_DIR, MLFLOW_TRACKING_URI: mlflow.url, MODEL_URI: `models:/${MODEL}@${alias}` });
    const bundle = gw.slot.current;
    const v2 = await fromMlflow('2');
    expect(bundle.lineage.source).toBe('BUNDLE');
    expect(bundle.modelVersion).toBe(v2.version);
    expect(bundle.lineage.runId).not.toBe(v2.runId);
    const rest = async (id: string) => {
      const res = await postJson(gw.url, '/predict', LEGACY_PAYLOAD, { 'x-request-id': id });
      expect(res.status).toBe(200);
      return res.json as Record<string, unknown>;
    };
    expect(await rest('collide-before')).toMatchObject({ model_version: v2.version, model_run_id: bundle.lineage.runId });
    await setAlias(mlflow.url, MODEL, alias, '2');
    const mixed = await gql(
      gw.url,
      'mutation Mixed($c: CustomerInput!) { a: predict(customer: $c) { modelVersion modelRunId } reload: reloadModel { changed } b: predict(customer: $c) { modelVersion modelRunId } }',
      { c: GRAPHQL_CUSTOMER },
      { ...ADMIN, 'x-request-id': 'collide-mixed' },
    );
    expect(mixed.body.errors).toBeUndefined();
    expect(mixed.body.data).toEqual({
      a: { modelVersion: v2.version, modelRunId: bundle.lineage.runId },
      reload: { changed: true },
      b: { modelVersion: v2.version, modelRunId: v2.runId },
    });
    expect(await rest('collide-after')).toMatchObject({ model_version: v2.version, model_run_id: v2.runId });
    // Refused once its first field was scored (403, data null): no model delivered an answer.
    const refused = await gql(gw.url, 'mutation Refused($c: CustomerInput!) { a: predict(customer: $c) { riskLevel } reloadModel { changed } }', { c: GRAPHQL_CUSTOMER }, { 'x-request-id': 'collide-refused' });
    expect(refused.status).toBe(403);
    expect(refused.body.data).toBeNull();

    const accessLine = (reqId: string) => gw.logs.find((l) => l['msg'] === 'request' && l['reqId'] === reqId);
    const ids = ['collide-before', 'collide-mixed', 'collide-after', 'collide-refused'];
    await waitFor('the access lines', () => ids.every((id) => accessLine(id) !== undefined));
    expect(accessLine('collide-before')).toMatchObject({ modelVersion: v2.version, modelRunId: bundle.lineage.runId });
    // Both models, each once, in the order they scored: the same version twice, told apart by the runs.
    expect(accessLine('collide-mixed')).toMatchObject({ modelVersion: `${v2.version},${v2.version}`, modelRunId: `${bundle.lineage.runId},${v2.runId}`, rows: 2 });
    expect(accessLine('collide-after')).toMatchObject({ modelVersion: v2.version, modelRunId: v2.runId });
    const refusedLine = accessLine('collide-refused');
    expect(refusedLine).toMatchObject({ status: 403, rows: 1 });
    expect(refusedLine).not.toHaveProperty('modelVersion');
    expect(refusedLine).not.toHaveProperty('modelRunId');

    // Predictions served, by model: two each (the refused request's scored field was served to nobody).
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const byRun = new Map<string, number>();
    for (const [, labels, value] of text.matchAll(/^gateway_predictions_total\{([^}]*)\} (\d+)$/gm)) {
      expect(labels).toContain(`version="${v2.version}"`);
      const runId = /run_id="([^"]*)"/.exec(labels as string)?.[1] as string;
      byRun.set(runId, (byRun.get(runId) ?? 0) + Number(value));
    }
    expect(Object.fromEntries(byRun)).toEqual({ [bundle.lineage.runId]: 2, [v2.runId]: 2 });
  });
});
