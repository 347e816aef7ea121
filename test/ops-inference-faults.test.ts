/**
 * What an operator sees when the ONNX worker thread crashes or hangs, or every run fails,
 * on the real gateway with the real model: the callers' answers, one error line per outage
 * (and one line when it ends), the counters an alarm reads, and GET / turning 503 exactly
 * while the task cannot score and 200 again once it can.
 */
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PredictDocument } from '../src/generated/graphql.js';
import type { OnnxHost } from '../src/model/onnx-host.js';
import { GRAPHQL_CUSTOMER, LEGACY_PAYLOAD, metricValue, operatorNotice, postJson, startTestGateway, type TestGateway } from './helpers/index.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ COALESCE_PREDICTIONS: 'false' });
});
afterAll(() => gw.close());

const hostOf = (g: TestGateway) => (g.slot.current as unknown as { session: OnnxHost }).session;

const metric = (name: string): Promise<number> => metricValue(gw.url, name);

/** Log lines from index `from` on with this msg. */
const linesSince = (from: number, msg: string) => gw.logs.slice(from).filter((l) => l['msg'] === msg);
const errorsSince = (from: number) => gw.logs.slice(from).filter((l) => l['level'] === 'error' || l['level'] === 'fatal');

describe('the ONNX worker dies with runs waiting', () => {
  it('answers those callers 503 INFERENCE_FAILED, logs one error, counts the failures, and serves again from a new worker', async () => {
    const from = gw.logs.length;
    const before = await metric('gateway_inference_failures_total{reason="worker_stopped"}');
    const host = hostOf(gw);
    // The thread is busy for a moment, then dies: the runs sent meanwhile queue behind its exit.
    host.hangForTest(1000);
    const died = host.crashForTest();
    const answers = await Promise.all([1, 2, 3].map((i) => postJson(gw.url, '/predict', LEGACY_PAYLOAD, { 'x-request-id': `crash-${i}` })));
    await died;
    expect(answers.map((a) => a.status)).toEqual([503, 503, 503]);
    for (const a of answers) expect((a.json as { detail: string }).detail).toMatch(/^INFERENCE_FAILED: .*the ONNX worker stopped/);
    expect(await metric('gateway_inference_failures_total{reason="worker_stopped"}')).toBe(before + 3);
    expect(await metric('gateway_inference_failing')).toBe(1);
    // One error line for the outage, with its cause; the three requests at warn.
    expect(errorsSince(from)).toHaveLength(1);
    expect(errorsSince(from)[0]).toMatchObject({ msg: expect.stringMatching(/^inference failing/), reason: 'worker_stopped', err: expect.stringMatching(/exited with code 1/) });
    expect(linesSince(from, 'request failed').map((l) => l['level'])).toEqual(['warn', 'warn', 'warn']);

    const next = await postJson(gw.url, '/predict', LEGACY_PAYLOAD);
    expect(next.status).toBe(200);
    expect(linesSince(from, 'inference recovered')).toEqual([expect.objectContaining({ level: 'info', failedRuns: 3 })]);
    expect(await metric('gateway_inference_failing')).toBe(0);
    expect((await fetch(`${gw.url}/`)).status).toBe(200);
  });
});

describe('the ONNX worker stops answering', () => {
  it('answers the waiting caller 503 at the run deadline (not at REQUEST_TIMEOUT_MS), and the health check finds a new worker serving', async () => {
    const from = gw.logs.length;
    const host = hostOf(gw);
    host.deadlineScale = 0.05; // 10 s → 500 ms
    try {
      host.hangForTest(20_000);
      const started = Date.now();
      const res = await postJson(gw.url, '/predict', LEGACY_PAYLOAD);
      expect(res.status).toBe(503);
      expect((res.json as { detail: string }).detail).toMatch(/^INFERENCE_FAILED: .*the ONNX worker stopped answering: a run of 1 rows was not answered within 500 ms/);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await metric('gateway_inference_failures_total{reason="worker_hung"}')).toBe(1);
      expect(errorsSince(from)).toEqual([expect.objectContaining({ reason: 'worker_hung' })]);
      // GET / runs a test run (on a new thread): it succeeds, so the task stays in service.
      const health = await fetch(`${gw.url}/`);
      expect(health.status).toBe(200);
      expect(linesSince(from, 'inference recovered')).toHaveLength(1);
      expect((await postJson(gw.url, '/predict', LEGACY_PAYLOAD)).status).toBe(200);
    } finally {
      host.deadlineScale = 1;
    }
  });
});

