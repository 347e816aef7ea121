/**
 * Settings that are valid together but leave a feature that is on unable to work, and millisecond
 * settings that read as seconds, are named in a warn line at start-up (the gateway still starts:
 * the rest works).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configWarnings, loadConfig, mlflowTlsWarnings } from '../src/config.js';
import { REPO_ROOT, spawnGateway } from './helpers/index.js';

const warnings = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.includes('"level":"warn"'))
    .map((l) => JSON.parse(l) as { msg: string; variables?: string[] });

describe('GraphiQL on with introspection off', () => {
  it('starts, and says that GraphiQL cannot read the schema and what to set', async () => {
    const gw = await spawnGateway({ GRAPHIQL_ENABLED: 'true', INTROSPECTION_ENABLED: 'false' });
    try {
      // What the warning says is so: the schema query GraphiQL sends is refused.
      const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __schema { queryType { name } } }' }) });
      expect(JSON.stringify(await res.json())).toMatch(/introspection/i);
      expect((await fetch(`${gw.url}/ui/graphiql`)).status).toBe(200);
      expect(warnings(gw.stdout())).toEqual([
        expect.objectContaining({
          variables: ['GRAPHIQL_ENABLED', 'INTROSPECTION_ENABLED'],
          msg: expect.stringMatching(/^GRAPHIQL_ENABLED is true but INTROSPECTION_ENABLED is false: \/ui\/graphiql cannot read the schema.*; set GRAPHIQL_ENABLED=false as well, or INTROSPECTION_ENABLED=true$/),
        }),
      ]);
    } finally {
      gw.child.kill('SIGTERM');
      await gw.exited;
    }
  }, 60_000);

  // Three gateways started one after another through tsx, each allowed 30 s by spawnGateway: 60 s
  // for all three timed out on a loaded 2-core machine.
  it('is not warned about when either is off or both are on', async () => {
    // Both on (the defaults), GraphiQL alone off, both off.
    const settings: Record<string, string>[] = [{}, { GRAPHIQL_ENABLED: 'false' }, { GRAPHIQL_ENABLED: 'false', INTROSPECTION_ENABLED: 'false' }];
    for (const env of settings) {
      const gw = await spawnGateway(env);
      gw.child.kill('SIGTERM');
      await gw.exited;
      expect(warnings(gw.stdout())).toEqual([]);
    }
  }, 150_000);
});

describe('a UI_DIR that is a file', () => {
  it('starts without /ui, and says UI_DIR is not a folder instead of proposing to build into the file', async () => {
    const file = path.join(REPO_ROOT, 'README.md');
    const gw = await spawnGateway({ UI_DIR: file });
    try {
      expect((await fetch(`${gw.url}/ui`)).status).toBe(503);
      expect(warnings(gw.stdout())).toEqual([expect.objectContaining({ msg: `/ui is unavailable: UI_DIR is not a folder (set UI_DIR to the folder of a built UI, not ${file})` })]);
    } finally {
      gw.child.kill('SIGTERM');
      await gw.exited;
    }
  }, 60_000);
});

describe('a millisecond setting that reads as seconds', () => {
  it('SHUTDOWN_TIMEOUT_MS=20: starts, and says what 20 ms does and what 20 s would be', async () => {
    const gw = await spawnGateway({ SHUTDOWN_TIMEOUT_MS: '20' });
    try {
      expect(warnings(gw.stdout())).toEqual([
        expect.objectContaining({
          variables: ['SHUTDOWN_TIMEOUT_MS'],
          msg: 'SHUTDOWN_TIMEOUT_MS is 20, in milliseconds: a request still running 20 ms after SIGTERM is cut off with 503 SHUTTING_DOWN; a value in seconds? For 20 s set 20000',
        }),
      ]);
    } finally {
      gw.child.kill('SIGTERM');
      await gw.exited;
    }
  }, 60_000);

  const mlflow = { MLFLOW_TRACKING_URI: 'http://127.0.0.1:1', MODEL_URI: 'models:/telco-churn@champion' };
  const warned = (env: Record<string, string>) => configWarnings(loadConfig(env)).flatMap((w) => w.variables);

  it('MLFLOW_POLL_INTERVAL_MS=60 with MLflow: says how often each task would ask MLflow, and what 60 s would be', () => {
    expect(configWarnings(loadConfig({ ...mlflow, MLFLOW_POLL_INTERVAL_MS: '60' }))).toEqual([
      {
        variables: ['MLFLOW_POLL_INTERVAL_MS'],
        text: 'MLFLOW_POLL_INTERVAL_MS is 60, in milliseconds: each task asks MLflow whether the model moved every 60 ms, 17 times a second; a value in seconds? For 60 s set 60000',
      },
    ]);
  });

  it.each([
    ['1 ms', { ...mlflow, MLFLOW_POLL_INTERVAL_MS: '1', SHUTDOWN_TIMEOUT_MS: '1' }, ['MLFLOW_POLL_INTERVAL_MS', 'SHUTDOWN_TIMEOUT_MS']],
    ['999 ms', { ...mlflow, MLFLOW_POLL_INTERVAL_MS: '999', SHUTDOWN_TIMEOUT_MS: '999' }, ['MLFLOW_POLL_INTERVAL_MS', 'SHUTDOWN_TIMEOUT_MS']],
    ['1000 ms', { ...mlflow, MLFLOW_POLL_INTERVAL_MS: '1000', SHUTDOWN_TIMEOUT_MS: '1000' }, []],
    ['0 (polling off, no drain)', { ...mlflow, MLFLOW_POLL_INTERVAL_MS: '0', SHUTDOWN_TIMEOUT_MS: '0' }, []],
    ['the defaults', mlflow, []],
    ['a poll interval without MLflow, where nothing polls', { MLFLOW_POLL_INTERVAL_MS: '60' }, []],
  ])('%s: warns about %j', (_, env, variables) => {
    expect(warned(env)).toEqual(variables);
  });
});

describe("MLflow's own TLS variables, which the gateway does not read", () => {
  it('starts, and names each one set with what to use instead', async () => {
    const gw = await spawnGateway({ MLFLOW_TRACKING_INSECURE_TLS: 'true', MLFLOW_TRACKING_SERVER_CERT_PATH: '/etc/ssl/private-ca.pem', MLFLOW_TRACKING_CLIENT_CERT_PATH: '/etc/ssl/client.pem' });
    try {
      expect(warnings(gw.stdout())).toEqual([
        expect.objectContaining({ variables: ['MLFLOW_TRACKING_INSECURE_TLS'], msg: expect.stringMatching(/^MLFLOW_TRACKING_INSECURE_TLS is set, but only MLflow's own client reads it, not the gateway: .*set NODE_EXTRA_CA_CERTS to that CA's PEM file/) }),
        expect.objectContaining({ variables: ['MLFLOW_TRACKING_SERVER_CERT_PATH'], msg: expect.stringMatching(/^MLFLOW_TRACKING_SERVER_CERT_PATH is set, .*: set NODE_EXTRA_CA_CERTS to that file instead/) }),
        expect.objectContaining({ variables: ['MLFLOW_TRACKING_CLIENT_CERT_PATH'], msg: expect.stringMatching(/^MLFLOW_TRACKING_CLIENT_CERT_PATH is set, .*: the gateway sends no client certificate/) }),
      ]);
    } finally {
      gw.child.kill('SIGTERM');
      await gw.exited;
    }
  }, 60_000);

  it('says nothing when none is set, or one is empty', () => {
    expect(mlflowTlsWarnings({ MLFLOW_TRACKING_INSECURE_TLS: '', NODE_EXTRA_CA_CERTS: '/etc/ssl/private-ca.pem' })).toEqual([]);
  });
});
