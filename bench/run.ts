/**
 * One-command benchmark (`npm run bench`): starts the built gateway and a raw node:http
 * ceiling as separate processes, drives both with autocannon (also a separate process)
 * under the same settings, times raw onnxruntime session.run in-process on the same
 * rows, and writes bench/results/<date>.json and .md with ratios measured in this run.
 *
 * Options: --duration <s> (default 8), --connections <n> (default 50), --quick.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ort from 'onnxruntime-node';
import { manifestSchema, parityFileSchema } from '../src/bundle/manifest.js';
import { compileEncoder, type EncoderRow } from '../src/model/features.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const opt = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const QUICK = args.includes('--quick');
const DURATION = opt('duration', QUICK ? 3 : 8);
const CONNECTIONS = opt('connections', 50);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function rssMb(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then((s) => Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024);
}

async function waitFor200(url: string, deadlineMs = 30_000): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < deadlineMs) {
    const ok = await fetch(url).then((r) => r.status === 200, () => false);
    if (ok) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${url} not ready`);
}

interface Load {
  name: string;
  connections: number;
  requestsPerSec: number;
  latencyMeanMs: number;
  latencyP99Ms: number;
  errors: number;
  non2xx: number;
  peakRssMb?: number;
}

async function autocannon(name: string, url: string, body: string | null, connections: number, pid?: number, duration = DURATION): Promise<Load> {
  const argv = ['node_modules/autocannon/autocannon.js', '--json', '-c', String(connections), '-d', String(duration)];
  if (body !== null) argv.push('-m', 'POST', '-H', 'content-type=application/json', '-b', body);
  argv.push(url);
  let peak = 0;
  const sampler = pid ? setInterval(() => void rssMb(pid).then((r) => (peak = Math.max(peak, r))), 100) : null;
  const { stdout } = await run(process.execPath, argv, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  if (sampler) clearInterval(sampler);
  const r = JSON.parse(stdout) as { requests: { average: number }; latency: { average: number; p99: number }; errors: number; non2xx: number };
  const load: Load = { name, connections, requestsPerSec: r.requests.average, latencyMeanMs: r.latency.average, latencyP99Ms: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
  if (pid) load.peakRssMb = Math.round(peak);
  process.stderr.write(`  ${name} c=${connections}: ${Math.round(load.requestsPerSec)} req/s, p99 ${load.latencyP99Ms} ms, errors ${load.errors + load.non2xx}\n`);
  return load;
}

async function startProcess(argv: string[], env: Record<string, string>): Promise<ChildProcess> {
  // stdout is a pipe that we drain, as a container log driver would: access logging stays on.
  const child = spawn(process.execPath, argv, { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout?.resume();
  return child;
}

const RAW_SERVER = `
const http = require('node:http');
const body = JSON.stringify({ prediction: 'Not likely to churn', churn_probability: 0.1, threshold: 0.5, model_version: '1' });
http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); }); })
  .listen(Number(process.env.PORT), '127.0.0.1');`;

async function timeSessionRun(rows: EncoderRow[], repeats: number): Promise<{ meanMs: number; minMs: number }> {
  const manifest = manifestSchema.parse(JSON.parse(await readFile(`${ROOT}model/bundle/manifest.json`, 'utf8')));
  const session = await ort.InferenceSession.create(`${ROOT}model/bundle/${manifest.onnx.file}`, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const encoder = compileEncoder(manifest.featureSpec);
  const input = new ort.Tensor('float32', encoder.encode(rows), [rows.length, encoder.width]);
  for (let i = 0; i < 5; i++) await session.run({ [manifest.onnx.inputName]: input });
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await session.run({ [manifest.onnx.inputName]: input });
    times.push(performance.now() - t);
  }
  await session.release();
  return { meanMs: times.reduce((a, b) => a + b, 0) / times.length, minMs: Math.min(...times) };
}

async function timeRequests(url: string, body: string, repeats: number): Promise<{ meanMs: number; minMs: number }> {
  const times: number[] = [];
  for (let i = 0; i < repeats + 3; i++) {
    const t = performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const text = await res.text();
    if (res.status !== 200 || text.includes('"errors"')) throw new Error(`batch request failed: ${res.status} ${text.slice(0, 300)}`);
    if (i >= 3) times.push(performance.now() - t);
  }
  return { meanMs: times.reduce((a, b) => a + b, 0) / times.length, minMs: Math.min(...times) };
}

const GQL_PREDICT = 'mutation Predict($customer: CustomerInput!) { predict(customer: $customer) { churnProbability willChurn riskLevel threshold modelVersion } }';
const GQL_BATCH = 'mutation PredictBatch($customers: [CustomerInput!]!) { predictBatch(customers: $customers) { churnProbability willChurn riskLevel modelVersion } }';

function toGraphQL(row: EncoderRow): Record<string, unknown> {
  const e = (v: unknown) => String(v).toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_|_$/g, '');
  const yes = (v: unknown) => v === 'Yes';
  return {
    gender: e(row['gender']), seniorCitizen: row['SeniorCitizen'] === 1, partner: yes(row['Partner']), dependents: yes(row['Dependents']),
    tenure: row['tenure'], phoneService: yes(row['PhoneService']), multipleLines: e(row['MultipleLines']), internetService: e(row['InternetService']),
    onlineSecurity: e(row['OnlineSecurity']), onlineBackup: e(row['OnlineBackup']), deviceProtection: e(row['DeviceProtection']),
    techSupport: e(row['TechSupport']), streamingTV: e(row['StreamingTV']), streamingMovies: e(row['StreamingMovies']), contract: e(row['Contract']),
    paperlessBilling: yes(row['PaperlessBilling']), paymentMethod: e(row['PaymentMethod']), monthlyCharges: row['MonthlyCharges'], totalCharges: row['TotalCharges'],
  };
}

async function main(): Promise<void> {
  process.stderr.write('building…\n');
  await run('npm', ['run', '--silent', 'build'], { cwd: ROOT });
  const parity = parityFileSchema.parse(JSON.parse(await readFile(`${ROOT}model/bundle/parity.json`, 'utf8')));
  const pool = parity.cases.map((c) => c.input as EncoderRow).filter((r) => (r['tenure'] as number) <= 72);
  const rowsOf = (n: number) => Array.from({ length: n }, (_, i) => pool[i % pool.length] as EncoderRow);
  const one = rowsOf(1)[0] as EncoderRow;

  // Start-up: spawn → first 200 on GET /.
  const gwPort = await freePort();
  const t0 = performance.now();
  const gateway = await startProcess(['dist/src/main.js'], { PORT: String(gwPort), HOST: '127.0.0.1', LOG_LEVEL: 'info', NODE_ENV: 'production' });
  const gw = `http://127.0.0.1:${gwPort}`;
  await waitFor200(`${gw}/`);
  const readyMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 1000));
  const idleRssMb = await rssMb(gateway.pid as number);
  process.stderr.write(`gateway ready in ${Math.round(readyMs)} ms, idle RSS ${Math.round(idleRssMb)} MB\n`);

  const rawPort = await freePort();
  const raw = await startProcess(['-e', RAW_SERVER], { PORT: String(rawPort) });
  await waitFor200(`http://127.0.0.1:${rawPort}/`);

  const restBody = JSON.stringify(one);
  const gqlBody = JSON.stringify({ query: GQL_PREDICT, operationName: 'Predict', variables: { customer: toGraphQL(one) } });
  const loads: Load[] = [];
  try {
    const pid = gateway.pid as number;
    // Warm-up both servers.
    await autocannon('warm-up', `${gw}/predict`, restBody, CONNECTIONS, undefined, 2);
    loads.push(await autocannon('raw node:http', `http://127.0.0.1:${rawPort}/`, restBody, CONNECTIONS));
    loads.push(await autocannon('REST /predict', `${gw}/predict`, restBody, CONNECTIONS, pid));
    loads.push(await autocannon('GraphQL predict', `${gw}/graphql`, gqlBody, CONNECTIONS, pid));
    for (const c of QUICK ? [] : [1, 256]) {
      loads.push(await autocannon('REST /predict', `${gw}/predict`, restBody, c, pid));
      loads.push(await autocannon('GraphQL predict', `${gw}/graphql`, gqlBody, c, pid));
    }
    // The same singles against a gateway that runs one session.run per request.
    const plainPort = await freePort();
    const plain = await startProcess(['dist/src/main.js'], { PORT: String(plainPort), HOST: '127.0.0.1', LOG_LEVEL: 'info', NODE_ENV: 'production', COALESCE_PREDICTIONS: 'false' });
    try {
      await waitFor200(`http://127.0.0.1:${plainPort}/`);
      for (const c of QUICK ? [CONNECTIONS] : [1, CONNECTIONS, 256]) {
        loads.push(await autocannon('REST /predict, no coalescing', `http://127.0.0.1:${plainPort}/predict`, restBody, c, plain.pid));
        loads.push(await autocannon('GraphQL predict, no coalescing', `http://127.0.0.1:${plainPort}/graphql`, gqlBody, c, plain.pid));
      }
    } finally {
      plain.kill('SIGTERM');
    }
    const batches: Record<string, { gatewayMs: number; sessionRunMs: number; ratio: number }> = {};
    for (const n of [100, 1000, 10000]) {
      const rows = rowsOf(n);
      const body = JSON.stringify({ query: GQL_BATCH, operationName: 'PredictBatch', variables: { customers: rows.map(toGraphQL) } });
      const repeats = n >= 10000 ? 5 : 20;
      const e2e = await timeRequests(`${gw}/graphql`, body, repeats);
      const ort = await timeSessionRun(rows, repeats);
      batches[String(n)] = { gatewayMs: e2e.meanMs, sessionRunMs: ort.meanMs, ratio: e2e.meanMs / ort.meanMs };
      process.stderr.write(`  predictBatch ${n}: ${e2e.meanMs.toFixed(2)} ms vs session.run ${ort.meanMs.toFixed(2)} ms\n`);
    }
    const rawRps = (loads.find((l) => l.name === 'raw node:http') as Load).requestsPerSec;
    const at = (name: string, c = CONNECTIONS) => loads.find((l) => l.name === name && l.connections === c) as Load;
    // The target is read at the standard load (CONNECTIONS); the overall peak (256 connections included) is reported too.
    const peakRss = Math.max(...loads.filter((l) => l.connections === CONNECTIONS).map((l) => l.peakRssMb ?? 0));
    const peakRssAll = Math.max(...loads.map((l) => l.peakRssMb ?? 0));
    const targets = [
      { target: 'REST /predict ≥ 0.5× raw node:http', value: at('REST /predict').requestsPerSec / rawRps, limit: 0.5, higherIsBetter: true },
      { target: 'GraphQL predict ≥ 0.25× raw node:http', value: at('GraphQL predict').requestsPerSec / rawRps, limit: 0.25, higherIsBetter: true },
      { target: 'predictBatch 1,000 ≤ 3× session.run', value: (batches['1000'] as { ratio: number }).ratio, limit: 3, higherIsBetter: false },
      { target: `p99 single prediction ≤ 10 ms at ${CONNECTIONS} connections (REST)`, value: at('REST /predict').latencyP99Ms, limit: 10, higherIsBetter: false },
      { target: `p99 single prediction ≤ 10 ms at ${CONNECTIONS} connections (GraphQL)`, value: at('GraphQL predict').latencyP99Ms, limit: 10, higherIsBetter: false },
      { target: `RSS under load ≤ 250 MB (peak during the ${CONNECTIONS}-connection loads)`, value: peakRss, limit: 250, higherIsBetter: false },
      { target: 'ready ≤ 1.5 s after start', value: readyMs / 1000, limit: 1.5, higherIsBetter: false },
    ].map((t) => ({ ...t, met: t.higherIsBetter ? t.value >= t.limit : t.value <= t.limit }));

    const date = new Date().toISOString().slice(0, 10);
    const result = { date, machine: { cpus: (await import('node:os')).cpus().length, node: process.version }, durationSec: DURATION, connections: CONNECTIONS, readyMs, idleRssMb, peakRssMb: peakRss, peakRssAllLoadsMb: peakRssAll, loads, batches, targets };
    await mkdir(`${ROOT}bench/results`, { recursive: true });
    await writeFile(`${ROOT}bench/results/${date}.json`, `${JSON.stringify(result, null, 2)}\n`);
    const md = [
      `# Benchmark ${date}`,
      '',
      `Same run, same machine (${result.machine.cpus} cores, Node ${process.version}); autocannon in its own process, ${DURATION} s per load, ${CONNECTIONS} connections unless stated.`,
      '',
      '| Target | Measured | Limit | Met |',
      '|---|---|---|---|',
      ...targets.map((t) => `| ${t.target} | ${t.value.toFixed(t.value < 10 ? 3 : 1)} | ${t.limit} | ${t.met ? 'yes' : '**no**'} |`),
      '',
      '| Load | Connections | req/s | × raw | mean ms | p99 ms | errors | peak RSS MB |',
      '|---|---|---|---|---|---|---|---|',
      ...loads.map((l) => `| ${l.name} | ${l.connections} | ${Math.round(l.requestsPerSec)} | ${(l.requestsPerSec / rawRps).toFixed(3)} | ${l.latencyMeanMs.toFixed(2)} | ${l.latencyP99Ms} | ${l.errors + l.non2xx} | ${l.peakRssMb ?? ''} |`),
      '',
      '| predictBatch rows | gateway end to end (ms) | raw session.run (ms) | ratio |',
      '|---|---|---|---|',
      ...Object.entries(batches).map(([n, b]) => `| ${n} | ${b.gatewayMs.toFixed(2)} | ${b.sessionRunMs.toFixed(2)} | ${b.ratio.toFixed(2)} |`),
      '',
      `Start-up to first 200 on GET /: ${Math.round(readyMs)} ms. Idle RSS ${Math.round(idleRssMb)} MB; peak ${peakRss} MB at ${CONNECTIONS} connections, ${peakRssAll} MB over all loads (256 connections included).`,
      '',
    ].join('\n');
    await writeFile(`${ROOT}bench/results/${date}.md`, md);
    await writeFile(`${ROOT}bench/results/latest.md`, md);
    process.stdout.write(`${md}\n`);
  } finally {
    gateway.kill('SIGTERM');
    raw.kill('SIGTERM');
  }
}

await main();