describe('every run fails', () => {
  it('turns GET / 503 while no run succeeds, logs the outage once, and 200 again once a run does', async () => {
    const from = gw.logs.length;
    const host = hostOf(gw) as unknown as { run: (...args: unknown[]) => Promise<unknown> };
    const run = host.run.bind(host);
    host.run = () => Promise.reject(new Error('injected: ORT kernel failure'));
    try {
      expect((await fetch(`${gw.url}/`)).status).toBe(200); // nothing has failed yet
      for (let i = 0; i < 5; i++) expect((await postJson(gw.url, '/predict', LEGACY_PAYLOAD)).status).toBe(503);
      const health = await fetch(`${gw.url}/`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ status: 'inference_failing', version: gw.slot.current.modelVersion, cause: expect.stringMatching(/injected: ORT kernel failure/) });
      expect(await metric('gateway_inference_failures_total{reason="run_failed"}')).toBeGreaterThanOrEqual(6);
      // No flood: one error line for five failed requests and a failed health check.
      expect(errorsSince(from)).toHaveLength(1);
      expect(errorsSince(from)[0]).toMatchObject({ reason: 'run_failed', err: expect.stringMatching(/injected: ORT kernel failure/) });
    } finally {
      host.run = run;
    }
    expect((await fetch(`${gw.url}/`)).status).toBe(200);
    expect(linesSince(from, 'inference recovered')).toHaveLength(1);
    expect((await postJson(gw.url, '/predict', LEGACY_PAYLOAD)).status).toBe(200);
  });
});

describe('a failing model whose health-check run does not answer', () => {
  it('keeps GET / at 503 when the test run takes longer than PROBE_TIMEOUT_MS, rather than calling the task healthy', async () => {
    const host = hostOf(gw) as unknown as { run: (...args: unknown[]) => Promise<unknown> };
    const run = host.run.bind(host);
    host.run = () => Promise.reject(new Error('injected: ORT kernel failure'));
    try {
      expect((await postJson(gw.url, '/predict', LEGACY_PAYLOAD)).status).toBe(503); // the model is failing now
      // The next run answers after PROBE_TIMEOUT_MS (2 s), with a failure: the health check gives up on it first.
      host.run = () => new Promise((_resolve, reject) => setTimeout(() => reject(new Error('injected: a run that takes 3 s')), 3000));
      const health = await fetch(`${gw.url}/`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ status: 'inference_failing' });
    } finally {
      host.run = run;
    }
    await new Promise((r) => setTimeout(r, 1500)); // the slow run ends (its failure would mark the model failing again)
    expect((await fetch(`${gw.url}/`)).status).toBe(200);
  });
});

