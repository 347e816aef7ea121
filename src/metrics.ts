/**
 * Prometheus metrics, on a registry of the app's own (not prom-client's global one) so
 * that several apps in one test process do not collide.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric, type RegistryContentType } from 'prom-client';
import { Kind, type DocumentNode } from 'graphql';
import * as generated from './generated/graphql.js';
import type { InFlightBudget } from './in-flight-budget.js';
import type { ChurnModel, InferenceFailureReason } from './model/churn-model.js';
import type { RiskLevel } from './prediction.js';
import type { AbandonReason, ScoredTally } from './request-state.js';

/** Operation labels per route that get their own series (see RequestMetrics); the series for later new names is OTHER_OPERATIONS. */
export const MAX_OPERATION_LABELS = 50;
/** Not a valid GraphQL name, so it cannot collide with a client's operation. */
export const OTHER_OPERATIONS = '(other)';

/**
 * The operations of schema/operations (the typed documents the UI pages, GraphiQL's tabs and
 * known clients send): each always has its own series. Counted first come, first served with the
 * rest, the public /graphql could fill the MAX_OPERATION_LABELS names first, and the README's
 * `gateway_requests_total{operation="RetentionOffers"}` then never appeared.
 */
export const OWN_OPERATIONS: ReadonlySet<string> = new Set(
  Object.values(generated).flatMap((value) =>
    typeof value === 'object' && value !== null && 'kind' in value && value.kind === Kind.DOCUMENT
      ? (value as DocumentNode).definitions.flatMap((d) => (d.kind === Kind.OPERATION_DEFINITION && d.name ? [d.name.value] : []))
      : [],
  ),
);

/**
 * The latency buckets of gateway_request_duration_seconds, in seconds. The top ones reach
 * past REQUEST_TIMEOUT_MS's default (30 s), so slow and timed-out requests are told apart.
 */
export const REQUEST_DURATION_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30, 60];

/** A metric as prom-client's Registry reads it when it formats /metrics (see `RequestMetrics`). */
interface ExposedMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: { labels: Record<string, string | number>; value: number; metricName?: string }[];
}

/** Requests with one (route, GraphQL operation): their latency histogram and their count by status. */
interface Series {
  readonly labels: { readonly route: string; readonly operation: string };
  /** Observations per bucket, not cumulative: [i] counts those in (bound[i-1], bound[i]]; above the last bound only `count` has them. */
  readonly perBucket: number[];
  sum: number;
  count: number;
  readonly byStatus: Map<number, StatusCount>;
}

interface StatusCount {
  readonly labels: { readonly route: string; readonly operation: string; readonly status: string };
  value: number;
}

/**
 * gateway_requests_total{route,operation,status} and gateway_request_duration_seconds{route,operation},
 * recorded once per request by `record`.
 *
 * Why not a prom-client Counter and Histogram: each `inc`/`observe` validates the label
 * names, joins the label object into a string key and allocates: ~1.5 µs a request, ~3%
 * of the main thread at full REST load. Here a request costs two Map lookups by strings the
 * handler already holds (route and operation are the same string objects request after
 * request, so their hashes are cached), one lookup by status code and a short linear bucket
 * search.
 *
 * Why not count here and push into prom-client at scrape time: a Counter could take
 * `inc(labels, n)`, but a Histogram has no way to add bucket counts short of one `observe`
 * per request. So both metrics are views over the one table of series, registered as objects
 * with what prom-client's Registry reads from a metric (prom-client 15, lib/registry.js:
 * `name`, `help`, `type`, `aggregator`, `get()`, and `reset()` for `resetMetrics`). The
 * Registry still formats and escapes /metrics itself, and the values come out in the order
 * and shape a Counter and a Histogram give them (series in order of first appearance; `le`
 * first, then route and operation), so the text is the same as before, byte for byte.
 */
export class RequestMetrics {
  private readonly byRoute = new Map<string, Map<string, Series>>();
  /** In order of first appearance, as prom-client lists label sets. */
  private series: Series[] = [];
  private counts: StatusCount[] = [];

