/**
 * The saved Logs Insights queries (lib/saved-queries.ts) name fields and messages of the lines the
 * gateway writes, which this app does not import at synth. Logs Insights cannot run offline, so
 * here the real gateway writes its lines (answers, a refused start, an uncaught exception, a model swap, a timeout, a
 * request while no model is loaded, and MLflow's trouble: a champion whose bundle fails its check, MLflow
 * unreachable at start-up and then back), each query's filter is evaluated on them, and every field the
 * query shows, groups by or sorts on must be in a line its filter selects: a renamed field or
 * message fails here. The ECS queries are checked against AWS's documented example events.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_LOG_FLUSH_MS } from '../../src/logger.js';
import { BUNDLE_DIR, REPO_ROOT, gql, postJson, spawnGateway, startTestGateway, waitFor, type TestGateway } from '../../test/helpers/gateway.js';
import { GRAPHQL_CUSTOMER, LEGACY_PAYLOAD } from '../../test/helpers/customers.js';
import { ensureVenv, freePort, mlflowRest, readBundleFiles, registerHandMadeBundle, setAlias, startGatedProxy, startMlflowServer, type MlflowServer } from '../../test/helpers/mlflow-server.js';
import { FAILURE_MESSAGES, MLFLOW_TROUBLE_MESSAGES, REQUEST_ID_PLACEHOLDER, SAVED_QUERIES, type SavedQuery } from '../lib/saved-queries.js';
import { propsOfType, synth } from './helpers.js';
import { fieldsToRead, runbookSection } from './runbook.js';

type Line = Record<string, unknown>;

const PREDICT = 'mutation Predict($c: CustomerInput!) { predict(customer: $c) { churnProbability } }';
const PREDICT_BATCH = 'mutation Batch($cs: [CustomerInput!]!) { predictBatch(customers: $cs) { churnProbability } }';
const ADMIN_TOKEN = 'saved-queries-admin-token-0123456789';
const MODEL = 'telco-churn';
/** The commit the gateway that lives through an MLflow outage (below) says it was built from. */
const REVISION = '5eed0123456789abcdef0123456789abcdef0123';

/** Request ids the "one request" query is run with: a REST 503, a GraphQL field's 503 and a REST answer. */
const ONE_REQUEST_IDS = ['sq-rest-not-ready', 'sq-graphql-not-ready', 'sq-rest-single'];

/**
 * Messages no test can make the gateway write without breaking it (a 500): checked in the source
 * line that writes them instead.
 */
const RUN_GOING = "the serving model's record in the model source is going away; it keeps serving";
const RUN_KEPT = "the serving model's record in the model source is kept again";

const MESSAGES_IN_SOURCE: Record<string, string> = {
  'unexpected error': 'src/app.ts',
  // Refusals and a shutdown's deadline that need held load or a hung request, which the gateway
  // tests that cause them check (test/driver-budget.test.ts, body-budget.test.ts, shutdown.test.ts).
  'explanation refused: too many risk drivers being explained at once': 'src/schema/explanation.ts',
  'request body refused: MAX_BODY_BYTES_IN_FLIGHT full': 'src/app.ts',
  'shutdown timeout: request answered 503 before its work ended': 'src/app.ts',
  // A reload whose candidate finished loading (ONNX session, warm-up) after reloadModel's deadline: a race no test can time.
  'model reload cancelled after its deadline; the current model keeps serving': 'src/model/model-admin.ts',
};

/**
 * AWS's example events (Amazon ECS Developer Guide, "Amazon ECS task state change events" and
 * "Amazon ECS deployment state change events" / "service action events"), as EventBridge writes
 * them to the EcsEvents log group; only the fields the queries read and their neighbours are kept.
 */
