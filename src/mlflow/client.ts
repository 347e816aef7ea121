/**
 * A small typed client for the parts of MLflow's REST API the gateway needs: registry
 * lookups, runs, experiments and run artifacts. Responses are validated with zod; every
 * call (answer and body) has a timeout; network errors, timeouts, bodies cut off, 5xx, 408
 * and 429 are retried with backoff, other 4xx are not. A caller may pass an AbortSignal
 * (its deadline): once it aborts, the call stops and is not retried. Errors say which URL
 * failed and what was being looked for.
 */
import { z } from 'zod';
import { GatewayError, describeError, zodIssues } from '../errors.js';

export interface MlflowClientOptions {
  readonly trackingUri: string;
  readonly timeoutMs: number;
  /** Extra attempts after the first on network errors, timeouts, cut-off bodies, 5xx, 408 and 429. */
  readonly retries?: number;
  /** Delay before the first retry; doubles on each further one. */
  readonly backoffMs?: number;
  /** Credentials sent on every call (MLFLOW_TRACKING_USERNAME and _PASSWORD, or _TOKEN); none when unset. */
  readonly credentials?: MlflowCredentials | undefined;
}

export type MlflowCredentials = { readonly username: string; readonly password: string } | { readonly token: string };

/** The Authorization header MLflow's own client sends for these credentials (HTTP Basic, or Bearer). */
export function authorizationOf(credentials: MlflowCredentials): string {
  return 'token' in credentials ? `Bearer ${credentials.token}` : `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
}

/** Per call: `signal` is the caller's deadline; its reason (an Error) says why it aborted. */
export interface CallOptions {
  readonly signal?: AbortSignal | undefined;
}

/** Statuses worth another attempt: MLflow (or a proxy before it) is overloaded or restarting. */
const RETRIED_STATUS = (status: number): boolean => status >= 500 || status === 408 || status === 429;
/**
 * MLflow (or a proxy before it) refused the gateway: a problem of access, not of the model URI.
 * Not 407: node's fetch never returns a 407 answer (the Fetch standard makes it a network
 * error), so a proxy asking for its own credentials reads as unreachable.
 */
const REFUSED_STATUS = (status: number): boolean => status === 401 || status === 403;

/**
 * Node's codes for a TLS certificate no certificate authority it knows vouches for: a self-signed
 * one, or one from a private CA. It read as "unreachable", and MLflow's own client's way round it
 * (MLFLOW_TRACKING_SERVER_CERT_PATH) is not the gateway's (docs/mlflow.md).
 */
const UNTRUSTED_CERTIFICATE: readonly string[] = [
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_UNTRUSTED',
];

/** Whether fetch failed on a certificate Node does not trust (the code is on fetch's cause). */
const untrustedCertificate = (err: unknown): boolean => {
  const cause = err instanceof Error ? err.cause : undefined;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? cause.code : undefined;
  return typeof code === 'string' && UNTRUSTED_CERTIFICATE.includes(code);
};

/**
 * The text/plain body of MLflow 3's 403 for a Host header it does not accept (its DNS-rebinding
 * guard, mlflow/server/security_utils.py INVALID_HOST_MSG): a server setting (--allowed-hosts),
 * not the credentials a 401/403 otherwise points to. /health is exempt, so it answers there.
 */
const MLFLOW_INVALID_HOST = 'Invalid Host header - possible DNS rebinding attack detected';

/**
 * Whether a 4xx answer is MLflow's own: MLflow answers every 4xx of its API (a registered model,
 * alias, version, run, experiment or artifact that is not there; a bad parameter) with a JSON
 * body naming an `error_code`. A 404 without one (an HTML "Not Found") comes from a server or
 * proxy that has no such route: a wrong MLFLOW_TRACKING_URI (host, port or path prefix), not an
 * answer about the model, which would otherwise read as "the alias names no model version".
 */
const CLIENT_ERROR_STATUS = (status: number): boolean => status >= 400 && status < 500 && !REFUSED_STATUS(status) && !RETRIED_STATUS(status);
const isMlflowAnswer = (status: number, mlflowCode: string | null): boolean => !CLIENT_ERROR_STATUS(status) || mlflowCode !== null;

/**
 * An MLflow call failed. `status` is the HTTP status, or null when no answer came back.
 * MLFLOW_NOT_FOUND when MLflow answered that the thing does not exist or the request was
 * wrong (4xx other than 401/403/408/429, with MLflow's error body: `mlflowCode` set);
 * MLFLOW_UNAVAILABLE otherwise (unreachable, timed out, body cut off, access refused,
 * throttled, 5xx, a 4xx without MLflow's error body — the URL is not MLflow's API — or an
 * answer that makes no sense).
 */
export class MlflowError extends GatewayError {
  constructor(
    readonly url: string,
    readonly lookingFor: string,
    readonly status: number | null,
    readonly mlflowCode: string | null,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(status !== null && CLIENT_ERROR_STATUS(status) && mlflowCode !== null ? 'MLFLOW_NOT_FOUND' : 'MLFLOW_UNAVAILABLE', message, options);
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
        // Protobuf JSON writes non-finite doubles as strings: runs/get answers "NaN" (and, on
        // some stores, "Infinity" / "-Infinity") for a metric logged as such.
        metrics: z.array(z.object({ key: z.string(), value: z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity']).transform(Number)]) })).optional().default([]),
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
  /**
   * Latest value of each metric, as runs/get reports it, without the NaN and ±Infinity ones
   * (GraphQL's Float, and so modelInfo, cannot carry them).
   */
  readonly metrics: Readonly<Record<string, number>>;
  readonly params: Readonly<Record<string, string>>;
  /**
   * True when the run is in MLflow's trash (lifecycle_stage "deleted"): MLflow still answers
   * for it and serves its artifacts until `mlflow gc` removes both for good.
   */
  readonly deleted: boolean;
}

const experimentResponse = z.object({
  experiment: z.object({ experiment_id: z.string(), name: z.string(), artifact_location: z.string().optional(), lifecycle_stage: z.string().optional() }),
});
export interface Experiment {
  readonly experimentId: string;
  readonly name: string;
  /** True when the experiment is in MLflow's trash: `mlflow gc` removes it with its runs. */
  readonly deleted: boolean;
}

/**
 * A folder's listing: artifacts/list (paths from the run's artifact root, with root_uri) or the
 * artifact proxy's (paths from the folder listed). An empty or missing folder has no `files`.
 */
const artifactListResponse = z.object({ files: z.array(z.object({ path: z.string(), is_dir: z.boolean().optional().default(false) })).optional().default([]) });

/** The artifact proxy's path of the run's artifact root (`<exp>/<run>/artifacts`) when its URI is mlflow-artifacts:; null otherwise. */
function proxiedRoot(run: Run): string | null {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(run.artifactUri);
  return m ? (m[1] as string).replace(/\/+$/, '') : null;
}

const errorBody = z.object({ error_code: z.string().optional(), message: z.string().optional() });

/** Resolves after `ms`, or as soon as `signal` aborts. */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

const reasonOf = (signal: AbortSignal): string => (signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted'));

export class MlflowClient {
  readonly trackingUri: string;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly headers: Readonly<Record<string, string>>;

  constructor(private readonly options: MlflowClientOptions) {
    this.trackingUri = options.trackingUri.replace(/\/+$/, '');
    this.retries = options.retries ?? 2;
    this.backoffMs = options.backoffMs ?? 200;
    this.headers = options.credentials ? { accept: 'application/json', authorization: authorizationOf(options.credentials) } : { accept: 'application/json' };
  }

  /** The variables the gateway's credentials came from, for messages (never their values); null when it has none. */
  get credentialVariables(): string | null {
    const { credentials } = this.options;
    return credentials === undefined ? null : 'token' in credentials ? 'MLFLOW_TRACKING_TOKEN' : 'MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD';
  }

  /** GET registered-models/alias: the version an alias points at. */
  async getModelVersionByAlias(name: string, alias: string, options: CallOptions = {}): Promise<ModelVersion> {
    const body = await this.getJson('/api/2.0/mlflow/registered-models/alias', { name, alias }, `alias ${alias} of registered model ${name}`, modelVersionResponse, options);
    return body.model_version;
  }

  /** GET model-versions/get. */
  async getModelVersion(name: string, version: string, options: CallOptions = {}): Promise<ModelVersion> {
    const body = await this.getJson('/api/2.0/mlflow/model-versions/get', { name, version }, `version ${version} of registered model ${name}`, modelVersionResponse, options);
    return body.model_version;
  }

  /** GET runs/get, with params and latest metrics as plain records. */
  async getRun(runId: string, options: CallOptions = {}): Promise<Run> {
    const { run } = await this.getJson('/api/2.0/mlflow/runs/get', { run_id: runId }, `run ${runId}`, runResponse, options);
    return {
      runId: run.info.run_id,
      experimentId: run.info.experiment_id,
      artifactUri: run.info.artifact_uri,
      deleted: run.info.lifecycle_stage === 'deleted',
      metrics: Object.fromEntries(run.data.metrics.filter((m) => Number.isFinite(m.value)).map((m) => [m.key, m.value])),
      params: Object.fromEntries(run.data.params.map((p) => [p.key, p.value])),
    };
  }

  /** GET experiments/get. */
  async getExperiment(experimentId: string, options: CallOptions = {}): Promise<Experiment> {
    const { experiment } = await this.getJson('/api/2.0/mlflow/experiments/get', { experiment_id: experimentId }, `experiment ${experimentId}`, experimentResponse, options);
    return { experimentId: experiment.experiment_id, name: experiment.name, deleted: experiment.lifecycle_stage === 'deleted' };
  }

  /**
   * The bytes of one run artifact. Runs on a server that serves artifacts (the default in
   * MLflow 3) have an `mlflow-artifacts:/<exp>/<run>/artifacts` URI, read through the
   * artifact proxy; for anything else the server's get-artifact endpoint reads the store.
   */
  async downloadArtifact(run: Run, artifactPath: string, options: CallOptions = {}): Promise<Uint8Array> {
    const lookingFor = `artifact ${artifactPath} of run ${run.runId}`;
    const root = proxiedRoot(run);
    const url = root !== null
      ? this.url(`/api/2.0/mlflow-artifacts/artifacts/${encodePath(`${root}/${artifactPath}`)}`, {})
      : this.url('/get-artifact', { path: artifactPath, run_uuid: run.runId });
    const { body } = await this.request(url, lookingFor, async (res) => new Uint8Array(await res.arrayBuffer()), options.signal);
    return body;
  }

  /**
   * The names of the files directly in the run's artifact folder `dir` (none when it is empty or
   * missing). Through the artifact proxy, like downloadArtifact, for a run whose artifacts it
   * serves; otherwise artifacts/list.
   */
  async listArtifacts(run: Run, dir: string, options: CallOptions = {}): Promise<string[]> {
    const lookingFor = `the artifacts in ${dir}/ of run ${run.runId}`;
    const root = proxiedRoot(run);
    const { files } = root !== null
      ? await this.getJson('/api/2.0/mlflow-artifacts/artifacts', { path: `${root}/${dir}` }, lookingFor, artifactListResponse, options)
      : await this.getJson('/api/2.0/mlflow/artifacts/list', { run_id: run.runId, path: dir }, lookingFor, artifactListResponse, options);
    const prefix = root !== null ? '' : `${dir}/`;
    return files.filter((f) => !f.is_dir && f.path.startsWith(prefix)).map((f) => f.path.slice(prefix.length));
  }

  private url(path: string, query: Record<string, string>): string {
    const qs = new URLSearchParams(query).toString();
    return `${this.trackingUri}${path}${qs ? `?${qs}` : ''}`;
  }

  private async getJson<T>(path: string, query: Record<string, string>, lookingFor: string, schema: z.ZodType<T>, options: CallOptions): Promise<T> {
    const url = this.url(path, query);
    const { status, body: text } = await this.request(url, lookingFor, (res) => res.text(), options.signal);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new MlflowError(url, lookingFor, status, null, `MLflow at ${this.trackingUri} answered ${lookingFor} with invalid JSON (${url}): ${describeError(err)}`);
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      const issues = zodIssues(parsed.error);
      throw new MlflowError(url, lookingFor, status, null, `MLflow at ${this.trackingUri} answered ${lookingFor} with an unexpected shape (${url}): ${issues}`);
    }
    return parsed.data;
  }

  /**
   * One GET with timeout and retries; resolves only with a 2xx answer whose whole body
   * `read` got. The timeout covers the body too, and a body that fails to arrive (cut off,
   * too slow) is retried like a failed request.
   */
  private async request<T>(url: string, lookingFor: string, read: (res: Response) => Promise<T>, signal?: AbortSignal): Promise<{ status: number; body: T }> {
    const { timeoutMs } = this.options;
    const cancelled = (stopped: AbortSignal) =>
      new MlflowError(url, lookingFor, null, null, `MLflow at ${this.trackingUri} did not provide ${lookingFor} (${url}) in time: ${reasonOf(stopped)}`);
    let lastError: MlflowError | null = null;
    const started = performance.now();
    // A timeout is per attempt, and the caller waited for every attempt and the backoff between
    // them: "no answer within 2000 ms" after a wait of 6.6 s read as a mistake. So it says which
    // attempt it was and how long the call took in all.
    const soFar = (attempt: number): string => {
      const took = `${((performance.now() - started) / 1000).toFixed(1)} s`;
      return this.retries === 0 ? `one attempt, ${took}` : `attempt ${attempt + 1} of ${this.retries + 1}, ${took} in all with the waits between attempts`;
    };
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) await sleep(this.backoffMs * 2 ** (attempt - 1), signal);
      if (signal?.aborted) throw cancelled(signal);
      const timeout = AbortSignal.timeout(timeoutMs);
      const both = signal ? AbortSignal.any([timeout, signal]) : timeout;
      let res: Response;
      try {
        res = await fetch(url, { headers: this.headers, signal: both });
      } catch (err) {
        if (signal?.aborted) throw cancelled(signal);
        const why = timeout.aborted ? `no answer within ${timeoutMs} ms (${soFar(attempt)})` : describeError(err);
        if (!timeout.aborted && untrustedCertificate(err)) {
          // Not retried: the same certificate comes back.
          throw new MlflowError(
            url,
            lookingFor,
            null,
            null,
            `MLflow at ${this.trackingUri} sent a TLS certificate that is not trusted, while looking for ${lookingFor} (${url}): ${why}; for a private certificate authority, set NODE_EXTRA_CA_CERTS to its PEM file (docs/mlflow.md)`,
            { cause: err },
          );
        }
        lastError = new MlflowError(url, lookingFor, null, null, `MLflow at ${this.trackingUri} is unreachable while looking for ${lookingFor} (${url}): ${why}`, { cause: err });
        continue;
      }
      if (res.ok) {
        try {
          return { status: res.status, body: await read(res) };
        } catch (err) {
          if (signal?.aborted) throw cancelled(signal);
          const why = timeout.aborted ? `the whole answer did not arrive within ${timeoutMs} ms (${soFar(attempt)})` : `the answer was cut off: ${describeError(err)}`;
          lastError = new MlflowError(url, lookingFor, null, null, `MLflow at ${this.trackingUri} failed to send ${lookingFor} (${url}): ${why}`, { cause: err });
          continue;
        }
      }
      const text = await res.text().catch(() => '');
      const parsed = errorBody.safeParse(safeJson(text));
      const mlflowCode = parsed.success ? (parsed.data.error_code ?? null) : null;
      const detail = parsed.success && parsed.data.message ? parsed.data.message : plainText(text);
      const message = res.status === 403 && text.includes(MLFLOW_INVALID_HOST)
        ? `MLflow at ${this.trackingUri} refused the Host header the gateway sent, ${new URL(this.trackingUri).host} (HTTP 403 for ${lookingFor} (${url}): ${detail}): ` +
          'mlflow server (MLflow 3) accepts only localhost, 127.0.0.1 and private IP addresses as the host unless told others; ' +
          `start it with --allowed-hosts ${new URL(this.trackingUri).host} (or MLFLOW_SERVER_ALLOWED_HOSTS), or set MLFLOW_TRACKING_URI to an address it accepts. Credentials do not change this answer`
        : REFUSED_STATUS(res.status)
        ? `MLflow at ${this.trackingUri} refused access (HTTP ${res.status}) to ${lookingFor} (${url}): ${mlflowCode ? `${mlflowCode}: ` : ''}${detail}. ` +
          (this.credentialVariables !== null
            ? `The gateway sent the credentials it was given (${this.credentialVariables}): check them, and that this account may read the model`
            : 'The gateway sent no credentials: set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN, or let MLflow (or the proxy in front of it) answer without them')
        : isMlflowAnswer(res.status, mlflowCode)
          ? `MLflow at ${this.trackingUri} answered HTTP ${res.status}${mlflowCode ? ` ${mlflowCode}` : ''}${res.status === 429 ? ' (too many requests)' : ''} for ${lookingFor} (${url}): ${detail}`
          : `${this.trackingUri} answered HTTP ${res.status} for ${lookingFor} (${url}) without MLflow's error body, so that URL is not MLflow's REST API ` +
            `(or not one that has this call): check MLFLOW_TRACKING_URI (host, port and path prefix) and any proxy in front of MLflow; the answer was: ${detail || '(empty)'}`;
      lastError = new MlflowError(url, lookingFor, res.status, mlflowCode, message);
      if (!RETRIED_STATUS(res.status)) throw lastError;
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

/**
 * A non-MLflow answer body for a message: its text without HTML tags, on one line, at most 200
 * characters. A tag is `<` to the next `>` with no `<` between: `<[^>]*>` tried every `<` of a body
 * of many and no `>` to its end, O(n²) (20,000 of them: ~0.7 s of the event loop).
 */
function plainText(body: string): string {
  const text = body.replace(/<[^<>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

const encodePath = (p: string): string => p.split('/').map(encodeURIComponent).join('/');
