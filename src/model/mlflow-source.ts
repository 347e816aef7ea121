/**
 * The model as MLflow names it (MODEL_URI on MLFLOW_TRACKING_URI), resolved over the REST
 * API: registry alias or version → run → experiment → the run's `bundle/` artifacts.
 * The bundle is verified (checksums, contract, parity) exactly like the packaged one; the
 * lineage is what MLflow reports, not what the manifest says.
 */
import { GROUP_REPORT_FILE } from '../bundle/group-report.js';
import { MANIFEST_FILE, parseBundleJson, statedApart, verifyBundle, type RawBundle } from '../bundle/load.js';
import { manifestSchema } from '../bundle/manifest.js';
import { BundleError, zodIssues } from '../errors.js';
import { MlflowError, type CallOptions, type Experiment, type MlflowClient, type ModelVersion, type Run } from '../mlflow/client.js';
import { ChurnModel } from './churn-model.js';
import type { LoadOptions, ModelSource, Named } from './model-admin.js';
import { parseModelUri, type ModelUri } from './model-uri.js';
import { notice, type Notice } from './notice.js';

/** A registry version as the poller compares it: its number and the run it points at (a number can come back naming another run). */
const named = (version: ModelVersion): Named => ({ identity: version.version, runId: version.run_id || null });

