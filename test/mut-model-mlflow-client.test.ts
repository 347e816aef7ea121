/**
 * MlflowClient's retry rules against a small scripted HTTP server (as test/mlflow.test.ts's
 * MlflowClient tests do, without that file's trained models): a 408 from a proxy in front of
 * MLflow, the backoff that doubles, a caller's deadline that stops the
 * retries, and a tracking URI written with a trailing slash. Each case is a rule that no other
 * test exercised.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MlflowClient, MlflowError } from '../src/mlflow/client.js';

const MODEL = 'telco-churn';
const VERSION = { model_version: { name: MODEL, version: '7', run_id: 'abc' } };

/** Answers each request with the next scripted status (the last one repeats), recording when and what was asked. */
async function scripted(statuses: number[]) {
  const seen: { at: number; url: string }[] = [];
  const server = createServer((req, res) => {
    const status = statuses[Math.min(seen.length, statuses.length - 1)] as number;
    seen.push({ at: performance.now(), url: req.url ?? '' });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(status === 200 ? VERSION : { error_code: 'INJECTED', message: `injected HTTP ${status}` }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('MlflowClient behind a proxy', () => {
  it('reads a proxy that asks for its own credentials (407) as unreachable, since fetch never returns that answer, and says so without an empty cause', async () => {
    const server = await scripted([407]);
    try {
      const client = new MlflowClient({ trackingUri: server.url, timeoutMs: 1000, backoffMs: 10 });
      const err = (await client.getModelVersion(MODEL, '7').catch((e: unknown) => e)) as MlflowError;
      expect(err).toBeInstanceOf(MlflowError);
      expect(err).toMatchObject({ code: 'MLFLOW_UNAVAILABLE', status: null });
      expect(err.message).toMatch(/ is unreachable while looking for .*: fetch failed$/);
    } finally {
      await server.close();
    }
  });

  it('quotes a non-MLflow error page without its tags, and one of many "<" and no ">" in about the time of a plain one', async () => {
    let body = '';
    const server = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end(body);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const client = new MlflowClient({ trackingUri: `http://127.0.0.1:${port}`, timeoutMs: 5000, backoffMs: 10 });
    /** The error's message for `page`, and the time of the call answered with it (the message is made as the answer is read). */
    const answer = async (page: string) => {
      body = page;
      const started = performance.now();
      const message = ((await client.getModelVersion(MODEL, '7').catch((e: unknown) => e)) as Error).message;
      return { message, ms: performance.now() - started };
    };
    try {
      expect((await answer('<html><body><h1>Not Found</h1> no such <b>model</b></body></html>')).message).toContain('Not Found no such model');
      // The least of five calls of each, taken in turns: a loaded machine's slow moment then falls
      // on both pages alike, not on the three calls of one of them (a quadratic scan is ~0.7 s).
      let [plainMs, anglesMs] = [Infinity, Infinity];
      for (let i = 0; i < 5; i++) {
        plainMs = Math.min(plainMs, (await answer('a'.repeat(20_000))).ms);
        anglesMs = Math.min(anglesMs, (await answer('<'.repeat(20_000))).ms);
      }
      expect(anglesMs, `many "<": ${anglesMs.toFixed(1)} ms; plain: ${plainMs.toFixed(1)} ms`).toBeLessThan(10 * plainMs + 50);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('retries a 408 (a proxy timed the request out), as it retries 5xx and 429', async () => {
    const server = await scripted([408, 408, 200]);
    try {
      const client = new MlflowClient({ trackingUri: server.url, timeoutMs: 1000, backoffMs: 10 });
      await expect(client.getModelVersionByAlias(MODEL, 'champion')).resolves.toMatchObject({ version: '7' });
      expect(server.seen).toHaveLength(3);
    } finally {
      await server.close();
    }
  });

  it('waits backoffMs before the first retry and twice as long before the second', async () => {
    const server = await scripted([503]);
    try {
      const client = new MlflowClient({ trackingUri: server.url, timeoutMs: 1000, backoffMs: 150 });
      await expect(client.getModelVersion(MODEL, '7')).rejects.toMatchObject({ code: 'MLFLOW_UNAVAILABLE', status: 503 });
      const [a, b, c] = server.seen.map((s) => s.at) as [number, number, number];
      expect(server.seen).toHaveLength(3);
      // Lower bounds only: a loaded machine makes the gaps longer, never shorter.
      expect(b - a).toBeGreaterThanOrEqual(140);
      expect(c - b).toBeGreaterThanOrEqual(290);
    } finally {
      await server.close();
    }
  });

  it("stops retrying once the caller's deadline aborts, with the deadline's reason", async () => {
    const server = await scripted([503]);
    try {
      // A backoff far longer than the deadline, so that waiting it out cannot pass for a loaded machine.
      const client = new MlflowClient({ trackingUri: server.url, timeoutMs: 1000, backoffMs: 8000 });
      const deadline = new AbortController();
      setTimeout(() => deadline.abort(new Error('the reload deadline passed')), 150);
      const started = performance.now();
      const err = (await client.getModelVersion(MODEL, '7', { signal: deadline.signal }).catch((e: unknown) => e)) as MlflowError;
      expect(err).toBeInstanceOf(MlflowError);
      expect(err.message).toMatch(/did not provide version 7 of registered model telco-churn \(.*\) in time: the reload deadline passed$/);
      // Answered when the deadline passed (not after the 8 s backoff), and no retry was sent after it.
      expect(performance.now() - started).toBeLessThan(4000);
      expect(server.seen).toHaveLength(1);
    } finally {
      await server.close();
    }
  }, 20_000);

  it('appends API paths to a tracking URI written with a trailing slash without doubling it', async () => {
    const server = await scripted([200]);
    try {
      const client = new MlflowClient({ trackingUri: `${server.url}/`, timeoutMs: 1000 });
      expect(client.trackingUri).toBe(server.url);
      await client.getModelVersionByAlias(MODEL, 'champion');
      expect(server.seen.map((s) => s.url)).toEqual(['/api/2.0/mlflow/registered-models/alias?name=telco-churn&alias=champion']);
    } finally {
      await server.close();
    }
  });
});

describe('MlflowClient against an https:// MLflow whose certificate Node does not trust', () => {
  it('says the certificate is not trusted and how to trust a private CA, instead of "unreachable", and does not retry', async () => {
    // A self-signed certificate for 127.0.0.1, as a private CA's server presents to a client without that CA.
    const dir = await mkdtemp(path.join(tmpdir(), 'mlflow-tls-'));
    try {
      const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
      await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert]);
      let connections = 0;
      const server = createHttpsServer({ key: await readFile(key), cert: await readFile(cert) }, (_req, res) => res.end('{}'));
      server.on('connection', () => connections++);
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      try {
        const { port } = server.address() as { port: number };
        const client = new MlflowClient({ trackingUri: `https://127.0.0.1:${port}`, timeoutMs: 5000, backoffMs: 10 });
        const err = (await client.getModelVersion(MODEL, '7').catch((e: unknown) => e)) as MlflowError;
        expect(err).toBeInstanceOf(MlflowError);
        expect(err).toMatchObject({ code: 'MLFLOW_UNAVAILABLE', status: null });
        expect(err.message).toMatch(
          new RegExp(`^MLflow at https://127\\.0\\.0\\.1:${port} sent a TLS certificate that is not trusted, while looking for .*: fetch failed \\(cause: self-signed certificate\\); for a private certificate authority, set NODE_EXTRA_CA_CERTS to its PEM file \\(docs/mlflow\\.md\\)$`),
        );
        expect(connections).toBe(1);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
