/**
 * Explainers of model versions served from a real `mlflow server`: a version registered before
 * explainers existed serves with explanation null, one with an explainer serves explanations of
 * its own, and one whose explainer.json was tampered with (its sha256 updated in the manifest, so
 * only the reference check can catch it) is refused like a parity failure while the old model keeps serving. A manifest
 * whose explainer.tolerance would let trees with other covers through, and one naming an explainer.json the run does not
 * hold, are refused with their reasons; rolling back to the version without explainer takes the explanations away again.
 * The group report, which the manifest does not name, travels the same way: the version whose run holds
 * bundle/group_report.json serves it as modelInfo.groupReport, the one without (MLflow answers that the artifact does
 * not exist) serves null.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_DIR, GRAPHQL_CUSTOMER, gql, startTestGateway, waitFor, type TestGateway } from './helpers/index.js';
import { ensureVenv, mlflowRest, readBundleFiles, registerHandMadeBundle, setAlias, startMlflowServer, type MlflowServer } from './helpers/mlflow-server.js';

const MODEL = 'telco-churn';
/** Operators read the notice's detail (modelInfo.noticeDetail) with it. */
const ADMIN_TOKEN = 'explainer-admin-token-0123456789';
const sha = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

let mlflow: MlflowServer;
let gw: TestGateway;
const v = { without: '', with: '', tampered: '', halfNamed: '', looseCovers: '', noFile: '' };

interface Answer {
  modelVersion: string;
  churnProbability: number;
  explanation: { logOdds: number; drivers: { name: string }[] } | null;
}

async function predict(): Promise<Answer> {
  const res = await gql<{ predict: Answer }, unknown>(
    gw.url,
    'mutation P($c: CustomerInput!) { predict(customer: $c) { modelVersion churnProbability explanation { logOdds drivers { name } } } }',
    { c: GRAPHQL_CUSTOMER },
  );
  expect(res.status).toBe(200);
  return res.body.data?.predict as Answer;
}

interface Info {
  version: string | null;
  notice: string | null;
  explainer: { trees: number } | null;
  groupReport: { overall: { customers: number } } | null;
}

/** As an operator reads it: `notice` is the notice's detail (modelInfo.noticeDetail, with the admin token). */
async function modelInfo(): Promise<Info> {
  const res = await gql<{ modelInfo: Info }, unknown>(gw.url, '{ modelInfo { version notice: noticeDetail explainer { trees } groupReport { overall { customers } } } }', undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });
  return res.body.data?.modelInfo as Info;
}

/** The committed bundle's explainer.json, as its manifest names it. */
const EXPLAINER_SHA256 = (JSON.parse(readFileSync(path.join(BUNDLE_DIR, 'manifest.json'), 'utf8')) as { explainer: { sha256: string } }).explainer.sha256;

/**
 * Points the alias at `refused`, waits for the gateway to say it could not load it, and returns
 * that notice after checking the version with an explainer still serves. The caller points the
 * alias back once it has checked what it needs.
 */
async function refusalOf(refused: string): Promise<string> {
  expect((await modelInfo()).version).toBe(v.with);
  await setAlias(mlflow.url, MODEL, 'champion', refused);
  await waitFor(`the notice about refused version ${refused}`, async () => (await modelInfo()).notice?.includes(`names version ${refused}, which could not be loaded`) === true, 15_000);
  const { notice, version } = await modelInfo();
  expect(version).toBe(v.with);
  return notice ?? '';
}

const failedReloads = async () => Number(/^gateway_model_reloads_total\{result="failed"\} (\d+)$/m.exec(await (await fetch(`${gw.url}/metrics`)).text())?.[1] ?? 0);