const ECS_EVENTS: Line[] = [
  {
    'detail-type': 'ECS Task State Change',
    source: 'aws.ecs',
    detail: {
      clusterArn: 'arn:aws:ecs:us-west-2:111122223333:cluster/churn-gateway',
      containers: [{ name: 'gateway', exitCode: 1, lastStatus: 'STOPPED', reason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s)' }],
      desiredStatus: 'STOPPED',
      lastStatus: 'STOPPED',
      stopCode: 'TaskFailedToStart',
      stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s)',
      taskArn: 'arn:aws:ecs:us-west-2:111122223333:task/churn-gateway/0123456789abcdef',
      taskDefinitionArn: 'arn:aws:ecs:us-west-2:111122223333:task-definition/churn-gateway:41',
    },
  },
  {
    'detail-type': 'ECS Deployment State Change',
    source: 'aws.ecs',
    resources: ['arn:aws:ecs:us-west-2:111122223333:service/churn-gateway/churn-gateway'],
    detail: { eventType: 'ERROR', eventName: 'SERVICE_DEPLOYMENT_FAILED', deploymentId: 'ecs-svc/123', updatedAt: '2020-05-23T11:11:11Z', reason: 'ECS deployment circuit breaker: task failed to start.' },
  },
  {
    'detail-type': 'ECS Service Action',
    source: 'aws.ecs',
    detail: { eventType: 'WARN', eventName: 'SERVICE_TASK_START_IMPAIRED', clusterArn: 'arn:aws:ecs:us-west-2:111122223333:cluster/churn-gateway', createdAt: '2019-11-19T19:55:38.725Z' },
  },
];

