/**
 * MLflow 3's `mlflow server` refuses a Host header it was not told to accept (403, its
 * DNS-rebinding guard) on every API call but /health. Against a real server that accepts only
 * another name (as one started with `--allowed-hosts mlflow.internal:5000` and reached by IP),
 * the gateway names that server setting, not credentials, which would not change the answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReloadModelDocument } from '../src/generated/graphql.js';
import { gql, operatorNotice, startTestGateway, type TestGateway } from './helpers/index.js';
import { ensureVenv, startMlflowServer, type MlflowServer } from './helpers/mlflow-server.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';

let mlflow: MlflowServer;
let gw: TestGateway | undefined;

beforeAll(async () => {
  await ensureVenv();
  // Read by `mlflow server` at start (--allowed-hosts sets the same); the helper's child inherits it.
  const before = process.env['MLFLOW_SERVER_ALLOWED_HOSTS'];
  process.env['MLFLOW_SERVER_ALLOWED_HOSTS'] = 'mlflow.internal:5000';
  try {
    mlflow = await startMlflowServer();
  } finally {
    if (before === undefined) delete process.env['MLFLOW_SERVER_ALLOWED_HOSTS'];
    else process.env['MLFLOW_SERVER_ALLOWED_HOSTS'] = before;
  }
}, 300_000);

afterAll(async () => {
  await gw?.close();
  await mlflow?.stop();
});

describe('an MLflow that does not accept the host the gateway names it by', () => {
  it('says to start it with --allowed-hosts for that host, in the start-up notice and in reloadModel, and not to set credentials', async () => {
    // The guard answers for real: /health passes, the API is refused.
    expect((await fetch(`${mlflow.url}/health`)).status).toBe(200);
    const raw = await fetch(`${mlflow.url}/api/2.0/mlflow/registered-models/alias?name=telco-churn&alias=champion`);
    expect(raw.status).toBe(403);
    expect(await raw.text()).toBe('Invalid Host header - possible DNS rebinding attack detected');

    const host = new URL(mlflow.url).host;
    // MLflow's default timeout: its 403 comes at once, and a timeout on a loaded machine would be named instead.
    gw = await startTestGateway({ MLFLOW_TRACKING_URI: mlflow.url, MODEL_URI: 'models:/telco-churn@champion', MLFLOW_POLL_INTERVAL_MS: '0', MLFLOW_TIMEOUT_MS: '10000', ADMIN_TOKEN, OPS_PORT: '0' });
    const { source, health } = await operatorNotice(gw, ADMIN_TOKEN);
    expect(source).toBe('BUNDLE');
    for (const text of [health.notice, (await gql(gw.url, ReloadModelDocument, {}, { authorization: `Bearer ${ADMIN_TOKEN}` })).body.errors?.[0]?.message]) {
      expect(text).toContain(`MLflow at ${mlflow.url} refused the Host header the gateway sent, ${host} (HTTP 403 for alias champion of registered model telco-churn`);
      expect(text).toContain(`start it with --allowed-hosts ${host} (or MLFLOW_SERVER_ALLOWED_HOSTS), or set MLFLOW_TRACKING_URI to an address it accepts`);
      expect(text).not.toContain('set MLFLOW_TRACKING_USERNAME');
    }
    const res = await gql(gw.url, ReloadModelDocument, {}, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(res.status).toBe(502);
    expect(res.body.errors?.[0]?.extensions?.['code']).toBe('MLFLOW_UNAVAILABLE');
  });
});