beforeAll(async () => {
  await ensureVenv();
  mlflow = await startMlflowServer();
  const { experiment_id: experimentId } = await mlflowRest<{ experiment_id: string }>(mlflow.url, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'telco-churn' });
  await mlflowRest(mlflow.url, 'POST', '/api/2.0/mlflow/registered-models/create', { name: MODEL });
  const packaged = await readBundleFiles(BUNDLE_DIR);
  const explainerJson = await readFile(path.join(BUNDLE_DIR, 'explainer.json'), 'utf8');
  const manifest = JSON.parse(Buffer.from(packaged['manifest.json'] as Uint8Array).toString('utf8')) as Record<string, unknown> & { explainer: { sha256: string } };
  expect(manifest.explainer.sha256).toBe(sha(explainerJson));

  // Registered before explainers existed: no entry, no file.
  const older: Record<string, unknown> = { ...manifest };
  delete older['explainer'];
  v.without = (await registerHandMadeBundle(mlflow.url, experimentId, MODEL, { ...packaged, 'manifest.json': JSON.stringify(older) })).version;
  const groupReportJson = await readFile(path.join(BUNDLE_DIR, 'group_report.json'), 'utf8');
  v.with = (await registerHandMadeBundle(mlflow.url, experimentId, MODEL, { ...packaged, 'explainer.json': explainerJson, 'group_report.json': groupReportJson })).version;
  // One leaf of one tree moved, the manifest's sha256 updated to the new bytes: only recomputing the reference contributions can tell.
  const tampered = JSON.parse(explainerJson) as { trees: { left: number[]; leaf: number[] }[] };
  const t = tampered.trees[17] as { left: number[]; leaf: number[] };
  const leaf = t.left.indexOf(-1);
  t.leaf[leaf] = (t.leaf[leaf] as number) + 0.05;
  const tamperedJson = JSON.stringify(tampered);
  v.tampered = (
    await registerHandMadeBundle(mlflow.url, experimentId, MODEL, {
      ...packaged,
      'manifest.json': JSON.stringify({ ...manifest, explainer: { ...manifest.explainer, sha256: sha(tamperedJson) } }),
      'explainer.json': tamperedJson,
    })
  ).version;
  // An explainer entry without its checksum and counts.
  v.halfNamed = (
    await registerHandMadeBundle(mlflow.url, experimentId, MODEL, { ...packaged, 'manifest.json': JSON.stringify({ ...manifest, explainer: { file: 'explainer.json' } }), 'explainer.json': explainerJson })
  ).version;
  // Every root's two children with their covers swapped: no margin changes (so sigmoid of each reference row is still its
  // parity probability), but contributions move by up to 0.89 log-odds; a tolerance of 1 would let that through.
  const swapped = JSON.parse(explainerJson) as { trees: { left: number[]; right: number[]; cover: number[] }[] };
  for (const tree of swapped.trees) {
    const [l, r] = [tree.left[0] as number, tree.right[0] as number];
    [tree.cover[l], tree.cover[r]] = [tree.cover[r] as number, tree.cover[l] as number];
  }
  const swappedJson = JSON.stringify(swapped);
  v.looseCovers = (
    await registerHandMadeBundle(mlflow.url, experimentId, MODEL, {
      ...packaged,
      'manifest.json': JSON.stringify({ ...manifest, explainer: { ...manifest.explainer, sha256: sha(swappedJson), tolerance: 1 } }),
      'explainer.json': swappedJson,
    })
  ).version;
  // The manifest names explainer.json, but it was never uploaded.
  const notUploaded = Object.fromEntries(Object.entries(packaged).filter(([file]) => file !== 'explainer.json'));
  v.noFile = (await registerHandMadeBundle(mlflow.url, experimentId, MODEL, notUploaded)).version;
  await setAlias(mlflow.url, MODEL, 'champion', v.without);
  gw = await startTestGateway({ MLFLOW_TRACKING_URI: mlflow.url, MODEL_URI: `models:/${MODEL}@champion`, MLFLOW_POLL_INTERVAL_MS: '100', MLFLOW_TIMEOUT_MS: '5000', LOG_LEVEL: 'info', ADMIN_TOKEN });
}, 300_000);

afterAll(async () => {
  await gw?.close();
  await mlflow?.stop();
});