/** `word` as one shell word: as it is when a shell reads nothing special in it, else in single quotes. */
const shellWord = (word: string): string => (/^[\w.:/%~+,=-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`);

// ignoreBOM keeps the bytes as they are, so the checksum is over what MLflow stores.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

export interface MlflowModelSourceOptions {
  /** How long a reloadModel may take, from its request's start; see ModelSource.reloadDeadlineMs. */
  readonly reloadDeadlineMs?: number;
}

export class MlflowModelSource implements ModelSource {
  readonly description: string;
  readonly publicDescription: string;
  readonly reloadDeadlineMs: number | undefined;
  private readonly uri: ModelUri;

  constructor(
    private readonly client: MlflowClient,
    readonly modelUri: string,
    options: MlflowModelSourceOptions = {},
  ) {
    this.uri = parseModelUri(modelUri);
    this.description = `${modelUri} on ${client.trackingUri}`;
    this.publicDescription = modelUri;
    this.reloadDeadlineMs = options.reloadDeadlineMs;
  }

  /**
   * The registry version the alias points at, or the fixed version as the registry still has it (a
   * cheap single call each: a version deleted from the registry is then said as an alias that names
   * none is); the run id for a run URI (its run is read by recheck).
   */
  async peek(): Promise<Named | null> {
    if (this.uri.kind === 'run') return { identity: this.uri.runId, runId: null };
    return named(this.uri.kind === 'alias' ? await this.client.getModelVersionByAlias(this.uri.name, this.uri.alias) : await this.client.getModelVersion(this.uri.name, this.uri.version));
  }

  identify(model: ChurnModel): string | null {
    if (model.lineage.source !== 'MLFLOW') return null;
    return this.uri.kind === 'run' ? model.lineage.runId : model.lineage.version;
  }

  describeIdentity(identity: string): string {
    return this.uri.kind === 'run' ? `run ${identity}` : `version ${identity}`;
  }

  /**
   * Resolves, downloads and verifies the model. `options.signal` stops the MLflow calls
   * (a reloadModel deadline); `options.onIdentity` learns which version (or run) is being
   * loaded as soon as it is resolved, so a rejection is recorded against what was loaded.
   */
  async load(options: LoadOptions = {}): Promise<ChurnModel> {
    const call = { signal: options.signal };
    const version = await this.resolveVersion(call);
    const runId = version ? version.run_id : (this.uri as Extract<ModelUri, { kind: 'run' }>).runId;
    options.onIdentity?.(version ? named(version) : { identity: runId, runId: null });
    if (!runId) throw new BundleError(`${this.describeVersion(version)} has no run_id in MLflow at ${this.client.trackingUri}, so its bundle cannot be found`);
    const forModel = <T>(step: Promise<T>): Promise<T> =>
      step.catch((err: unknown) => {
        if (!(err instanceof MlflowError)) throw err;
        throw new MlflowError(err.url, err.lookingFor, err.status, err.mlflowCode, `${err.message} [model ${this.describeVersion(version)}]`, { cause: err.cause });
      });
    const run = await forModel(this.client.getRun(runId, call));
    const experiment = await forModel(this.client.getExperiment(run.experimentId, call));
    const bundlePath = this.uri.kind === 'run' ? this.uri.bundlePath : 'bundle';
    const origin = `${this.client.trackingUri} run ${run.runId} (experiment ${experiment.name}, ${this.describeVersion(version)}) artifacts ${bundlePath}/`;
    const raw = await forModel(this.downloadBundle(run, bundlePath, origin, call));
    const bundle = verifyBundle(raw);
    // modelInfo shows this run's params and metrics as the model's: they are only the model's
    // if the run is the one that trained it, which the pipeline records in the manifest.
    if (bundle.manifest.run.runId !== run.runId) {
      throw new BundleError(
        `${MANIFEST_FILE} in ${origin} was written by training run ${bundle.manifest.run.runId}, not by the run that holds it: ` +
          `modelInfo would credit run ${run.runId}'s params and metrics to another run's model. ` +
            `Register the model version of run ${bundle.manifest.run.runId} if it is in this MLflow; if it is not (the bundle was trained against another server), ` +
            `train into this one (\`MLFLOW_TRACKING_URI=${this.client.trackingUri} npm run train\`), which logs the bundle into the run that trains it`,
      );
    }
    // Decisions use the manifest's threshold and modelInfo shows it, its rule and the explainer's
    // trees beside the run's metrics and params. A manifest edited in the artifact store (it
    // carries no checksum of itself) would move every decision while the run, and modelInfo's
    // metrics, still named the trained threshold.
    const apart = statedApart(bundle.manifest, { params: run.params, metrics: run.metrics, name: (kind, key) => `the run logged ${kind} ${key}` });
    if (apart.length > 0) {
      throw new BundleError(
        `${MANIFEST_FILE} in ${origin} disagrees with run ${run.runId}, whose params and metrics modelInfo shows beside it: ${apart.join('; ')}. ` +
          'The bundle is not the one the run trained and evaluated; log the bundle the run wrote',
      );
    }
    return ChurnModel.create(bundle, {
      source: 'MLFLOW',
      name: version?.name ?? bundle.manifest.registeredModel.name,
      version: version?.version ?? null,
      alias: this.uri.kind === 'alias' ? this.uri.alias : null,
      runId: run.runId,
      experimentId: run.experimentId,
      experimentName: experiment.name,
      params: run.params,
      // Finite values only: metrics MLflow reports as NaN or ±Infinity are left out (GraphQL Float cannot carry them).
      metrics: run.metrics,
      notice: this.trashNotice(run, experiment, this.describeServed(version?.version ?? null, version?.name ?? '')),
    });
  }

  /**
   * What is wrong now with the MLflow record of `model` (one this source loaded): its run or
   * experiment is in MLflow's trash, or MLflow no longer has the run at all; null when both are
   * kept. The poller asks at each check, so the notice comes and goes with a deletion or a
   * restore. Throws when MLflow does not answer (nothing is known then).
   */
  async recheck(model: ChurnModel, options: CallOptions = {}): Promise<Notice | null> {
    const { lineage } = model;
    if (lineage.source !== 'MLFLOW') return null;
    const what = this.describeServed(lineage.version, lineage.name);
    let run: Run;
    try {
      run = await this.client.getRun(lineage.runId, options);
    } catch (err) {
      if (!(err instanceof MlflowError && err.isClientError)) throw err;
      const gone =
        `no longer has run ${lineage.runId}, which trained the served model (${what}): ` +
        `it was removed for good (mlflow gc), with its artifacts, so no gateway can load this model again and modelInfo's run can no longer be looked up. ` +
        'This gateway keeps serving it';
      return notice(`MLflow ${gone}.`, `MLflow at ${this.client.trackingUri} ${gone}; ${this.serveKept()}.`);
    }
    return this.trashNotice(run, await this.client.getExperiment(run.experimentId, options), what);
  }

  /**
   * Set when the run that trained the model, or its experiment, is deleted in MLflow. MLflow
   * still resolves the version and serves the artifacts then, so the model is served as the
   * registry names it (refusing it would leave tasks that start now serving their packaged
   * bundle beside tasks serving this model); but the next `mlflow gc` removes the record an
   * auditor traces the model's numbers to, and its bundle with it.
   */
  private trashNotice(run: Run, experiment: Experiment, what: string): Notice | null {
    if (!experiment.deleted && !run.deleted) return null;
    const deleted = experiment.deleted
      ? `experiment ${experiment.name} (id ${experiment.experimentId}), which holds run ${run.runId} that trained the served model (${what}), is deleted`
      : `run ${run.runId}, which trained the served model (${what}), is deleted`;
    // The command as pasted into any shell: mlflow's CLI reads the server from MLFLOW_TRACKING_URI,
    // and without it restores nothing (it opens a new ./mlflow.db). The URI holds no credentials
    // (config refuses user:password@), and the credentials are named by their variables only.
    const command = experiment.deleted ? `experiments restore --experiment-id ${experiment.experimentId}` : `runs restore --run-id ${run.runId}`;
    const credentials = this.client.credentialVariables;
    const restore = `MLFLOW_TRACKING_URI=${shellWord(this.client.trackingUri)} mlflow ${command}${credentials === null ? '' : `, with ${credentials} set`}`;
    const until = `${deleted}: it can be restored until mlflow gc removes the run and its artifacts for good, after which no gateway can load this model and modelInfo's run can no longer be looked up.`;
    return notice(`In MLflow, ${until}`, `In MLflow at ${this.client.trackingUri}, ${until} Restore it (${restore}) or ${this.serveKept()}.`);
  }

  /** The served model in a notice about its record: its registry version, or MODEL_URI for a run URI (no version). */
  private describeServed(version: string | null, name: string): string {
    return version === null ? this.modelUri : `version ${version} of ${name}`;
  }

  /** What serves another model instead: moving the alias, or (a fixed version or run) MODEL_URI itself. */
  private serveKept(): string {
    return this.uri.kind === 'alias' ? `point ${this.modelUri} at a version whose run is kept` : 'set MODEL_URI to a version whose run is kept';
  }

  advice(when: 'names-nothing' | 'not-there'): string {
    if (when === 'not-there') return this.serveKept();
    return this.uri.kind === 'alias'
      ? `point ${this.modelUri} at a version (the MLflow UI, or the REST call in docs/mlflow.md, "Promoting a model")`
      : 'set MODEL_URI to a version the registry has';
  }

  private resolveVersion(call: CallOptions): Promise<ModelVersion | null> {
    if (this.uri.kind === 'alias') return this.client.getModelVersionByAlias(this.uri.name, this.uri.alias, call);
    if (this.uri.kind === 'version') return this.client.getModelVersion(this.uri.name, this.uri.version, call);
    return Promise.resolve(null);
  }

  private describeVersion(version: ModelVersion | null): string {
    if (!version) return this.modelUri;
    return `${this.modelUri} = version ${version.version} of ${version.name}`;
  }

  /**
   * manifest.json (and the listing of the bundle's folder) first, then the files the manifest
   * names (ONNX, parity, and the explainer when it names one) and the group report when the
   * folder holds one, as one RawBundle.
   */
  private async downloadBundle(run: Run, bundlePath: string, origin: string, call: CallOptions): Promise<RawBundle> {
    // The report is optional and the manifest does not name it: whether the run has one is the folder's listing, not a
    // failed download, which only a local artifact store answers as RESOURCE_DOES_NOT_EXIST (S3's answers a 500).
    const [manifestBytes, listed] = await Promise.all([
      this.client.downloadArtifact(run, `${bundlePath}/${MANIFEST_FILE}`, call),
      this.client.listArtifacts(run, bundlePath, call),
    ]);
    const manifestJson = decoder.decode(manifestBytes);
    const files = manifestSchema.pick({ onnx: true, parity: true, explainer: true }).safeParse(parseBundleJson(manifestJson, MANIFEST_FILE, origin));
    // Each problem with its path: a malformed explainer entry read as if the ONNX or parity file were unnamed.
    if (!files.success) throw new BundleError(`${MANIFEST_FILE} in ${origin} does not name its files as the bundle format says: ${zodIssues(files.error)}`);
    const { explainer } = files.data;
    const [onnx, parity, explainerBytes, groupReportBytes] = await Promise.all([
      this.client.downloadArtifact(run, `${bundlePath}/${files.data.onnx.file}`, call),
      this.client.downloadArtifact(run, `${bundlePath}/${files.data.parity.file}`, call),
      // Versions registered before explainers existed name none, and are served without explanations.
      explainer ? this.client.downloadArtifact(run, `${bundlePath}/${explainer.file}`, call) : null,
      // Versions trained before the report was added to the bundle have none, and are served with groupReport null.
      listed.includes(GROUP_REPORT_FILE) ? this.client.downloadArtifact(run, `${bundlePath}/${GROUP_REPORT_FILE}`, call) : null,
    ]);
    return {
      origin,
      manifestJson,
      onnx,
      parityJson: decoder.decode(parity),
      explainerJson: explainerBytes === null ? null : decoder.decode(explainerBytes),
      groupReportJson: groupReportBytes === null ? null : decoder.decode(groupReportBytes),
    };
  }
}
