/**
 * Chooses and loads the first model: from MLflow when MLFLOW_TRACKING_URI and MODEL_URI
 * are set, else the bundle in MODEL_DIR. When MLflow cannot provide the model at start-up
 * the gateway serves the bundle and says so (logs, modelInfo.notice, GET /), unless
 * MLFLOW_STRICT asks it to refuse to start.
 */
import { readBundleDir, verifyBundle } from '../bundle/load.js';
import type { Config } from '../config.js';
import { GatewayError, describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { MlflowClient } from '../mlflow/client.js';
import { ChurnModel, lineageFromManifest } from './churn-model.js';
import { MlflowModelSource } from './mlflow-source.js';
import type { ModelSource } from './model-admin.js';
import { codeInParentheses, notice, type Notice } from './notice.js';

/** Start-up refused (MLFLOW_STRICT): the message is the one line main prints. */
export class StartupError extends GatewayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STARTUP_REFUSED', message, options);
  }
}

export async function loadBundleModel(dir: string, notice: Notice | null = null): Promise<ChurnModel> {
  const bundle = verifyBundle(await readBundleDir(dir));
  return ChurnModel.create(bundle, lineageFromManifest(bundle.manifest, notice));
}

/**
 * How long a reloadModel may take: REQUEST_TIMEOUT_MS less a margin (a tenth, at most 1 s)
 * for the answer itself. One MLflow call alone may take 3 × MLFLOW_TIMEOUT_MS plus backoff
 * and a reload makes nine (one fewer without explainer, one fewer without group report; five one
 * after another, the files after the manifest at once), so the reload gets a deadline rather than a config rule: it
 * either completes within it or answers 502 MLFLOW_UNAVAILABLE "no answer within …" before
 * the request times out, and is cancelled (nothing swapped in afterwards).
 */
export function reloadDeadlineMs(requestTimeoutMs: number): number {
  return requestTimeoutMs - Math.min(1000, Math.ceil(requestTimeoutMs / 10));
}

/** The configured MLflow source, or null when the gateway serves its bundle only. */
export function modelSourceFrom(config: Config): MlflowModelSource | null {
  if (!config.MLFLOW_TRACKING_URI || !config.MODEL_URI) return null;
  const { MLFLOW_TRACKING_USERNAME: username, MLFLOW_TRACKING_PASSWORD: password, MLFLOW_TRACKING_TOKEN: token } = config;
  const credentials = token !== undefined ? { token } : username !== undefined && password !== undefined ? { username, password } : undefined;
  const client = new MlflowClient({ trackingUri: config.MLFLOW_TRACKING_URI, timeoutMs: config.MLFLOW_TIMEOUT_MS, credentials });
  return new MlflowModelSource(client, config.MODEL_URI, { reloadDeadlineMs: reloadDeadlineMs(config.REQUEST_TIMEOUT_MS) });
}

/**
 * `stop` (the gateway shutting down) ends a load from MLflow where it stands, with no fallback
 * to the bundle: otherwise a SIGTERM while MLflow does not answer waited out
 * SHUTDOWN_TIMEOUT_MS, and the task stopped with exit code 1. A load of the bundle, or an
 * ONNX session being created, is not stopped (exiting inside onnxruntime can abort the process).
 */
export async function loadInitialModel(config: Config, log: Logger, source: ModelSource | null = null, stop?: AbortSignal): Promise<ChurnModel> {
  if (!source) {
    log.info({ modelDir: config.MODEL_DIR }, 'loading model bundle');
    try {
      return await loadBundleModel(config.MODEL_DIR);
    } catch (err) {
      // Named as a refused setting is: the path alone ("cannot read /app/model/bundle /manifest.json")
      // did not say which variable to change, nor show a trailing space.
      throw new StartupError(`MODEL_DIR ${JSON.stringify(config.MODEL_DIR)}: ${describeError(err)}`, { cause: err });
    }
  }
  log.info({ source: source.description }, 'loading model from MLflow');
  // The load from MLflow gets the time a reloadModel gets: with no deadline, an MLflow that
  // answers but sends slowly (each call up to 3 × MLFLOW_TIMEOUT_MS, a load making nine, five one after another)
  // kept GET / at 503 "starting" for minutes, past the load balancer's grace period, and the task
  // was replaced before it could fall back to its bundle.
  const budget = source.reloadDeadlineMs;
  const deadline = new AbortController();
  const timer = budget === undefined ? null : setTimeout(() => deadline.abort(new Error(`the start-up load from MLflow gets ${budget} ms, as reloadModel does`)), budget);
  try {
    return await source.load({ signal: stop ? AbortSignal.any([deadline.signal, stop]) : deadline.signal });
  } catch (err) {
    if (stop?.aborted) {
      log.info({ source: source.description }, 'start-up load from MLflow stopped: shutting down');
      throw new StartupError(`the load of ${config.MODEL_URI} from MLflow was stopped: the gateway is shutting down`, { cause: err });
    }
    const why = describeError(err);
    if (config.MLFLOW_STRICT) {
      throw new StartupError(`MLFLOW_STRICT is set and model ${config.MODEL_URI} could not be loaded from MLflow at ${config.MLFLOW_TRACKING_URI}: ${why}`);
    }
    const served = notice(
      `MLflow model ${config.MODEL_URI} could not be loaded at start-up${codeInParentheses(err)}, so the packaged bundle is served.`,
      `MLflow model ${config.MODEL_URI} at ${config.MLFLOW_TRACKING_URI} could not be loaded at start-up, so the packaged bundle is served: ${why}`,
    );
    log.warn({ source: source.description, modelDir: config.MODEL_DIR, err: why }, 'MLflow model unavailable at start-up; serving the packaged bundle');
    try {
      return await loadBundleModel(config.MODEL_DIR, served);
    } catch (bundleErr) {
      // Both reasons in the one line: the bundle's alone read as if MLflow had never been asked
      // (an operator serving from MLflow went looking in MODEL_DIR, not at MLflow).
      throw new StartupError(
        `model ${config.MODEL_URI} could not be loaded from MLflow at ${config.MLFLOW_TRACKING_URI} (${why}), ` +
          `and the packaged bundle in MODEL_DIR (${config.MODEL_DIR}) could not be served instead: ${describeError(bundleErr)}`,
        { cause: bundleErr },
      );
    }
  } finally {
    if (timer) clearTimeout(timer);
  }
}