describe('explainers of model versions served from MLflow', () => {
  it('serves a version registered without explainer with explanation null, then a version with one with its own explanations', async () => {
    expect(await modelInfo()).toEqual({ version: v.without, notice: null, explainer: null, groupReport: null });
    const before = await predict();
    expect(before).toMatchObject({ modelVersion: v.without, explanation: null });

    await setAlias(mlflow.url, MODEL, 'champion', v.with);
    await waitFor(`version ${v.with} to serve`, async () => (await modelInfo()).version === v.with, 15_000);
    expect(await modelInfo()).toEqual({ version: v.with, notice: null, explainer: { trees: 462 }, groupReport: { overall: { customers: 1409 } } });
    // The operator reads from the log that the new model explains and the old one did not.
    expect(gw.logs.filter((l) => l['msg'] === 'model swapped' && l['to'] === v.with).at(-1)).toMatchObject({ fromExplainerSha256: null, toExplainerSha256: EXPLAINER_SHA256 });
    const after = await predict();
    expect(after.modelVersion).toBe(v.with);
    expect(after.explanation?.drivers).toHaveLength(20);
    expect(Math.abs(1 / (1 + Math.exp(-(after.explanation?.logOdds ?? 0))) - after.churnProbability)).toBeLessThanOrEqual(1e-5);
  });

  it('refuses a version whose explainer.json was tampered with (sha256 updated), as a parity failure is refused: the serving version keeps serving', async () => {
    const failed = await failedReloads();
    const notice = await refusalOf(v.tampered);
    expect(notice).toContain(`names version ${v.tampered}, which could not be loaded (MODEL_BUNDLE_INVALID`);
    expect(notice).toMatch(/explainer check failed for explainer\.json in .* reference case \d+ \(parity case \d+\), .*\(\|Δ\| \S+ > tolerance 0\.0001\)/);
    expect(await failedReloads()).toBe(failed + 1);
    const still = await predict();
    expect(still.modelVersion).toBe(v.with);
    expect(still.explanation?.drivers).toHaveLength(20);
    await setAlias(mlflow.url, MODEL, 'champion', v.with);
  });

  it('names what is wrong with an explainer entry in a manifest read from MLflow, not the ONNX and parity files', async () => {
    const notice = await refusalOf(v.halfNamed);
    expect(notice).toMatch(/manifest\.json in .* does not name its files as the bundle format says: explainer\.sha256: .*; explainer\.trees: .*; explainer\.referenceCount: .*; explainer\.tolerance: /);
    await setAlias(mlflow.url, MODEL, 'champion', v.with);
  });

  it("refuses an explainer.tolerance too large to tell the model's covers from others (covers swapped, so its drivers are not xgboost's)", async () => {
    const notice = await refusalOf(v.looseCovers);
    expect(notice).toMatch(/\(MODEL_BUNDLE_INVALID: explainer\.tolerance in manifest\.json in \S+ run \w+ \(experiment telco-churn, \S+ = version \d+ of telco-churn\) artifacts bundle\/ is 1; it must be at most 0\.001 log-odds per contribution: a larger one would accept trees whose covers are not the model's, and risk drivers that are not xgboost's\)/);
    expect((await predict()).explanation?.drivers).toHaveLength(20);
    await setAlias(mlflow.url, MODEL, 'champion', v.with);
  });

  it('names the explainer.json a manifest names but the run does not hold', async () => {
    const notice = await refusalOf(v.noFile);
    expect(notice).toMatch(
      /\(MLFLOW_NOT_FOUND: MLflow at \S+ answered HTTP 404 RESOURCE_DOES_NOT_EXIST for artifact bundle\/explainer\.json of run \w+ .*\[model models:\/telco-churn@champion = version \d+ of telco-churn\]\); each poll tries it again, and loads it once MLflow has its run and bundle\/ files; point models:\/telco-churn@champion at a version whose run is kept; model version \d+ keeps serving\.$/,
    );
    await setAlias(mlflow.url, MODEL, 'champion', v.with);
  });

  it('rolling the alias back to a version without explainer serves it without explanations, and modelInfo.explainer and groupReport follow', async () => {
    await waitFor(`version ${v.with} to serve`, async () => (await modelInfo()).version === v.with, 15_000);
    expect((await predict()).explanation?.drivers).toHaveLength(20);
    await setAlias(mlflow.url, MODEL, 'champion', v.without);
    await waitFor(`version ${v.without} to serve again`, async () => (await modelInfo()).version === v.without, 15_000);
    expect(await modelInfo()).toEqual({ version: v.without, notice: null, explainer: null, groupReport: null });
    expect(await predict()).toMatchObject({ modelVersion: v.without, explanation: null });
    expect(gw.logs.filter((l) => l['msg'] === 'model swapped' && l['to'] === v.without).at(-1)).toMatchObject({ fromExplainerSha256: EXPLAINER_SHA256, toExplainerSha256: null });
  });
});