describe('a GraphQL request while every run fails', () => {
  const twoFields = `mutation Two($c: CustomerInput!, $d: CustomerInput!) { a: predict(customer: $c) { riskLevel } b: predict(customer: $d) { riskLevel } }`;
  // Two fields: graphql-js stops a mutation at its first field that fails; graphql-jit ran the second too, then Yoga's executor the first again.
  it.each([
    ['a document of one predict field', print(PredictDocument), { customer: GRAPHQL_CUSTOMER }],
    ['a document of two predict fields', twoFields, { c: GRAPHQL_CUSTOMER, d: GRAPHQL_CUSTOMER }],
  ])("scores once, whether its document is compiled already or runs for the first time, and is answered as Yoga's executor answers it: %s", async (_what, document, variables) => {
    const host = hostOf(gw) as unknown as { run: (...args: unknown[]) => Promise<unknown> };
    const query = `${document}\n# while inference fails`;
    // Request ids of one length, so the answers' lengths compare.
    const post = (id: string, body: Record<string, unknown>) =>
      fetch(`${gw.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', 'x-request-id': id },
        body: JSON.stringify(body),
      });
    // A 200 without errors: the document is kept compiled, and its next requests run compiled alone.
    expect((await post('gql-teach', { query, variables })).status).toBe(200);
    const run = host.run.bind(host);
    host.run = () => Promise.reject(new Error('injected: ORT kernel failure'));
    const failures = 'gateway_inference_failures_total{reason="run_failed"}';
    const answers: Record<string, unknown>[] = [];
    try {
      for (const [id, body] of [
        ['gql-known', { query, variables }],
        ['gql-first', { query: `${query} (a text not seen before)`, variables }],
        // `extensions` keeps a request off the compiled path: Yoga's executor (graphql-js) runs it.
        ['gql-yoga1', { query, variables, extensions: {} }],
      ] as const) {
        const before = await metric(failures);
        const from = gw.logs.length;
        const res = await post(id, body);
        const headers = Object.fromEntries([...res.headers].filter(([name]) => name !== 'date' && name !== 'x-request-id'));
        answers.push({ status: res.status, headers, body: (await res.text()).replaceAll(id, '<request id>') });
        // Before, a compiled run that failed was run again by Yoga: two runs, two failures counted, two lines.
        expect(await metric(failures), id).toBe(before + 1);
        expect(linesSince(from, 'prediction failed').map((l) => l['reqId']), id).toEqual([id]);
      }
    } finally {
      host.run = run;
    }
    const [known, first, executed] = answers;
    expect(executed).toMatchObject({ status: 503, headers: { 'retry-after': '1' }, body: expect.stringContaining('"code":"INFERENCE_FAILED"') });
    expect(known).toEqual(executed);
    expect(first).toEqual(executed);
    expect((await fetch(`${gw.url}/`)).status).toBe(200); // a run succeeds again
  });
});

describe('/metrics for alarms', () => {
  it('has every reload result and failure reason at 0 before the first event', async () => {
    // A gateway of its own: this file's other tests have made such events on `gw`.
    const fresh = await startTestGateway();
    try {
      const text = await (await fetch(`${fresh.url}/metrics`)).text();
      const series = [
        ...['swapped', 'unchanged', 'failed', 'cancelled'].map((result) => `gateway_model_reloads_total{result="${result}"}`),
        ...['worker_stopped', 'worker_hung', 'worker_start_failed', 'run_failed'].map((reason) => `gateway_inference_failures_total{reason="${reason}"}`),
        'gateway_model_source_check_failures_total',
      ];
      // Each there, at 0: an alarm on an increase sees the first event only if the series existed before it.
      expect(series.map((name) => text.split('\n').find((line) => line.startsWith(`${name} `)) ?? `${name} missing`)).toEqual(series.map((name) => `${name} 0`));
    } finally {
      await fresh.close();
    }
  });
});

describe('MLflow unreachable after start-up', () => {
  it('counts each failed reload and source check for an alarm, and logs a repeated check failure once', async () => {
    const { freePort } = await import('../bench/process.js');
    const closed = await freePort(); // nothing listens there: connection refused, as an MLflow that is down
    const token = 'ops-admin-token-123456';
    const mlflow = await startTestGateway({
      MLFLOW_TRACKING_URI: `http://127.0.0.1:${closed}`,
      MODEL_URI: 'models:/telco-churn@champion',
      // Not short: a refused connection is answered at once, and a timeout that fired first on a
      // loaded machine would be the failure the notice names instead of the refusal.
      MLFLOW_TIMEOUT_MS: '10000',
      MLFLOW_POLL_INTERVAL_MS: '0',
      ADMIN_TOKEN: token,
      OPS_PORT: '0',
    });
    try {
      const read = async (name: string) => {
        const text = await (await fetch(`${mlflow.url}/metrics`)).text();
        return Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.slice(name.length + 1));
      };
      const from = mlflow.logs.length;
      const res = await fetch(`${mlflow.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: 'mutation { reloadModel { changed } }' }),
      });
      expect(res.status).toBeGreaterThanOrEqual(500);
      expect(await read('gateway_model_reloads_total{result="failed"}')).toBe(1);
      expect(await read('gateway_model_reloads_total{result="swapped"}')).toBe(0);
      for (let i = 0; i < 3; i++) await mlflow.admin.checkForUpdate();
      expect(await read('gateway_model_source_check_failures_total')).toBe(3);
      // Three failed checks, one warn line: the outage is logged when it starts, not at every poll.
      expect(mlflow.logs.slice(from).filter((l) => String(l['msg']).startsWith('model source check failed;'))).toHaveLength(1);
      expect((await fetch(`${mlflow.url}/`)).status).toBe(200); // the bundle keeps serving
      // Why, said once (in the detail operators read): fetch's "fetch failed" carries the refusal as
      // its cause, and the notice named the refusal and then "(cause: fetch failed)" again.
      const { notice } = await operatorNotice(mlflow, token);
      expect(notice).toMatch(/is unreachable while looking for .*: fetch failed \(cause: connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/);
    } finally {
      await mlflow.close();
    }
  });
});
