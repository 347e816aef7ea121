/**
 * Wires the gateway together and listens: metrics, model slot, model source, app,
 * HTTP server with timeouts matched to the ALB, and an ordered, idempotent shutdown.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createApp, type App } from './app.js';
import type { Config } from './config.js';
import { describeError } from './errors.js';
import type { Logger } from './logger.js';
import { GatewayMetrics } from './metrics.js';
import { ModelAdmin } from './model/model-admin.js';
import { ModelSlot } from './model/model-slot.js';
import { loadInitialModel, modelSourceFrom } from './model/startup.js';
import { Predictor } from './prediction.js';
import { createUiRoutes } from './ui/route.js';

export interface Gateway {
  readonly server: Server;
  readonly app: App;
  readonly slot: ModelSlot;
  readonly admin: ModelAdmin;
  readonly url: string;
  /** The operations port's listener (OPS_PORT: GET / and GET /metrics only), or null when OPS_PORT is unset. */
  readonly opsServer: Server | null;
  /** Its URL, or null. */
  readonly opsUrl: string | null;
  /** Resolves once a model is loaded and warmed up (GET / answers 200 from then on). */
  readonly ready: Promise<void>;
  /** Drain and stop; idempotent. Resolves true when every in-flight request finished in time. */
  shutdown(reason: string): Promise<boolean>;
}

/** Node checks requestTimeout and headersTimeout this often. */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1000;

/**
 * What shutdown still gives its last steps once SHUTDOWN_TIMEOUT_MS has passed: the 503s written
 * to requests left unanswered, to reach their callers before the connections close, and the
 * model's release (its ONNX worker freeing the session: exiting inside onnxruntime can abort the
 * process). With EXIT_LOG_WAIT_MS, inside the 10 s ECS's stopTimeout leaves beyond SHUTDOWN_TIMEOUT_MS.
 */
export const PAST_SHUTDOWN_TIMEOUT_MS = 2000;

/** Whether `work` settles (either way) before the `deadline` (epoch ms). */
function settledBy(work: Promise<unknown>, deadline: number): Promise<boolean> {
  return Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), Math.max(0, deadline - Date.now())).unref()),
  ]);
}

/**
 * An HTTP server answering with `handle` (app.handle on PORT, app.handleOps on OPS_PORT), and a
 * request sent with `Expect: 100-continue` with `handleContinue`; its connections kept in `connections`.
 */
function listener(config: Config, app: App, handle: App['handle'], handleContinue: App['handle'], connections: Set<Socket>): Server {
  const server = createServer(
    {
      requestTimeout: config.REQUEST_TIMEOUT_MS,
      headersTimeout: config.HEADERS_TIMEOUT_MS,
      keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
      // How often Node checks the two timeouts above, for connections that trickle their headers
      // and ones that never send a byte alike (its default, 30 s, let both run to 35-40 s
      // against a 10 s HEADERS_TIMEOUT_MS).
      connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
      // The app refuses an HTTP/1.1 request without Host itself, with a request id (app.ts route).
      requireHostHeader: false,
      ServerResponse: app.Response,
    },
    handle,
  );
  // Requests sent with `Expect: 100-continue` (curl for bodies over 1 MB), and only those: node
  // otherwise answers them `100 Continue` before the gateway sees them, and the caller uploads
  // a body that may be refused (413, 415, 404) before it is read.
  server.on('checkContinue', handleContinue);
  // Any other Expect, and requests node's parser refuses or that time out before their headers
  // are read: node's own answers to these were bare (no body, no x-request-id).
  server.on('checkExpectation', app.handleUnmetExpectation);
  server.on('clientError', app.handleClientError);
  // CONNECT: node destroyed its socket unanswered while nothing listened.
  server.on('connect', app.handleConnect);
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  return server;
}

/** Node's codes for a listen address that is not this machine's, or not a name it can resolve: HOST's fault, not the port's. */
const HOST_ERRORS: readonly string[] = ['EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME'];

/**
 * Listens on `port` (the value of `portVariable`) and `host`; resolves to the URL a client on this
 * machine reaches it at. A failure names the variable to change, as a refused configuration does:
 * node's "listen EADDRINUSE: address already in use 0.0.0.0:8001" did not say whether PORT or
 * OPS_PORT, nor "getaddrinfo ENOTFOUND localhost " that HOST had a trailing space.
 */
