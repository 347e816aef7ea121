/**
 * A small typed client for the parts of MLflow's REST API the gateway needs: registry
 * lookups, runs, experiments and run artifacts. Responses are validated with zod; every
 * call has a timeout; network errors and 5xx are retried with backoff, 4xx are not.
 * Errors say which URL failed and what was being looked for.
 */
import { z } from 'zod';
import { GatewayError, describeError } from '../errors.js';

export interface MlflowClientOptions {
  readonly trackingUri: string;
  readonly timeoutMs: number;
  /** Extra attempts after the first on network errors, timeouts and 5xx. */
  readonly retries?: number;
  /** Delay before the first retry; doubles on each further one. */
  readonly backoffMs?: number;
}

/** An MLflow call failed. `status` is the HTTP status, or null when no answer came back. */
export class MlflowError extends GatewayError {
  constructor(
    readonly url: string,
    readonly lookingFor: string,
    readonly status: number | null,
    readonly mlflowCode: string | null,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(status !== null && status >= 400 && status < 500 ? 'MLFLOW_NOT_FOUND' : 'MLFLOW_UNAVAILABLE', message, options);
  }

  /** True when MLflow answered that the thing does not exist (or the request was wrong): retrying will not help. */
  get isClientError(): boolean {
    return this.code === 'MLFLOW_NOT_FOUND';
  }
}

const modelVersionSchema = z.object({
  name: z.string(),
  version: z.string(),
  run_id: z.string().optional().default(''),
  status: z.string().optional(),
  aliases: z.array(z.string()).optional().default([]),
});
export type ModelVersion = z.infer<typeof modelVersionSchema>;
const modelVersionResponse = z.object({ model_version: modelVersionSchema });

const runResponse = z.object({
  run: z.object({
    info: z.object({
      run_id: z.string(),
      experiment_id: z.string(),
      artifact_uri: z.string(),
      status: z.string().optional(),
      lifecycle_stage: z.string().optional(),
    }),
    data: z
      .object({
        metrics: z.array(z.object({ key: z.string(), value: z.number() })).optional().default([]),
        params: z.array(z.object({ key: z.string(), value: z.string() })).optional().default([]),
      })
      .optional()
      .default({ metrics: [], params: [] }),
  }),
});

export interface Run {
  readonly runId: string;
  readonly experimentId: string;
  readonly artifactUri: string;
  /** Latest value of each metric, as runs/get reports it. */
  readonly metrics: Readonly<Record<string, number>>;
  readonly params: Readonly<Record<string, string>>;
}

const experimentResponse = z.object({
  experiment: z.object({ experiment_id: z.string(), name: z.string(), artifact_location: z.string().optional() }),
});
export interface Experiment {
  readonly experimentId: string;
  readonly name: string;
}