  /**
   * @param maxOperationsPerRoute Operation names come from clients, and every new label value
   *   is a series kept for the life of the process: past this many on one route, a new name is
   *   counted under OTHER_OPERATIONS (the access log still has the real name), except OWN_OPERATIONS.
   */
  constructor(
    registers: readonly Registry<RegistryContentType>[],
    private readonly maxOperationsPerRoute = MAX_OPERATION_LABELS,
  ) {
    const counter = this.metric('gateway_requests_total', 'HTTP requests by route, GraphQL operation and status', 'counter', () =>
      this.counts.map(({ labels, value }) => ({ labels: { ...labels }, value })),
    );
    const histogram = this.metric('gateway_request_duration_seconds', 'HTTP request latency by route and GraphQL operation', 'histogram', (name) =>
      this.series.flatMap((s) => this.histogramValues(name, s)),
    );
    for (const registry of registers) {
      // The Registry's type lists prom-client's own classes; at run time it takes any metric of this shape.
      registry.registerMetric(counter as unknown as Metric);
      registry.registerMetric(histogram as unknown as Metric);
    }
  }

  record(route: string, operation: string, status: number, seconds: number): void {
    let byOperation = this.byRoute.get(route);
    if (byOperation === undefined) this.byRoute.set(route, (byOperation = new Map<string, Series>()));
    let series = byOperation.get(operation);
    if (series === undefined && byOperation.size >= this.maxOperationsPerRoute && !OWN_OPERATIONS.has(operation)) {
      operation = OTHER_OPERATIONS;
      series = byOperation.get(operation);
    }
    if (series === undefined) {
      series = { labels: { route, operation }, perBucket: REQUEST_DURATION_BUCKETS.map(() => 0), sum: 0, count: 0, byStatus: new Map() };
      byOperation.set(operation, series);
      this.series.push(series);
    }
    series.sum += seconds;
    series.count += 1;
    const bucket = bucketOf(seconds);
    if (bucket < series.perBucket.length) (series.perBucket[bucket] as number) += 1;
    let count = series.byStatus.get(status);
    if (count === undefined) {
      count = { labels: { route, operation, status: String(status) }, value: 0 };
      series.byStatus.set(status, count);
      this.counts.push(count);
    }
    count.value += 1;
  }

  private reset(): void {
    this.byRoute.clear();
    this.series = [];
    this.counts = [];
  }

  private histogramValues(name: string, { labels, perBucket, sum, count }: Series): ExposedMetric['values'] {
    let cumulative = 0;
    const buckets = REQUEST_DURATION_BUCKETS.map((le, i) => {
      cumulative += perBucket[i] as number;
      return { labels: { le, ...labels }, value: cumulative, metricName: `${name}_bucket` };
    });
    return [
      ...buckets,
      { labels: { le: '+Inf', ...labels }, value: count, metricName: `${name}_bucket` },
      { labels: { ...labels }, value: sum, metricName: `${name}_sum` },
      { labels: { ...labels }, value: count, metricName: `${name}_count` },
    ];
  }

  private metric(name: string, help: string, type: ExposedMetric['type'], values: (name: string) => ExposedMetric['values']) {
    const reset = () => this.reset();
    return {
      // Mutable: the Registry renames counters when it formats OpenMetrics.
      name,
      help,
      type,
      aggregator: 'sum' as const,
      get(): Promise<ExposedMetric> {
        return Promise.resolve({ name: this.name, help, type, aggregator: 'sum', values: values(this.name) });
      },
      reset,
    };
  }
}

/** Index of the first bucket whose bound is ≥ seconds (as prom-client's); the bucket count when there is none. */
function bucketOf(seconds: number): number {
  let i = 0;
  while (i < REQUEST_DURATION_BUCKETS.length && seconds > (REQUEST_DURATION_BUCKETS[i] as number)) i++;
  return i;
}