const gatewayLines: Line[] = [];
let gw: TestGateway | undefined;
let mlflow: MlflowServer | undefined;
let work = '';
/** The version registered with a bundle that fails its check. */
let tamperedVersion = '';
let championRunId = '';

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'saved-queries-'));
  const bundle = path.join(work, 'bundle');
  await cp(BUNDLE_DIR, bundle, { recursive: true });

  // 1. A refused start: the "cannot start" line with its problems (two of them).
  const refused = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: 'eighty', MAX_BATCH: '0', MODEL_DIR: bundle },
  });
  let stdout = '';
  refused.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const [code] = (await once(refused, 'close')) as [number | null];
  expect(code).toBe(1);
  for (const line of stdout.split('\n')) if (line.startsWith('{')) gatewayLines.push(JSON.parse(line) as Line);

  // 2. A gateway serving MLflow's champion: answers, a timed-out upload, a promotion swapped in.
  await ensureVenv();
  mlflow = await startMlflowServer();
  const { experiment_id: experimentId } = await mlflowRest<{ experiment_id: string }>(mlflow.url, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'telco-churn' });
  await mlflowRest(mlflow.url, 'POST', '/api/2.0/mlflow/registered-models/create', { name: MODEL });
  const packaged = await readBundleFiles(BUNDLE_DIR);
  const one = await registerHandMadeBundle(mlflow.url, experimentId, MODEL, packaged);
  const two = await registerHandMadeBundle(mlflow.url, experimentId, MODEL, packaged);
  championRunId = two.runId;
  await setAlias(mlflow.url, MODEL, 'champion', one.version);
  gw = await startTestGateway({
    MODEL_DIR: bundle,
    MLFLOW_TRACKING_URI: mlflow.url,
    MODEL_URI: `models:/${MODEL}@champion`,
    MLFLOW_POLL_INTERVAL_MS: '0',
    ADMIN_TOKEN,
    // The default, 30 s: reloadModel's load from MLflow gets it less 1 s. It was 5 s, for the
    // timed-out upload below (now sent to a gateway of its own), and a reload took 4.7 s of the 4.5 s
    // it then got on a machine busy with other work (0.45 s otherwise): 502, and the test failed.
    REQUEST_TIMEOUT_MS: '30000',
  });
  const id = (reqId: string) => ({ 'x-request-id': reqId });
  expect((await postJson(gw.url, '/predict', LEGACY_PAYLOAD, id('sq-rest-single'))).status).toBe(200);
  expect((await postJson(gw.url, '/predict', [LEGACY_PAYLOAD, LEGACY_PAYLOAD], id('sq-rest-batch'))).status).toBe(200);
  expect((await gql(gw.url, PREDICT, { c: GRAPHQL_CUSTOMER }, id('sq-graphql-single'))).status).toBe(200);
  expect((await gql(gw.url, PREDICT_BATCH, { cs: [GRAPHQL_CUSTOMER, GRAPHQL_CUSTOMER] }, id('sq-graphql-batch'))).status).toBe(200);
  // A gateway bug on the GraphQL route: a resolver that throws what no code expects, answered
  // "Unexpected error." with HTTP 200 (the way test/observability.test.ts injects it).
  Object.defineProperty(gw.slot, 'current', {
    configurable: true,
    get: () => {
      throw new TypeError('injected: unexpected failure');
    },
  });
  try {
    const masked = await gql(gw.url, 'query ModelInfo { modelInfo { modelVersion } }', {}, id('sq-graphql-unexpected'));
    expect([masked.status, masked.body.errors?.[0]?.extensions?.['code']]).toEqual([200, 'INTERNAL_SERVER_ERROR']);
  } finally {
    Reflect.deleteProperty(gw.slot, 'current');
  }
  // A body that never arrives in full: 408 and "request timed out" after REQUEST_TIMEOUT_MS, short on
  // a gateway of its own (the one above needs a long one for its reloads).
  const slow = await startTestGateway({ MODEL_DIR: bundle, REQUEST_TIMEOUT_MS: '2000' });
  try {
    const socket = connect(Number(new URL(slow.url).port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write('POST /predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\nx-request-id: sq-slow-upload\r\n\r\n{');
    socket.on('data', () => undefined);
    await once(socket, 'close');
    // Headers over node's 16 KB: node's parser refuses them (431) before the request is routed.
    const big = connect(Number(new URL(slow.url).port), '127.0.0.1');
    await once(big, 'connect');
    big.write(`GET / HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
    big.on('data', () => undefined);
    big.on('error', () => undefined);
    await once(big, 'close');
  } finally {
    await slow.close();
  }
  gatewayLines.push(...slow.logs);
  // A promotion: reloadModel swaps the new champion in.
  await setAlias(mlflow.url, MODEL, 'champion', two.version);
  const reload = await gql(gw.url, 'mutation { reloadModel { changed } }', {}, { authorization: `Bearer ${ADMIN_TOKEN}` });
  expect(reload.body).toEqual({ data: { reloadModel: { changed: true } } });
  // A champion whose bundle fails its check (model.onnx is not the manifest's): reloadModel rejects it.
  const onnx = new Uint8Array(packaged['model.onnx']);
  onnx[onnx.length - 1] = onnx[onnx.length - 1] ^ 0xff;
  const tampered = await registerHandMadeBundle(mlflow.url, experimentId, MODEL, { ...packaged, 'model.onnx': onnx });
  tamperedVersion = tampered.version;
  await setAlias(mlflow.url, MODEL, 'champion', tampered.version);
  const rejected = await gql(gw.url, 'mutation { reloadModel { changed } }', {}, { authorization: `Bearer ${ADMIN_TOKEN}` });
  expect(rejected.body.errors?.[0]?.extensions?.['code']).toBe('MODEL_BUNDLE_INVALID');
  await setAlias(mlflow.url, MODEL, 'champion', two.version);

  // 3. A task still loading its model (MLflow slow to answer): a REST 503 and a GraphQL field's MODEL_NOT_READY.
  const proxy = await startGatedProxy(mlflow.url);
  const held = proxy.hold('/api/');
  const starting = await spawnGateway({ MLFLOW_TRACKING_URI: proxy.url, MODEL_URI: `models:/${MODEL}@champion`, MLFLOW_POLL_INTERVAL_MS: '0' }, { waitReady: false });
  try {
    await held.reached;
    await waitFor('the starting gateway to listen', () => fetch(`${starting.url}/`).then((r) => r.status === 503, () => false), 30_000);
    expect((await postJson(starting.url, '/predict', LEGACY_PAYLOAD, id('sq-rest-not-ready'))).status).toBe(503);
    const graphql = await gql(starting.url, PREDICT, { c: GRAPHQL_CUSTOMER }, id('sq-graphql-not-ready'));
    expect(graphql.body.errors?.[0]?.extensions?.['code']).toBe('MODEL_NOT_READY');
  } finally {
    held.release();
    starting.child.kill('SIGTERM');
    await starting.exited;
    await proxy.close();
  }
  for (const line of starting.stdout().split('\n')) if (line.startsWith('{')) gatewayLines.push(JSON.parse(line) as Line);

  // 4. An uncaught exception (a test-only preload throws one on SIGUSR2): its fatal line.
  const crashing = await spawnGateway({}, { nodeArgs: ['--import', `${REPO_ROOT}test/fixtures/throw-on-sigusr2.mjs`] });
  crashing.child.kill('SIGUSR2');
  expect(await crashing.exited).toBe(1);
  for (const line of crashing.stdout().split('\n')) if (line.startsWith('{')) gatewayLines.push(JSON.parse(line) as Line);

  // 5. MLflow unreachable when a task starts: it serves its packaged bundle, its poller's check fails;
  // then MLflow answers again and the poller swaps the champion in.
  const mlflowPort = await freePort();
  const outage = await spawnGateway({
    MODEL_DIR: bundle,
    MLFLOW_TRACKING_URI: `http://127.0.0.1:${mlflowPort}`,
    MODEL_URI: `models:/${MODEL}@champion`,
    MLFLOW_POLL_INTERVAL_MS: '200',
    MLFLOW_TIMEOUT_MS: '500',
    GATEWAY_REVISION: REVISION,
  });
  const outageLines = () => outage.stdout().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Line);
  let back: Awaited<ReturnType<typeof startGatedProxy>> | undefined;
  try {
    await waitFor('a failed check while MLflow is unreachable', () => outageLines().some((line) => String(line.msg).startsWith('model source check failed;')));
    back = await startGatedProxy(mlflow.url, mlflowPort);
    await waitFor('the champion swapped in once MLflow answers', () => outageLines().some((line) => line.msg === 'model swapped'));
    // The champion's run deleted in MLflow, then restored: the poller says each once.
    await mlflowRest(mlflow.url, 'POST', '/api/2.0/mlflow/runs/delete', { run_id: two.runId });
    await waitFor('the line about the deleted run', () => outageLines().some((line) => line.msg === RUN_GOING));
    await mlflowRest(mlflow.url, 'POST', '/api/2.0/mlflow/runs/restore', { run_id: two.runId });
    await waitFor('the line about the restored run', () => outageLines().some((line) => line.msg === RUN_KEPT));
  } finally {
    outage.child.kill('SIGTERM');
    await outage.exited;
    await back?.close();
  }
  gatewayLines.push(...outageLines());
  await new Promise((r) => setTimeout(r, ACCESS_LOG_FLUSH_MS * 5));
  gatewayLines.push(...gw.logs);
}, 300_000);