const errorBody = z.object({ error_code: z.string().optional(), message: z.string().optional() });

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class MlflowClient {
  readonly trackingUri: string;
  private readonly retries: number;
  private readonly backoffMs: number;

  constructor(private readonly options: MlflowClientOptions) {
    this.trackingUri = options.trackingUri.replace(/\/+$/, '');
    this.retries = options.retries ?? 2;
    this.backoffMs = options.backoffMs ?? 200;
  }

  /** GET registered-models/alias: the version an alias points at. */
  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    const body = await this.getJson('/api/2.0/mlflow/registered-models/alias', { name, alias }, `alias ${alias} of registered model ${name}`, modelVersionResponse);
    return body.model_version;
  }

  /** GET model-versions/get. */
  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    const body = await this.getJson('/api/2.0/mlflow/model-versions/get', { name, version }, `version ${version} of registered model ${name}`, modelVersionResponse);
    return body.model_version;
  }

  /** GET runs/get, with params and latest metrics as plain records. */
  async getRun(runId: string): Promise<Run> {
    const { run } = await this.getJson('/api/2.0/mlflow/runs/get', { run_id: runId }, `run ${runId}`, runResponse);
    return {
      runId: run.info.run_id,
      experimentId: run.info.experiment_id,
      artifactUri: run.info.artifact_uri,
      metrics: Object.fromEntries(run.data.metrics.map((m) => [m.key, m.value])),
      params: Object.fromEntries(run.data.params.map((p) => [p.key, p.value])),
    };
  }

  /** GET experiments/get. */
  async getExperiment(experimentId: string): Promise<Experiment> {
    const { experiment } = await this.getJson('/api/2.0/mlflow/experiments/get', { experiment_id: experimentId }, `experiment ${experimentId}`, experimentResponse);
    return { experimentId: experiment.experiment_id, name: experiment.name };
  }

  /**
   * The bytes of one run artifact. Runs on a server that serves artifacts (the default in
   * MLflow 3) have an `mlflow-artifacts:/<exp>/<run>/artifacts` URI, read through the
   * artifact proxy; for anything else the server's get-artifact endpoint reads the store.
   */
  async downloadArtifact(run: Run, artifactPath: string): Promise<Uint8Array> {
    const lookingFor = `artifact ${artifactPath} of run ${run.runId}`;
    const proxied = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(run.artifactUri);
    const url = proxied
      ? this.url(`/api/2.0/mlflow-artifacts/artifacts/${encodePath(`${(proxied[1] as string).replace(/\/+$/, '')}/${artifactPath}`)}`, {})
      : this.url('/get-artifact', { path: artifactPath, run_uuid: run.runId });
    const res = await this.request(url, lookingFor);
    return new Uint8Array(await res.arrayBuffer());
  }

  private url(path: string, query: Record<string, string>): string {
    const qs = new URLSearchParams(query).toString();
    return `${this.trackingUri}${path}${qs ? `?${qs}` : ''}`;
  }

  private async getJson<T>(path: string, query: Record<string, string>, lookingFor: string, schema: z.ZodType<T>): Promise<T> {
    const url = this.url(path, query);
    const res = await this.request(url, lookingFor);
    let data: unknown;
    try {
      data = await res.json();
    } catch (err) {
      throw new MlflowError(url, lookingFor, res.status, null, `MLflow at ${this.trackingUri} answered ${lookingFor} with invalid JSON (${url}): ${describeError(err)}`);
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new MlflowError(url, lookingFor, res.status, null, `MLflow at ${this.trackingUri} answered ${lookingFor} with an unexpected shape (${url}): ${issues}`);
    }
    return parsed.data;
  }

  /** One GET with timeout and retries; resolves only with a 2xx response. */
  private async request(url: string, lookingFor: string): Promise<Response> {
    let lastError: MlflowError | null = null;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) await sleep(this.backoffMs * 2 ** (attempt - 1));
      let res: Response;
      try {
        res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(this.options.timeoutMs) });
      } catch (err) {
        const why = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : describeError(err);
        lastError = new MlflowError(url, lookingFor, null, null, `MLflow at ${this.trackingUri} is unreachable while looking for ${lookingFor} (${url}): ${why}`);
        continue;
      }
      if (res.ok) return res;
      const text = await res.text().catch(() => '');
      const parsed = errorBody.safeParse(safeJson(text));
      const mlflowCode = parsed.success ? (parsed.data.error_code ?? null) : null;
      const detail = parsed.success && parsed.data.message ? parsed.data.message : text.slice(0, 200);
      lastError = new MlflowError(
        url,
        lookingFor,
        res.status,
        mlflowCode,
        `MLflow at ${this.trackingUri} answered HTTP ${res.status}${mlflowCode ? ` ${mlflowCode}` : ''} for ${lookingFor} (${url}): ${detail}`,
      );
      if (res.status < 500) throw lastError;
    }
    throw lastError as MlflowError;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

const encodePath = (p: string): string => p.split('/').map(encodeURIComponent).join('/');