/*
 * The label values of the counters whose values are a closed set. Each gets its series at 0 when
 * the registry is made, so rate() and increase() see 0 before the first event, not an absent
 * series. (Routes, operations and statuses are open: their series appear with their first request.)
 * membersOf<Union>({ … }) fails the typecheck when the union gains or loses a member.
 */
const membersOf = <K extends string>(members: Record<K, 0>): K[] => Object.keys(members) as K[];
const RISK_LEVELS = membersOf<RiskLevel>({ LOW: 0, MEDIUM: 0, HIGH: 0 });
const ABANDON_REASONS = membersOf<AbandonReason>({ client_closed: 0, timed_out: 0, shutting_down: 0 });
const INFERENCE_FAILURE_REASONS = membersOf<InferenceFailureReason>({ worker_stopped: 0, worker_hung: 0, worker_start_failed: 0, run_failed: 0 });

/**
 * The routes gateway_unexpected_errors_total has at 0 from start-up: those that run the gateway's
 * own work (GraphQL resolvers, REST predictions). A failure on another route adds its series then.
 */
const WORKING_ROUTES = ['graphql', 'rest_predict'] as const;

/** The statuses app.ts answers a request refused before routing with (handleClientError; handleConnect: 405; refuseOverCap: 503). */
const REFUSED_BEFORE_ROUTING = ['400', '405', '408', '413', '431', '503'] as const;

/** How a model reload ended, as gateway_model_reloads_total's `result` counts it. */
export type ReloadOutcome = 'swapped' | 'unchanged' | 'failed' | 'cancelled';
const RELOAD_OUTCOMES = membersOf<ReloadOutcome>({ swapped: 0, unchanged: 0, failed: 0, cancelled: 0 });

/**
 * What the gateway holds at once across requests (app.ts), read when /metrics is scraped: each
 * budget's use, its limit (the drivers' changes with the serving model) and the takes it refused.
 */
export interface BudgetReadings {
  /** Bytes past each body's first 64 KiB, which MAX_BODY_BYTES_IN_FLIGHT bounds. */
  readonly bodyBytes: InFlightBudget;
  /** Bytes of each body's first 64 KiB, never refused (bounded by MAX_CONNECTIONS). */
  readonly bodyFirstBytes: () => number;
  readonly bodyBytesMax: number;
  readonly drivers: InFlightBudget;
  /** MAX_BATCH × the serving model's risk drivers; 0 while no model with an explainer serves. */
  readonly driversCapacity: () => number;
  /** Connections open on PORT (app.ts portConnection), of MAX_CONNECTIONS. */
  readonly connections: () => number;
  readonly connectionsMax: number;
}

/** A gauge whose value is read when /metrics is scraped. */
function readAtScrape(registry: Registry, name: string, help: string, read: () => number): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    collect(this: Gauge) {
      this.set(read());
    },
  });
}

/** A counter's collect that sets each `budget` series to the total `read` gives when /metrics is scraped. */
function countedAtScrape(read: () => Record<string, number>) {
  return function collect(this: Counter<'budget'>): void {
    this.reset();
    for (const [budget, total] of Object.entries(read())) this.inc({ budget }, total);
  };
}

export class GatewayMetrics {
  readonly registry = new Registry();
  private budgets: BudgetReadings | null = null;
  readonly requests = new RequestMetrics([this.registry]);
  /**
   * By the model that served them too, as gateway_model_info names it (`version` and `run_id`: the
   * same version number can name two models). One series per risk level for each model this
   * process served, from when it was put into service (setModel).
   */
  readonly predictions = new Counter({
    name: 'gateway_predictions_total',
    help: 'Predictions served by risk level and by the model that served them (its version and MLflow run id, as in gateway_model_info)',
    labelNames: ['risk_level', 'version', 'run_id'] as const,
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'gateway_batch_size',
    help: 'Rows per scoring call answered with 2xx: a REST request, or each predict, predictBatch and UI offers field of a GraphQL request',
    buckets: [1, 2, 5, 10, 50, 100, 500, 1000, 5000, 10000],
    registers: [this.registry],
  });
  /** A request's predictions, once it was answered (see RequestState.scored). */
  recordServed(tally: ScoredTally): void {
    for (const rows of tally.batchSizes) this.batchSize.observe(rows);
    for (const { version, runId, byRisk } of tally.byModel) {
      for (const level of RISK_LEVELS) if (byRisk[level] > 0) this.predictions.inc({ risk_level: level, version, run_id: runId }, byRisk[level]);
    }
  }

