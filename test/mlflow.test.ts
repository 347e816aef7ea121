/**
 * The gateway against a real MLflow 3 tracking server: models trained and registered by
 * the project's own pipeline, loaded by alias, version and run over REST; promotion by
 * reloadModel and by the poller (with predictions in flight); fallback to the bundle and
 * strict refusal when MLflow cannot provide the model; a tampered artifact rejected.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parityFileSchema, type Manifest } from '../src/bundle/manifest.js';
import { MlflowClient, MlflowError } from '../src/mlflow/client.js';
import { ModelInfoDocument, PredictBatchDocument, PredictDocument, ReloadModelDocument } from '../src/generated/graphql.js';
import { GRAPHQL_CUSTOMER, LOYAL_CUSTOMER, gql, operatorNotice, publicNotice, spawnGateway, startTestGateway, waitFor, type TestGateway } from './helpers/index.js';
import {
  ensureVenv,
  freePort,
  mlflowRest,
  readBundleFiles,
  registerHandMadeBundle,
  setAlias,
  startGatedProxy,
  startMlflowServer,
  trainAndRegister,
  writeChurnCsvs,
  type MlflowServer,
} from './helpers/mlflow-server.js';

const MODEL = 'telco-churn';
const CHAMPION = `models:/${MODEL}@champion`;
const ADMIN_TOKEN = 'test-admin-token-0123456789';
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };

interface RestRun {
  run: { info: { run_id: string; experiment_id: string }; data: { params?: { key: string; value: string }[]; metrics?: { key: string; value: number }[] } };
}

let mlflow: MlflowServer;
let work: string;
const runIds: Record<string, string> = {};
const gateways: TestGateway[] = [];

async function gateway(env: Record<string, string>): Promise<TestGateway> {
  const gw = await startTestGateway({ MLFLOW_TRACKING_URI: mlflow.url, MODEL_URI: CHAMPION, MLFLOW_POLL_INTERVAL_MS: '0', ADMIN_TOKEN, OPS_PORT: '0', ...env });
  gateways.push(gw);
  return gw;
}

async function servingVersion(gw: TestGateway): Promise<string | null | undefined> {
  return (await gql(gw.url, ModelInfoDocument)).body.data?.modelInfo.version;
}

beforeAll(async () => {
  await ensureVenv();
  work = await mkdtemp(path.join(tmpdir(), 'gateway-mlflow-'));
  const [server, csvs] = await Promise.all([startMlflowServer(), writeChurnCsvs(work, 600, [7, 8])]);
  mlflow = server;
  // Two versions from different data, so their ONNX bytes differ; each run moves champion.
  await trainAndRegister(mlflow.url, csvs[0] as string, path.join(work, 'bundle-1'));
  await trainAndRegister(mlflow.url, csvs[1] as string, path.join(work, 'bundle-2'));
  for (const version of ['1', '2']) {
    const mv = await mlflowRest<{ model_version: { run_id: string } }>(mlflow.url, 'GET', '/api/2.0/mlflow/model-versions/get', { name: MODEL, version });
    runIds[version] = mv.model_version.run_id;
  }
  await setAlias(mlflow.url, MODEL, 'champion', '1');
}, 300_000);

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await mlflow?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('loading from MLflow', () => {
  it('loads the champion by alias with the lineage MLflow reports', async () => {
    const gw = await gateway({});
    const info = (await gql(gw.url, ModelInfoDocument)).body.data?.modelInfo;
    const { run } = await mlflowRest<RestRun>(mlflow.url, 'GET', '/api/2.0/mlflow/runs/get', { run_id: runIds['1'] as string });
    const experiment = await mlflowRest<{ experiment: { name: string } }>(mlflow.url, 'GET', '/api/2.0/mlflow/experiments/get', { experiment_id: run.info.experiment_id });
    expect(info).toMatchObject({ source: 'MLFLOW', name: MODEL, version: '1', alias: 'champion', modelVersion: '1', runId: runIds['1'], notice: null });
    expect(info?.experimentId).toBe(run.info.experiment_id);
    expect(info?.experimentName).toBe(experiment.experiment.name);
    const byKey = <V>(list: { key: string; value: V }[] | undefined) => [...(list ?? [])].map(({ key, value }) => ({ key, value })).sort((a, b) => a.key.localeCompare(b.key));
    expect(info?.params).toEqual(byKey(run.data.params));
    expect(info?.metrics).toEqual(byKey(run.data.metrics));
    expect(info?.params.length).toBeGreaterThan(5);
    expect(info?.metrics.find((m) => m.key === 'test_roc_auc')?.value).toBeGreaterThan(0.5);
    const health = (await (await fetch(`${gw.url}/`)).json()) as Record<string, unknown>;
    expect(health).toEqual({ status: 'ok', model: MODEL, version: '1', runId: runIds['1'], source: 'MLFLOW' });
    const p = await gql(gw.url, PredictDocument, { customer: GRAPHQL_CUSTOMER });
    expect(p.body.data?.predict.modelVersion).toBe('1');
    // The pipeline's explainer reached MLflow with the bundle: one tree per boosting round (params.n_rounds), and
    // the drivers account for the probability onnxruntime gave.
    const explained = await gql<{ predict: { churnProbability: number; explanation: { baseLogOdds: number; logOdds: number; drivers: { contribution: number }[] } | null } }, unknown>(
      gw.url,
      'mutation P($c: CustomerInput!) { predict(customer: $c) { churnProbability explanation { baseLogOdds logOdds drivers { contribution } } } }',
      { c: GRAPHQL_CUSTOMER },
    );
    const { churnProbability, explanation } = explained.body.data?.predict ?? { churnProbability: NaN, explanation: null };
    expect(explanation?.drivers).toHaveLength(20);
    expect(Math.abs(1 / (1 + Math.exp(-(explanation?.logOdds ?? NaN))) - churnProbability)).toBeLessThanOrEqual(1e-5);
    const sum = (explanation?.drivers ?? []).reduce((total, d) => total + d.contribution, explanation?.baseLogOdds ?? NaN);
    expect(Math.abs(sum - (explanation?.logOdds ?? NaN))).toBeLessThanOrEqual(1e-9);
    const trees = await gql<{ modelInfo: { explainer: { trees: number } | null } }, unknown>(gw.url, '{ modelInfo { explainer { trees } } }');
    expect(trees.body.data?.modelInfo.explainer?.trees).toBe(Number(run.data.params?.find((q) => q.key === 'n_rounds')?.value));
  });

  it('loads a fixed version (models:/name/N) and a run (runs:/<id>/bundle)', async () => {
    const byVersion = await gateway({ MODEL_URI: `models:/${MODEL}/2` });
    expect((await gql(byVersion.url, ModelInfoDocument)).body.data?.modelInfo).toMatchObject({ source: 'MLFLOW', version: '2', alias: null, runId: runIds['2'] });
    const byRun = await gateway({ MODEL_URI: `runs:/${runIds['2']}/bundle` });
    expect((await gql(byRun.url, ModelInfoDocument)).body.data?.modelInfo).toMatchObject({
      source: 'MLFLOW',
      version: null,
      runId: runIds['2'],
      modelVersion: `run-${runIds['2'] as string}`,
    });
    await Promise.all([byVersion.close(), byRun.close()]);
  });
});

describe('promotion', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    await setAlias(mlflow.url, MODEL, 'champion', '1');
    gw = await gateway({});
  });

  it('refuses reloadModel without the admin token, with a wrong one, and when ADMIN_TOKEN is unset', async () => {
    const none = await gql(gw.url, ReloadModelDocument);
    expect(none.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect(none.status).toBe(403);
    const wrong = await gql(gw.url, ReloadModelDocument, {}, { authorization: 'Bearer not-the-admin-token-at-all' });
    expect(wrong.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const unset = await startTestGateway({ MLFLOW_TRACKING_URI: mlflow.url, MODEL_URI: CHAMPION, MLFLOW_POLL_INTERVAL_MS: '0' });
    try {
      const res = await gql(unset.url, ReloadModelDocument, {}, ADMIN);
      expect(res.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    } finally {
      await unset.close();
    }
    expect(await servingVersion(gw)).toBe('1');
  });

  it('swaps to the new champion on reloadModel with 500 predictions in flight: none fails, none mixes models', async () => {
    // The gateway under test reaches MLflow through a proxy that holds the ONNX download, so the
    // swap is timed to land while the 500 predictions are in flight.
    const proxy = await startGatedProxy(mlflow.url);
    const swapping = await startTestGateway({ MLFLOW_TRACKING_URI: proxy.url, MODEL_URI: CHAMPION, MLFLOW_POLL_INTERVAL_MS: '0', ADMIN_TOKEN });
    try {
      expect(await servingVersion(swapping)).toBe('1');
      await setAlias(mlflow.url, MODEL, 'champion', '2');
      const batch = Array.from({ length: 20 }, (_, i) => ({ ...(i % 2 ? LOYAL_CUSTOMER : GRAPHQL_CUSTOMER), tenure: i * 3 }));
      let answered = 0;
      // Far outside both models' training ranges: each answer's notes must carry the ranges of the model that scored it.
      const FAR_OUTSIDE = { ...GRAPHQL_CUSTOMER, tenure: 1200, monthlyCharges: 5000 };
      const ranged: { version: string | undefined; notes: unknown }[] = [];
      const ask = (i: number) =>
        (i % 5 === 0
          ? gql(swapping.url, PredictBatchDocument, { customers: batch }).then((r) => ({ status: r.status, errors: r.body.errors, versions: (r.body.data?.predictBatch ?? []).map((p) => p.modelVersion) }))
          : gql(swapping.url, PredictDocument, { customer: FAR_OUTSIDE }).then((r) => {
              ranged.push({ version: r.body.data?.predict.modelVersion, notes: r.body.data?.predict.outsideTrainingRange });
              return { status: r.status, errors: r.body.errors, versions: [r.body.data?.predict.modelVersion] };
            })
        ).finally(() => answered++);

      const gate = proxy.hold('model.onnx');
      const reload = gql(swapping.url, ReloadModelDocument, {}, ADMIN);
      await gate.reached;
      const inFlight = Array.from({ length: 500 }, (_, i) => ask(i));
      await waitFor('the first answers', () => answered >= 50);
      gate.release();
      const reloaded = await reload;
      const answers = await Promise.all(inFlight);

      expect(reloaded.body.errors).toBeUndefined();
      expect(reloaded.body.data?.reloadModel).toMatchObject({ changed: true, model: { version: '2', alias: 'champion', runId: runIds['2'], source: 'MLFLOW' } });
      expect(answers.filter((a) => a.status !== 200 || a.errors)).toEqual([]);
      const seen = new Map<string, number>();
      for (const a of answers) {
        expect(new Set(a.versions).size).toBe(1); // one model per answer, batch or not
        const v = a.versions[0] as string;
        seen.set(v, (seen.get(v) ?? 0) + 1);
      }
      expect([...seen.keys()].sort()).toEqual(['1', '2']);
      const expectedNotes = async (version: string) => {
        const { featureSpec } = JSON.parse(await readFile(path.join(work, `bundle-${version}`, 'manifest.json'), 'utf8')) as Manifest;
        const range = (column: string) => {
          const { observedMin, observedMax } = featureSpec.columns.find((c) => c.name === column) ?? {};
          return { observedMin, observedMax };
        };
        return [
          { field: 'tenure', value: 1200, ...range('tenure') },
          { field: 'monthlyCharges', value: 5000, ...range('MonthlyCharges') },
        ];
      };
      const notesOf = { '1': await expectedNotes('1'), '2': await expectedNotes('2') };
      // Trained on different files, the two models' ranges differ: each answer's notes name its own model's.
      expect(notesOf['1']).not.toEqual(notesOf['2']);
      for (const { version, notes } of ranged) expect(notes, `model ${version}`).toEqual(notesOf[version as '1' | '2']);
      expect(await servingVersion(swapping)).toBe('2');
      expect((await gql(swapping.url, PredictDocument, { customer: GRAPHQL_CUSTOMER })).body.data?.predict.modelVersion).toBe('2');
      console.info(`answers during the swap by model version: ${JSON.stringify(Object.fromEntries(seen))}`);
    } finally {
      await swapping.close();
      await proxy.close();
    }
  });

  it('serves the new champion on reloadModel and reports no change on a second call', async () => {
    const first = await gql(gw.url, ReloadModelDocument, {}, ADMIN);
    expect(first.body.data?.reloadModel).toMatchObject({ changed: true, model: { version: '2', alias: 'champion', runId: runIds['2'], source: 'MLFLOW' } });
    expect(await servingVersion(gw)).toBe('2');
    const res = await gql(gw.url, ReloadModelDocument, {}, ADMIN);
    expect(res.body.data?.reloadModel).toMatchObject({ changed: false, model: { version: '2' } });
  });

  it('follows the alias with the poller alone', async () => {
    const polled = await gateway({ MLFLOW_POLL_INTERVAL_MS: '200' });
    expect(await servingVersion(polled)).toBe('2');
    // The swap is logged before anything else runs on the new model: by the first microtask
    // after the switch, not once the old model is released.
    const loggedOnSwap: boolean[] = [];
    polled.slot.onSwap((model) => queueMicrotask(() => loggedOnSwap.push(polled.logs.some((l) => l['msg'] === 'model swapped' && l['to'] === model.modelVersion))));
    await setAlias(mlflow.url, MODEL, 'champion', '1');
    await waitFor('the poller to serve version 1', async () => (await servingVersion(polled)) === '1');
    await setAlias(mlflow.url, MODEL, 'champion', '2');
    await waitFor('the poller to serve version 2', async () => (await servingVersion(polled)) === '2');
    expect(polled.logs.filter((l) => l['msg'] === 'model swapped' && l['to'] === '2').at(-1)).toMatchObject({ from: '1', fromRunId: runIds['1'], toRunId: runIds['2'] });
    expect(loggedOnSwap).toEqual([true, true]);
  });

  it('rejects a version whose model.onnx does not match its manifest; the old model keeps serving', async () => {
    const polled = await gateway({ MLFLOW_POLL_INTERVAL_MS: '200' });
    const files = await readBundleFiles(path.join(work, 'bundle-1'));
    const onnx = new Uint8Array(files['model.onnx'] as Uint8Array);
    onnx[onnx.length - 1] = (onnx[onnx.length - 1] as number) ^ 0xff;
    const run = await mlflowRest<RestRun>(mlflow.url, 'GET', '/api/2.0/mlflow/runs/get', { run_id: runIds['1'] as string });
    const tampered = await registerHandMadeBundle(mlflow.url, run.run.info.experiment_id, MODEL, { ...files, 'model.onnx': onnx });
    await setAlias(mlflow.url, MODEL, 'champion', tampered.version);

    const res = await gql(gw.url, ReloadModelDocument, {}, ADMIN);
    const error = res.body.errors?.[0];
    expect(error?.extensions?.['code']).toBe('MODEL_BUNDLE_INVALID');
    expect(res.status).toBe(422);
    expect(error?.message).toMatch(/model\.onnx .* has sha256 [0-9a-f]{64}, but the manifest says/);
    expect(error?.message).toContain(tampered.runId);
    expect(await servingVersion(gw)).toBe('2');
    expect((await gql(gw.url, PredictDocument, { customer: GRAPHQL_CUSTOMER })).body.data?.predict.modelVersion).toBe('2');

    // The poller rejects it once, remembers it, and keeps serving version 2.
    await waitFor('the poller to reject the tampered version', () => polled.logs.some((l) => l['msg'] === 'model reload rejected; the current model keeps serving'));
    await new Promise((r) => setTimeout(r, 800));
    expect(polled.logs.filter((l) => l['msg'] === 'model reload rejected; the current model keeps serving')).toHaveLength(1);
    expect(await servingVersion(polled)).toBe('2');
    await setAlias(mlflow.url, MODEL, 'champion', '2');
  });

  it('rejects a version whose parity vectors the encoder cannot read as an invalid bundle (422, the poller skips it), not as inference failing', async () => {
    // At debug: a poll that fails again as the last one did is logged there, so every retry shows.
    const polled = await gateway({ MLFLOW_POLL_INTERVAL_MS: '200', LOG_LEVEL: 'debug' });
    const files = await readBundleFiles(path.join(work, 'bundle-1'));
    const parity = parityFileSchema.parse(JSON.parse(Buffer.from(files['parity.json'] as Uint8Array).toString('utf8')));
    delete (parity.cases[5]?.input as Record<string, unknown>)['tenure'];
    const parityText = JSON.stringify(parity);
    const manifest = JSON.parse(Buffer.from(files['manifest.json'] as Uint8Array).toString('utf8')) as { parity: { sha256: string } };
    manifest.parity.sha256 = createHash('sha256').update(parityText).digest('hex');
    const run = await mlflowRest<RestRun>(mlflow.url, 'GET', '/api/2.0/mlflow/runs/get', { run_id: runIds['1'] as string });
    const broken = await registerHandMadeBundle(mlflow.url, run.run.info.experiment_id, MODEL, { ...files, 'parity.json': parityText, 'manifest.json': JSON.stringify(manifest) });
    await setAlias(mlflow.url, MODEL, 'champion', broken.version);

    const res = await gql(gw.url, ReloadModelDocument, {}, ADMIN);
    const error = res.body.errors?.[0];
    expect(error?.extensions?.['code']).toBe('MODEL_BUNDLE_INVALID');
    expect(res.status).toBe(422);
    expect(error?.message).toMatch(/parity check could not run for .*: feature tenure: column tenure is undefined/);
    expect(await servingVersion(gw)).toBe('2');

    // Rejected once and remembered: not downloaded and replayed again at every poll (four in 800 ms;
    // the poller tries it again every REJECTED_RETRY_POLLS, that failure logged at debug).
    await waitFor('the poller to reject the version', () => polled.logs.some((l) => l['msg'] === 'model reload rejected; the current model keeps serving'));
    await new Promise((r) => setTimeout(r, 800));
    const rejections = polled.logs.filter((l) => l['msg'] === 'model reload rejected; the current model keeps serving');
    expect(rejections.filter((l) => l['level'] === 'error')).toHaveLength(1);
    expect(rejections.length).toBeLessThanOrEqual(2);
    expect(await servingVersion(polled)).toBe('2');
    await setAlias(mlflow.url, MODEL, 'champion', '2');
  });
});

describe('when MLflow cannot provide the model at start-up', () => {
  it('serves the bundle with a notice when the alias does not exist', async () => {
    const gw = await gateway({ MODEL_URI: `models:/${MODEL}@nonexistent` });
    const info = await operatorNotice(gw, ADMIN_TOKEN);
    expect(info.source).toBe('BUNDLE');
    expect(info.notice).toContain(`models:/${MODEL}@nonexistent`);
    expect(info.notice).toContain('alias nonexistent of registered model telco-churn');
    expect(info.notice).toContain(mlflow.url);
    expect(info.summary).toBe(`MLflow model models:/${MODEL}@nonexistent could not be loaded at start-up (MLFLOW_NOT_FOUND), so the packaged bundle is served.`);
    await gw.close();
  });

  it('serves the bundle with a notice in modelInfo, GET / and the logs when MLflow is down', async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const gw = await startTestGateway({ MLFLOW_TRACKING_URI: down, MODEL_URI: CHAMPION, MLFLOW_TIMEOUT_MS: '1000', ADMIN_TOKEN, OPS_PORT: '0' });
    gateways.push(gw);
    // Operators (the admin token; OPS_PORT) read where MLflow was looked for and what failed.
    const info = await operatorNotice(gw, ADMIN_TOKEN);
    expect(info.source).toBe('BUNDLE');
    expect(info.notice).toContain(down);
    expect(info.notice).toContain(CHAMPION);
    expect(info.health.notice).toBe(info.notice);
    // Anyone (modelInfo without a token; GET / on PORT, which the load balancer exposes): what serves and why, not where MLflow is.
    const summary = `MLflow model ${CHAMPION} could not be loaded at start-up (MLFLOW_UNAVAILABLE), so the packaged bundle is served.`;
    expect(await publicNotice(gw.url)).toEqual({ version: info.version, notice: summary, health: { version: info.version, notice: summary } });
    const health = (await (await fetch(`${gw.url}/`)).json()) as Record<string, unknown>;
    expect(health['source']).toBe('BUNDLE');
    expect(JSON.stringify(health)).not.toContain(down.slice('http://'.length));
    expect(gw.logs.some((l) => l['level'] === 'warn' && String(l['msg']).includes('serving the packaged bundle'))).toBe(true);
  });

  it('refuses to start in strict mode with one line naming the tracking URI and model URI', async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const child = await spawnGateway({ MLFLOW_TRACKING_URI: down, MODEL_URI: CHAMPION, MLFLOW_STRICT: 'true', MLFLOW_TIMEOUT_MS: '1000' }, { waitReady: false });
    expect(await child.exited).toBe(1);
    const lines = child.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^churn-gateway: cannot start: MLFLOW_STRICT is set and model models:\/telco-churn@champion could not be loaded from MLflow at http:\/\/127\.0\.0\.1:\d+/);
    expect(lines[0]).toContain(down);
    expect(lines[0]).toContain('alias champion of registered model telco-churn');
  });
});

describe('MlflowClient', () => {
  /** A stand-in server that answers each request with the next scripted reply, counting calls. */
  async function scripted(replies: { status: number; body: unknown; delayMs?: number }[]) {
    const { createServer } = await import('node:http');
    let calls = 0;
    const server = createServer((_req, res) => {
      const reply = replies[Math.min(calls++, replies.length - 1)] as (typeof replies)[number];
      setTimeout(() => {
        res.writeHead(reply.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(reply.body));
      }, reply.delayMs ?? 0);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    return { url: `http://127.0.0.1:${port}`, calls: () => calls, close: () => new Promise<void>((r) => server.close(() => r())) };
  }
  const version = { model_version: { name: MODEL, version: '7', run_id: 'abc' } };

  it('retries 5xx with backoff and returns the validated answer', async () => {
    const server = await scripted([{ status: 503, body: {} }, { status: 500, body: {} }, { status: 200, body: version }]);
    const client = new MlflowClient({ trackingUri: server.url, timeoutMs: 1000, backoffMs: 10 });
    await expect(client.getModelVersionByAlias(MODEL, 'champion')).resolves.toMatchObject({ version: '7', run_id: 'abc' });
    expect(server.calls()).toBe(3);
    await server.close();
  });

  it('does not retry a 4xx, and the error names the URL and what was looked for', async () => {
    const server = await scripted([{ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Registered Model with name=telco-churn not found' } }]);
    const client = new MlflowClient({ trackingUri: server.url, timeoutMs: 1000, backoffMs: 10 });
    const err = (await client.getModelVersionByAlias(MODEL, 'champion').catch((e: unknown) => e)) as MlflowError;
    expect(err).toBeInstanceOf(MlflowError);
    expect(err).toMatchObject({ code: 'MLFLOW_NOT_FOUND', status: 404, mlflowCode: 'RESOURCE_DOES_NOT_EXIST', lookingFor: 'alias champion of registered model telco-churn' });
    expect(err.url).toBe(`${server.url}/api/2.0/mlflow/registered-models/alias?name=telco-churn&alias=champion`);
    expect(err.message).toContain(err.url);
    expect(server.calls()).toBe(1);
    await server.close();
  });

  it('times out, and rejects an answer of the wrong shape', async () => {
    const slow = await scripted([{ status: 200, body: version, delayMs: 500 }]);
    const impatient = new MlflowClient({ trackingUri: slow.url, timeoutMs: 100, retries: 1, backoffMs: 10 });
    const err = (await impatient.getModelVersion(MODEL, '7').catch((e: unknown) => e)) as MlflowError;
    expect(err).toMatchObject({ code: 'MLFLOW_UNAVAILABLE', status: null });
    // The limit is per attempt: the message names the attempt and the whole wait (two timeouts and the backoff).
    const said = /: no answer within 100 ms \(attempt 2 of 2, (\d+\.\d) s in all with the waits between attempts\)$/.exec(err.message);
    expect(said, err.message).not.toBeNull();
    expect(Number(said?.[1])).toBeGreaterThanOrEqual(0.2);
    expect(slow.calls()).toBe(2);
    // With no retries, one attempt.
    const once = new MlflowClient({ trackingUri: slow.url, timeoutMs: 100, retries: 0 });
    await expect(once.getModelVersion(MODEL, '7')).rejects.toThrow(/: no answer within 100 ms \(one attempt, \d+\.\d s\)$/);
    expect(slow.calls()).toBe(3);
    await slow.close();
    const odd = await scripted([{ status: 200, body: { model_version: { name: MODEL } } }]);
    const client = new MlflowClient({ trackingUri: odd.url, timeoutMs: 1000 });
    await expect(client.getModelVersion(MODEL, '7')).rejects.toThrow(/unexpected shape .*model_version\.version/);
    await odd.close();
  });
});