afterAll(async () => {
  await gw?.close();
  await mlflow?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the saved Logs Insights queries', () => {
  const { stack, template } = synth();
  const definitions = propsOfType(template, 'AWS::Logs::QueryDefinition');
  const groupRef = { gateway: stack.resolve(stack.gateway.logGroup.logGroupName) as unknown, ecsEvents: stack.resolve(stack.ecsEvents.logGroup.logGroupName) as unknown };

  it.each(SAVED_QUERIES.map((q) => [q.name, q] as const))('%s: is saved on its log group, under the stack’s name', (name, q) => {
    const found = definitions.filter((d) => d.Name === `${stack.stackName}/${name}`);
    expect(found).toHaveLength(1);
    expect(found[0]?.LogGroupNames).toEqual([groupRef[q.logGroup]]);
    expect(String(found[0]?.QueryString)).toContain(String(q.query.filterStatements?.[0]));
  });

  it('were all seen written: the lines the checks below run on', () => {
    const messages = new Set(gatewayLines.map((l) => l.msg));
    for (const msg of ['cannot start', 'uncaught exception; exiting', 'ready', 'model swapped', 'request', 'request failed', 'prediction failed', 'request timed out', 'graphql resolver failed', 'request refused before routing']) expect(messages).toContain(msg);
    // Every MLflow trouble line a test can cause.
    for (const msg of MLFLOW_TROUBLE_MESSAGES.filter((m) => MESSAGES_IN_SOURCE[m] === undefined)) expect(messages).toContain(msg);
  });

  it.each(SAVED_QUERIES.map((q) => [q.name, q] as const))('%s: selects real lines, and every field it reads is in one of them', async (_name, q) => {
    const corpus = q.logGroup === 'gateway' ? gatewayLines : ECS_EVENTS;
    const runs = q.query.filterStatements?.some((f) => f.includes(REQUEST_ID_PLACEHOLDER)) ? ONE_REQUEST_IDS : [REQUEST_ID_PLACEHOLDER];
    const selected = runs.flatMap((reqId) => {
      const filters = (q.query.filterStatements ?? []).map((f) => f.replaceAll(REQUEST_ID_PLACEHOLDER, reqId));
      const found = corpus.filter((line) => filters.every((f) => filterMatches(f, line)));
      expect(found.length, `${filters.join(' | ')} selects no line`).toBeGreaterThan(0);
      return found;
    });
    const present = new Set(selected.flatMap((line) => flatKeys(line)));
    const missing = fieldsRead(q).filter((field) => !present.has(field));
    expect(missing, `fields of ${q.name} in none of the ${selected.length} lines it selects`).toEqual([]);
    // Each message it filters on is one the gateway writes (or, for the one no test can cause, its source writes).
    for (const msg of messagesFiltered(q)) {
      if (corpus.some((line) => line.msg === msg)) continue;
      const file = MESSAGES_IN_SOURCE[msg];
      expect(file, `no line with msg "${msg}"`).toBeDefined();
      expect(await readFile(path.join(REPO_ROOT, file ?? ''), 'utf8')).toContain(`'${msg}')`);
    }
  });

  it('failed requests by reason: selects every warn or error line the gateway writes about one request, except those of the caller\'s own doing', async () => {
    // Read from the source: most of these lines need held load, a hung worker or a shutdown to be
    // written. A line at warn or error through a request's logger is a failure on-call must see,
    // unless it is listed here: the 503s without a line were read as the body budget's.
    const callersDoing = new Set([
      'reloadModel refused: the bearer token sent is not the admin token',
      'answer not read in time: connection closed',
      'request refused: its body is not valid HTTP/1.1',
    ]);
    const files = (await readdir(path.join(REPO_ROOT, 'src'), { recursive: true })).filter((f) => f.endsWith('.ts'));
    const written = new Set<string>();
    for (const file of files) {
      const text = await readFile(path.join(REPO_ROOT, 'src', file), 'utf8');
      for (const m of text.matchAll(/\b(?:state|request|ctx\.request)\.log\.(?:warn|error)\(.*'([^']+)'\);$/gm)) written.add(m[1] ?? '');
    }
    expect(written.size).toBeGreaterThan(5);
    expect([...written].filter((msg) => !callersDoing.has(msg) && !(FAILURE_MESSAGES as readonly string[]).includes(msg))).toEqual([]);
  });

  it('each query finds every line of the kind it is about, not only some', () => {
    const query = (name: string) => {
      const q = SAVED_QUERIES.find((s) => s.name === name);
      expect(q, name).toBeDefined();
      return (line: Line) => (q?.query.filterStatements ?? []).every((f) => filterMatches(f, line));
    };
    const unfound = (name: string, lines: Line[]) => lines.filter((line) => !query(name)(line)).map((line) => line.msg ?? line['detail-type']);
    // A task that stopped: every fatal line (a refused start, an uncaught exception).
    const fatal = gatewayLines.filter((line) => line.level === 'fatal');
    expect(new Set(fatal.map((line) => line.msg))).toEqual(new Set(['cannot start', 'uncaught exception; exiting']));
    expect(unfound('why a task did not start', fatal)).toEqual([]);
    // A request that failed on the gateway's side: every warn or error line about one request. A
    // reloadModel's rejected or cancelled reload names its request too, but is MLflow not providing
    // the model: the runbook reads it with the MLflow query (below), as its 502 or 422 tells.
    const failures = gatewayLines.filter(
      (line) => line.reqId !== undefined && (line.level === 'warn' || line.level === 'error') && !(MLFLOW_TROUBLE_MESSAGES as readonly unknown[]).includes(line.msg),
    );
    expect(failures.length).toBeGreaterThan(0);
    expect(unfound('failed requests by reason', failures)).toEqual([]);
    // Each names its caller, so `clients` and `lastClient` count every row's (these gateways trust no proxy).
    expect(failures.filter((line) => typeof line.client !== 'string').map((line) => line.msg)).toEqual([]);
    // Every 5xx answer, the 500 no test can cause included (a real 503's access line, as a 500).
    const fiveXx = gatewayLines.filter((line) => line.msg === 'request' && typeof line.status === 'number' && line.status >= 500);
    expect(fiveXx.length).toBeGreaterThan(0);
    expect(unfound('5xx answers by route and status', [...fiveXx, ...fiveXx.map((line) => ({ ...line, status: 500 }))])).toEqual([]);
    expect(gatewayLines.filter((line) => line.msg === 'request' && Number(line.status) < 500).filter(query('5xx answers by route and status'))).toEqual([]);
    // The slowest first, where the name says slowest.
    const slowest = SAVED_QUERIES.find((q) => q.name === 'slowest single predictions');
    const [by, order] = (slowest?.query.sort ?? '').split(' ');
    const latencies = gatewayLines.filter(query('slowest single predictions')).map((line) => Number(line[by ?? '']));
    expect(latencies.length).toBeGreaterThan(1);
    expect({ by, first: [...latencies].sort((a, b) => (order === 'desc' ? b - a : a - b))[0] }).toEqual({ by: 'latencyMs', first: Math.max(...latencies) });
    // MLflow not providing the model: every warn or error line about the model source (its `source`:
    // a failed start-up load, check or reload), and the line that says it answers again; nothing else.
    const mlflowName = 'MLflow trouble: failed checks, rejected models, bundle fallbacks, deleted runs';
    const aboutSource = gatewayLines.filter((line) => line.source !== undefined && line.source !== 'BUNDLE' && line.source !== 'MLFLOW');
    const trouble = aboutSource.filter((line) => line.level === 'warn' || line.level === 'error' || line.msg === 'model source answers again' || line.msg === RUN_KEPT);
    expect(new Set(trouble.map((line) => line.msg))).toEqual(new Set(MLFLOW_TROUBLE_MESSAGES.filter((m) => MESSAGES_IN_SOURCE[m] === undefined)));
    expect(unfound(mlflowName, trouble)).toEqual([]);
    expect(gatewayLines.filter(query(mlflowName)).filter((line) => !trouble.includes(line)).map((line) => line.msg)).toEqual([]);
    // Why each was written: the start-up fallback and the failed check name what failed, the rejection the version.
    const written = (prefix: string): Line => trouble.find((line) => String(line.msg).startsWith(prefix)) ?? {};
    const fallback = written('MLflow model unavailable');
    expect([fallback.level, typeof fallback.modelDir]).toEqual(['warn', 'string']);
    expect(String(fallback.err)).toContain('is unreachable');
    const check = written('model source check failed');
    expect(check.level).toBe('warn');
    expect(String(check.err)).toContain('is unreachable');
    const rejection = written('model reload rejected');
    // ... and the reloadModel request that asked for it, so the query says who did.
    expect([rejection.level, rejection.candidate, rejection.reason, typeof rejection.reqId, typeof rejection.client]).toEqual(['error', tamperedVersion, 'reloadModel mutation', 'string', 'string']);
    expect(String(rejection.err)).toContain('but the manifest says');
    const again = written('model source answers again');
    expect([typeof again.failedChecks, typeof again.failingSince]).toEqual(['number', 'string']);
    const going = written(RUN_GOING);
    expect([going.level, going.runId]).toEqual(['warn', championRunId]);
    expect(String(going.notice)).toContain(`run ${championRunId}, which trained the served model`);
    const kept = written(RUN_KEPT);
    expect([kept.level, kept.runId, kept.clearedNotice]).toEqual(['info', championRunId, going.notice]);
    // It shows what each of those lines says (every field but the time and the logger's service).
    const said = [...new Set(trouble.flatMap((line) => Object.keys(line)))].filter((key) => !['time', 'service'].includes(key));
    expect(said.filter((key) => !SAVED_QUERIES.find((q) => q.name === mlflowName)?.query.fields?.includes(key))).toEqual([]);
    // Every ECS example event is one an ECS query is about.
    const ecsQueries = SAVED_QUERIES.filter((q) => q.logGroup === 'ecsEvents').map((q) => query(q.name));
    expect(ECS_EVENTS.filter((event) => !ecsQueries.some((selects) => selects(event))).map((event) => event['detail-type'])).toEqual([]);
  });

  it('the runbook (infra/README.md "When an alarm fires") asks for fields the lines each query selects have, or the columns it computes', () => {
    const asked = fieldsToRead(runbookSection()).filter((r) => r.source.startsWith(`${stack.stackName}/`));
    expect(asked.length).toBeGreaterThan(10);
    const wrong = asked.flatMap(({ source, fields }) => {
      const q = SAVED_QUERIES.find((s) => `${stack.stackName}/${s.name}` === source);
      if (!q) return [`${source}: no such query`];
      const corpus = q.logGroup === 'gateway' ? gatewayLines : ECS_EVENTS;
      const runs = q.query.filterStatements?.some((f) => f.includes(REQUEST_ID_PLACEHOLDER)) ? ONE_REQUEST_IDS : [REQUEST_ID_PLACEHOLDER];
      const selected = runs.flatMap((reqId) => corpus.filter((line) => (q.query.filterStatements ?? []).every((f) => filterMatches(f.replaceAll(REQUEST_ID_PLACEHOLDER, reqId), line))));
      const present = new Set(selected.flatMap((line) => flatKeys(line)));
      const computed = new Set((q.query.statsStatements ?? []).flatMap((stats) => [...stats.matchAll(/ as (\w+)/g)].map((m) => m[1])));
      // What its results show: its fields, or what its stats group by and compute.
      const shown = new Set([...(q.query.fields ?? []), ...computed, ...(q.query.statsStatements ?? []).flatMap((stats) => (stats.split(' by ')[1] ?? '').split(',').map((f) => f.trim()))]);
      // Logs Insights' own fields (@logStream) are on every line; the rest are the gateway's (or ECS's) or the query's stats.
      return fields.flatMap((f) => [
        ...(shown.has(f) ? [] : [`${source}: ${f} is not in its results`]),
        ...(f.startsWith('@') || present.has(f) || computed.has(f) ? [] : [`${source}: ${f} is in none of the lines it selects`]),
      ]);
    });
    expect(wrong).toEqual([]);
  });

  it('the start-ups query shows which build each task runs: every ready line carries the revision it was given', () => {
    const ready = gatewayLines.filter((line) => line.msg === 'ready');
    expect(ready.length).toBeGreaterThan(1);
    expect(ready.filter((line) => typeof line.revision !== 'string').map((line) => line.url)).toEqual([]);
    expect(ready.map((line) => line.revision)).toContain(REVISION);
    expect(SAVED_QUERIES.find((q) => q.name === 'models served: start-ups and swaps')?.query.fields).toContain('revision');
    // And which build a task that stopped ran: the uncaught exception's line carries it, the query shows it.
    expect(gatewayLines.filter((line) => line.msg === 'uncaught exception; exiting').map((line) => typeof line.revision)).toEqual(['string']);
    expect(SAVED_QUERIES.find((q) => q.name === 'why a task did not start')?.query.fields).toContain('revision');
  });

  it('the lines no test can make the gateway write are each selected by a query', () => {
    expect(Object.keys(MESSAGES_IN_SOURCE).filter((msg) => !SAVED_QUERIES.some((q) => messagesFiltered(q).includes(msg)))).toEqual([]);
  });

  it('names each percentile it computes after its rank (pct(latencyMs, 99) as p99)', () => {
    const percentiles = SAVED_QUERIES.flatMap((q) => (q.query.statsStatements ?? []).flatMap((stats) => [...stats.matchAll(/pct\(\w+, (\d+)\) as (\w+)/g)]));
    expect(percentiles.length).toBeGreaterThan(0);
    expect(percentiles.filter((m) => m[2] !== `p${m[1]}`).map((m) => m[0])).toEqual([]);
  });

  it('the single-prediction queries select exactly the lines the latency metric is made of (single customers, 2xx)', () => {
    const q = SAVED_QUERIES.find((s) => s.name === 'slowest single predictions');
    const ids = gatewayLines.filter((line) => (q?.query.filterStatements ?? []).every((f) => filterMatches(f, line))).map((line) => line.reqId);
    expect(ids.sort()).toEqual(['sq-graphql-single', 'sq-rest-single']);
  });
});

/** Every key of a JSON line as Logs Insights names it: nested fields and array items with dots (detail.containers.0.exitCode). */
function flatKeys(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return prefix ? [prefix] : [];
  return Object.entries(value).flatMap(([key, v]) => {
    const name = prefix ? `${prefix}.${key}` : key;
    return [name, ...flatKeys(v, name).filter((k) => k !== name)];
  });
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'as', 'by', 'asc', 'desc', 'like']);
const TOKEN = /`[^`]+`|"(?:[^"\\]|\\.)*"|@?[A-Za-z_][\w.]*|-?\d+(?:\.\d+)?|\*|>=|<=|!=|[=<>()[\],]/g;

/** The fields a query reads: shown, compared, grouped by, aggregated or sorted on (not @ fields, functions or aliases). */
function fieldsRead(q: SavedQuery): string[] {
  const parts = [...(q.query.fields ?? []), ...(q.query.filterStatements ?? []), ...(q.query.statsStatements ?? []), q.query.sort ?? ''];
  const fields = new Set<string>();
  const aliases = new Set<string>();
  for (const part of parts) {
    const tokens: string[] = part.match(TOKEN) ?? [];
    tokens.forEach((token, i) => {
      if (tokens[i - 1] === 'as') aliases.add(token);
      else if (token.startsWith('`')) fields.add(token.slice(1, -1));
      else if (/^[A-Za-z_]/.test(token) && !KEYWORDS.has(token) && tokens[i + 1] !== '(') fields.add(token);
    });
  }
  return [...fields].filter((f) => !aliases.has(f));
}