  readonly abandoned = new Counter({
    name: 'gateway_abandoned_requests_total',
    help: 'Requests whose work stopped early because nobody waited for the answer any more: the caller closed the connection (client_closed), the request timed out (timed_out), or the shutdown answered it 503 at SHUTDOWN_TIMEOUT_MS (shutting_down)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly inferenceRows = new Histogram({
    name: 'gateway_inference_rows_per_run',
    help: 'Rows per ONNX session.run (above 1 for singles when concurrent requests were coalesced)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 1000, 10000],
    registers: [this.registry],
  });
  readonly modelInfo = new Gauge({
    name: 'gateway_model_info',
    help: 'The model being served (value 1)',
    labelNames: ['name', 'version', 'source', 'run_id'] as const,
    registers: [this.registry],
  });

  readonly inferenceFailures = new Counter({
    name: 'gateway_inference_failures_total',
    help:
      'ONNX runs that failed, by reason: the worker thread died (worker_stopped), stopped answering (worker_hung), could not be started again (worker_start_failed), or the run itself failed (run_failed). Each failed run answered its requests 503 INFERENCE_FAILED',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly inferenceFailing = new Gauge({
    name: 'gateway_inference_failing',
    help: '1 while the latest ONNX run of the served model failed (GET / answers 503 unless its own test run succeeds), else 0',
    registers: [this.registry],
  });
  readonly modelReloads = new Counter({
    name: 'gateway_model_reloads_total',
    help: 'Model reloads (polls that found a new version, and reloadModel calls) by result: swapped, unchanged (already serving), failed (the current model keeps serving), cancelled (past its deadline, or at shutdown)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly unexpectedErrors = new Counter({
    name: 'gateway_unexpected_errors_total',
    help: "Failures no code expects (a gateway bug), by route: a GraphQL field answered \"Unexpected error.\" (INTERNAL_SERVER_ERROR, HTTP 200; logged 'graphql resolver failed'), or a request answered 500 (logged 'unexpected error')",
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly sourceCheckFailures = new Counter({
    name: 'gateway_model_source_check_failures_total',
    help: 'Checks of the model source (MLflow alias polls) that failed: MLflow did not answer, or answered that the alias or version does not exist (the log line\'s kind tells which); the current model keeps serving',
    registers: [this.registry],
  });

  /**
   * The two in-flight budgets, read at each scrape: without them an on-call engineer saw 503s
   * (gateway_requests_total) with no way to tell a full budget from a model or worker failure,
   * nor how close to refusing a gateway runs.
   */
  readonly bodyBytesInFlight = readAtScrape(
    this.registry,
    'gateway_request_body_bytes_in_flight',
    "Bytes of request bodies held now past each body's first 64 KiB, arrived or complete, until each answer is done (a chunk that does not fit under gateway_request_body_bytes_in_flight_max with them is refused 503 with Retry-After)",
    () => this.budgets?.bodyBytes.inUse ?? 0,
  );
  readonly bodyFirstBytesInFlight = readAtScrape(
    this.registry,
    'gateway_request_body_first_bytes_in_flight',
    "Bytes of request bodies held now within each body's first 64 KiB: never refused, and not counted in gateway_request_body_bytes_in_flight; at most 64 KiB per open connection (MAX_CONNECTIONS)",
    () => this.budgets?.bodyFirstBytes() ?? 0,
  );
  readonly bodyBytesInFlightMax = readAtScrape(
    this.registry,
    'gateway_request_body_bytes_in_flight_max',
    'MAX_BODY_BYTES_IN_FLIGHT: the request-body bytes held at once past which a body is refused',
    () => this.budgets?.bodyBytesMax ?? 0,
  );
  readonly connectionsOpen = readAtScrape(
    this.registry,
    'gateway_connections_open',
    "Connections open now on PORT (the operations port's are not counted), of gateway_connections_max (MAX_CONNECTIONS): a request on a connection opened past it is answered 503 OVERLOADED, counted in gateway_refused_before_routing_total{status=\"503\"}",
    () => this.budgets?.connections() ?? 0,
  );
  readonly connectionsMax = readAtScrape(this.registry, 'gateway_connections_max', 'MAX_CONNECTIONS: connections open at once on PORT before a new one is refused', () => this.budgets?.connectionsMax ?? 0);
  readonly driversInFlight = readAtScrape(
    this.registry,
    'gateway_explanation_drivers_in_flight',
    'Risk drivers being explained now across GraphQL requests, until each answer is written (a field that does not fit under gateway_explanation_drivers_capacity is refused OVERLOADED, HTTP 503)',
    () => this.budgets?.drivers.inUse ?? 0,
  );
  readonly driversCapacity = readAtScrape(
    this.registry,
    'gateway_explanation_drivers_capacity',
    "Risk drivers explained at once past which an explanation is refused: MAX_BATCH × the serving model's drivers (0 while no model with an explainer serves)",
    () => this.budgets?.driversCapacity() ?? 0,
  );
  readonly budgetRefusals = new Counter({
    name: 'gateway_budget_refusals_total',
    help: 'Refusals because a budget of what is held at once was full: a request body refused 503 (body_bytes), or an explanation field refused OVERLOADED (explanation_drivers); each answered with Retry-After',
    labelNames: ['budget'] as const,
    registers: [this.registry],
    collect: countedAtScrape(() => ({ body_bytes: this.budgets?.bodyBytes.refusals ?? 0, explanation_drivers: this.budgets?.drivers.refusals ?? 0 })),
  });

  readonly refusedBeforeRouting = new Counter({
    name: 'gateway_refused_before_routing_total',
    help: "Requests node's HTTP parser refused, whose headers did not arrive in time, that were a CONNECT, or that came on a connection past MAX_CONNECTIONS, before any route saw them, by the status answered (400 not valid HTTP/1.1, 405 CONNECT, 408 headers not in time, 413 chunk extensions too long, 431 headers too large, 503 MAX_CONNECTIONS open); in no other series, and logged as 'request refused before routing'",
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  /** Reads the app's budgets at each scrape (app.ts: made with the app, after the metrics). */
  watchBudgets(budgets: BudgetReadings): void {
    this.budgets = budgets;
  }

  constructor() {
    for (const reason of ABANDON_REASONS) this.abandoned.inc({ reason }, 0);
    for (const reason of INFERENCE_FAILURE_REASONS) this.inferenceFailures.inc({ reason }, 0);
    for (const result of RELOAD_OUTCOMES) this.modelReloads.inc({ result }, 0);
    for (const status of REFUSED_BEFORE_ROUTING) this.refusedBeforeRouting.inc({ status }, 0);
    for (const route of WORKING_ROUTES) this.unexpectedErrors.inc({ route }, 0);
    this.inferenceFailing.set(0);
    collectDefaultMetrics({ register: this.registry });
  }

  setModel(model: ChurnModel): void {
    this.modelInfo.reset();
    const { name, source, runId } = model.lineage;
    this.modelInfo.set({ name, version: model.modelVersion, source, run_id: runId }, 1);
    // Its predictions' series at 0 before it serves any, so rate() and increase() have one to read.
    for (const level of RISK_LEVELS) this.predictions.inc({ risk_level: level, version: model.modelVersion, run_id: runId }, 0);
  }
}