async function listen(server: Server, port: number, host: string, portVariable: 'PORT' | 'OPS_PORT'): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const [variable, value] = HOST_ERRORS.includes(err.code ?? '') ? ['HOST', JSON.stringify(host)] : [portVariable, String(port)];
      reject(new Error(`${variable} ${value}: ${err.message}`, { cause: err }));
    });
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shown === '0.0.0.0' || shown === '[::]' ? '127.0.0.1' : shown}:${address.port}`;
}

export async function startGateway(config: Config, log: Logger): Promise<Gateway> {
  const metrics = new GatewayMetrics();
  const slot = new ModelSlot();
  const predictor = new Predictor(slot, metrics, { coalesce: config.COALESCE_PREDICTIONS });
  const source = modelSourceFrom(config);
  // Aborted by shutdown: a start-up load still waiting for MLflow ends then (see loadInitialModel).
  const stopLoading = new AbortController();
  const initial = loadInitialModel(config, log, source, stopLoading.signal);
  // Observed at once: a load that fails while listen() is still pending is reported by
  // `ready` (below), not first as an "unhandled rejection".
  initial.catch(() => undefined);
  const admin = new ModelAdmin(slot, source, log, metrics);
  const app = createApp({ config, log, slot, predictor, admin, metrics, extraRoutes: createUiRoutes(config, log) });

  // Open connections on either port, for the shutdown's deadline: node lists its own only to close them all.
  const connections = new Set<Socket>();
  const server = listener(config, app, app.handle, app.handleExpectingContinue, connections);
  // Counted, and refused past MAX_CONNECTIONS (app.ts portConnection); the operations port's never are.
  server.on('connection', app.portConnection);
  // The operations port: its own queue of connections to accept, so the load balancer's health
  // check is not accepted after every connection queued on PORT (config.ts OPS_PORT).
  const ops = config.OPS_PORT === undefined ? null : { server: listener(config, app, app.handleOps, app.handleOps, connections), port: config.OPS_PORT };
  ops?.server.on('connection', app.opsConnection);
  const url = await listen(server, config.PORT, config.HOST, 'PORT');
  const opsUrl =
    ops === null
      ? null
      : await listen(ops.server, ops.port, config.HOST, 'OPS_PORT').catch((err: unknown) => {
          server.close();
          throw err;
        });

  const ready = initial.then(async (model) => {
    await slot.swap(model);
    // `opsUrl`: the operations port's (OPS_PORT), or null.
    // `revision`: the commit this gateway was built from, so the logs tell a new image with the same model apart.
    // `notice`: in full (modelInfo.noticeDetail), what modelInfo and GET / say besides (the bundle served instead of MLflow's model, its run deleted), or null.
    log.info({ url, opsUrl, model: model.lineage.name, version: model.modelVersion, runId: model.lineage.runId, onnxSha256: model.manifest.onnx.sha256, explainerSha256: model.explainer?.report.fileSha256 ?? null, groupReportSha256: model.groupReport?.fileSha256 ?? null, source: model.lineage.source, parity: model.parity, revision: config.GATEWAY_REVISION, notice: admin.noticeFor(model)?.detail ?? null }, 'ready');
    if (!stopping) admin.startPolling(config.MLFLOW_POLL_INTERVAL_MS);
  });

  let stopping: Promise<boolean> | null = null;
  const shutdown = (reason: string): Promise<boolean> =>
    (stopping ??= (async () => {
      const deadline = Date.now() + config.SHUTDOWN_TIMEOUT_MS;
      const lastSteps = deadline + PAST_SHUTDOWN_TIMEOUT_MS;
      log.info({ reason, inFlight: app.inFlight() }, 'shutting down: draining');
      admin.close();
      stopLoading.abort();
      app.startDraining();
      const servers = ops === null ? [server] : [server, ops.server];
      const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      // Keep-alive sockets go idle as their in-flight requests finish: close each as it does.
      const sweep = setInterval(() => {
        for (const s of servers) s.closeIdleConnections();
      }, 50);
      void closed.then(() => clearInterval(sweep));
      const timedOut = await Promise.race([
        closed.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(true), config.SHUTDOWN_TIMEOUT_MS).unref()),
      ]);
      clearInterval(sweep);
      let answered: Socket[] = [];
      let answeredClosed: Promise<unknown> = Promise.resolve();
      if (timedOut) {
        // Requests not answered yet get a 503 of their own; answers already being sent, and idle
        // connections, are closed now. The 503s' connections close once written (after the caller
        // stops sending a body, lingerIfClosing in http.ts): waited for beside the model's release,
        // below, both within PAST_SHUTDOWN_TIMEOUT_MS (one after the other, a 503 still lingering
        // took all of it and the release got none).
        answered = [...connections].filter((socket) => app.answerUnanswered(socket));
        log.warn({ inFlight: app.inFlight(), answered503: answered.length, timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown timeout: closing remaining connections');
        for (const socket of connections) if (!answered.includes(socket)) socket.destroy();
        answeredClosed = Promise.all(answered.map((socket) => new Promise((resolve) => socket.once('close', resolve))));
      }
      // A model still loading is inside onnxruntime on its worker thread: exiting then can
      // abort the whole process (SIGABRT). Let the load end (within the shutdown budget);
      // a model it produced is in the slot by then and released with it.
      const loaded = await settledBy(ready, deadline);
      if (!loaded) log.warn('shutdown timeout: the model was still loading');
      // Likewise a reload's candidate being created (admin.close cancelled every reload still
      // waiting for MLflow): it ends by releasing that candidate, before the slot closes.
      const reloaded = await settledBy(admin.settled(), deadline);
      if (!reloaded) log.warn('shutdown timeout: a model reload was still loading');
      // Bounded too: a run stuck on a hung ONNX worker held the release, and the process, until
      // ECS's SIGKILL. Past the deadline, so that a drain that used the whole budget leaves it a moment.
      const releasing = slot.close().catch((err: unknown) => log.error({ err: describeError(err) }, 'releasing the model failed'));
      const released = await settledBy(releasing, lastSteps);
      if (!released) log.warn('shutdown timeout: the model was still being released');
      await settledBy(answeredClosed, lastSteps);
      for (const socket of answered) socket.destroy();
      const drained = !timedOut && loaded && reloaded && released;
      log.info({ drained }, 'stopped');
      return drained;
    })());

  return { server, opsServer: ops?.server ?? null, app, slot, admin, url, opsUrl, ready, shutdown };
}