/** The values a query's filter compares msg with. */
function messagesFiltered(q: SavedQuery): string[] {
  return (q.query.filterStatements ?? []).flatMap((f) => {
    const tokens: string[] = f.match(TOKEN) ?? [];
    const at = tokens.indexOf('msg');
    if (at < 0) return [];
    if (tokens[at + 1] === '=') return [JSON.parse(tokens[at + 2] ?? '""') as string];
    const end = tokens.indexOf(']', at);
    return tokens.slice(at + 3, end).filter((t) => t.startsWith('"')).map((t) => JSON.parse(t) as string);
  });
}

/**
 * Evaluates the part of Logs Insights' filter syntax the queries use: `field op value` (=, !=, <,
 * <=, >, >= with a "string" or a number), `field in [values]`, and, or, parentheses. As in Logs
 * Insights, a field the line lacks matches no comparison.
 */
function filterMatches(filter: string, line: Line): boolean {
  const tokens: string[] = filter.match(TOKEN) ?? [];
  if (tokens.join('').replace(/\s/g, '') !== filter.replace(/\s/g, '')) throw new Error(`unsupported syntax in ${filter}`);
  let at = 0;
  const next = () => tokens[at++];
  const value = (token: string | undefined): string | number => {
    if (token === undefined) throw new Error(`a value is missing in ${filter}`);
    return token.startsWith('"') ? (JSON.parse(token) as string) : Number(token);
  };
  const fieldValue = (token: string): unknown => {
    const name = token.startsWith('`') ? token.slice(1, -1) : token;
    return name.split('.').reduce<unknown>((v, key) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined), line);
  };
  const either = (): boolean => {
    let result = both();
    while (tokens[at] === 'or') {
      next();
      result = both() || result;
    }
    return result;
  };
  const both = (): boolean => {
    let result = primary();
    while (tokens[at] === 'and') {
      next();
      result = primary() && result;
    }
    return result;
  };
  const primary = (): boolean => {
    const token = next();
    if (token === '(') {
      const result = either();
      if (next() !== ')') throw new Error(`expected ) in ${filter}`);
      return result;
    }
    if (token === undefined) throw new Error(`expected a field in ${filter}`);
    const actual = fieldValue(token);
    const op = next();
    if (op === 'in') {
      if (next() !== '[') throw new Error(`expected [ in ${filter}`);
      const list: (string | number)[] = [];
      while (tokens[at] !== ']') {
        list.push(value(next()));
        if (tokens[at] === ',') next();
      }
      next();
      return list.some((v) => v === actual);
    }
    const expected = value(next());
    if (typeof actual !== typeof expected) return false;
    const a = actual as string | number;
    const results: Record<string, boolean> = { '=': a === expected, '!=': a !== expected, '<': a < expected, '<=': a <= expected, '>': a > expected, '>=': a >= expected };
    const result = op === undefined ? undefined : results[op];
    if (result === undefined) throw new Error(`unsupported operator ${op} in ${filter}`);
    return result;
  };
  const result = either();
  if (at !== tokens.length) throw new Error(`unexpected ${tokens[at]} in ${filter}`);
  return result;
}
