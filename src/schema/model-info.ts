/**
 * ModelInfo and the modelInfo query: which run is serving, with what parameters, metrics,
 * threshold and features. This is what auditors read.
 */
import type { EncodedFeature, FeatureSpec } from '../bundle/manifest.js';
import { GatewayError, TRANSIENT_RETRY_AFTER_SECONDS } from '../errors.js';
import type { ChurnModel, ParityReport } from '../model/churn-model.js';
import { requireAdmin } from './admin-access.js';
import { builder } from './builder.js';
import { gatewayFailure } from './errors.js';
import { ExplainerInfo } from './explanation.js';
import { GroupReport, groupReportOf } from './group-report.js';

interface KeyValue<V> {
  readonly key: string;
  readonly value: V;
}
type FeatureShape = FeatureSpec['columns'][number];

const ModelSourceEnum = builder.enumType('ModelSource', {
  description: 'Where the serving model was loaded from.',
  values: {
    BUNDLE: { description: 'The model bundle packaged with the gateway (MODEL_DIR).' },
    MLFLOW: { description: 'An MLflow registry or run (MLFLOW_TRACKING_URI + MODEL_URI).' },
  },
});

const Param = builder.objectRef<KeyValue<string>>('Param').implement({
  description: 'A training parameter, as logged to MLflow.',
  fields: (t) => ({
    key: t.exposeString('key', { description: 'Parameter name.' }),
    value: t.exposeString('value', { description: 'Parameter value, as a string (as MLflow stores it).' }),
  }),
});

const Metric = builder.objectRef<KeyValue<number>>('Metric').implement({
  description: [
    'A metric of the training run, as logged to MLflow. By name:',
    '- test_…: the served model on the held-out test split;',
    "- validation_…: the early-stopped model (fit on the training part without the validation slice) on the validation slice, where the threshold was chosen; with the param refit_on_training_part \"True\" (the committed model) not the served model, which was then refit on the whole training part, validation slice included;",
    '- cv_…: cross-validation on the training part;',
    "- cv_roc_auc_mean, cv_roc_auc_std: the mean of the cross-validation folds' ROC AUCs and their population std (ddof=0);",
    '- test_pr_auc: PR AUC as the average precision (step-wise: precision at each threshold weighted by the recall it adds), not the trapezoidal area under the PR curve;',
    '- threshold: the decision threshold (ModelInfo.threshold);',
    "- parity_max_abs_diff: training's own check of the ONNX model against xgboost (largest |Δp|), not this gateway's (ModelInfo.parity.maxAbsDiff).",
  ].join('\n'),
  fields: (t) => ({
    key: t.exposeString('key', { description: 'Metric name, e.g. test_roc_auc.' }),
    value: t.exposeFloat('value', { description: 'Metric value, unrounded, as logged (from MLflow: the latest value logged under the key when this gateway loaded the model).' }),
  }),
});

const Feature = builder.objectRef<FeatureShape>('Feature').implement({
  description: 'An input column the model reads, in data set vocabulary.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Data set column name, e.g. Contract; the CustomerInput field is the same name in camelCase (contract, seniorCitizen, streamingTV).' }),
    kind: t.exposeString('kind', { description: 'categorical, integer or number (as in the bundle manifest).' }),
    allowedValues: t.stringList({
      nullable: true,
      description:
        'The values the column may take, as the data set writes them, not as CustomerInput takes them: "Month-to-month" is MONTH_TO_MONTH ' +
        'there (each category is an enum value); "Yes"/"No" is true/false for the two-valued columns (Partner, Dependents, PhoneService, ' +
        'PaperlessBilling) and YES/NO where the column has a third value (MultipleLines, the add-ons); SeniorCitizen\'s "0"/"1" is false/true. ' +
        'Null for a free number.',
      resolve: (c) => c.allowedValues ?? null,
    }),
    nullable: t.boolean({ description: 'Whether the column may be null (TotalCharges: not yet billed).', resolve: (c) => c.nullable ?? false }),
    observedMin: t.float({
      nullable: true,
      description:
        'Smallest value the model saw for this column in the training part of the data; null for categorical and 0/1 columns. For a nullable ' +
        "column it includes the value a null is encoded as (EncodedFeature.nullAs): TotalCharges' 0 stands for the customers not yet billed, not a billed total of 0.",
      resolve: (c) => c.observedMin ?? null,
    }),
    observedMax: t.float({ nullable: true, description: 'Largest value the model saw for this column in the training part of the data; null for categorical and 0/1 columns.', resolve: (c) => c.observedMax ?? null }),
  }),
});

const FeatureTransformEnum = builder.enumType('FeatureTransform', {
  description: 'How one model input is computed from the columns.',
  values: {
    IDENTITY: { value: 'identity', description: 'The column itself (nullAs replaces a null).' },
    ONEHOT: { value: 'onehot', description: '1 when the column equals value, else 0.' },
    RATIO: { value: 'ratio', description: 'numerator / denominator (zeroDenominatorAs when the denominator is 0, nullAs when the numerator is null).' },
  },
});

const EncodedFeatureRef = builder.objectRef<EncodedFeature>('EncodedFeature').implement({
  description: 'One position of the model\'s input vector: its name and how the gateway computes it.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Feature name, e.g. Contract=Month-to-month (the name monotone_constraints and feature importances use).' }),
    transform: t.field({ type: FeatureTransformEnum, description: 'How it is computed.', resolve: (f) => f.transform }),
    column: t.string({ nullable: true, description: 'The column read (IDENTITY, ONEHOT); null for RATIO.', resolve: (f) => (f.transform === 'ratio' ? null : f.column) }),
    value: t.string({ nullable: true, description: 'The category that gives 1 (ONEHOT only).', resolve: (f) => (f.transform === 'onehot' ? f.value : null) }),
    numerator: t.string({ nullable: true, description: 'Numerator column (RATIO only).', resolve: (f) => (f.transform === 'ratio' ? f.numerator : null) }),
    denominator: t.string({ nullable: true, description: 'Denominator column (RATIO only).', resolve: (f) => (f.transform === 'ratio' ? f.denominator : null) }),
    nullAs: t.float({ nullable: true, description: 'Value used when the column (or numerator) is null.', resolve: (f) => (f.transform === 'onehot' ? null : (f.nullAs ?? null)) }),
    zeroDenominatorAs: t.float({ nullable: true, description: 'Value used when the denominator is 0 (RATIO only).', resolve: (f) => (f.transform === 'ratio' ? f.zeroDenominatorAs : null) }),
  }),
});

const LibraryVersion = builder.objectRef<KeyValue<string>>('LibraryVersion').implement({
  description: 'A library (or Python) version of the training run, as recorded in the bundle.',
  fields: (t) => ({
    name: t.string({ description: 'Library name, e.g. xgboost.', resolve: (v) => v.key }),
    version: t.string({ description: 'Its version.', resolve: (v) => v.value }),
  }),
});

const OnnxModel = builder.objectRef<ChurnModel>('OnnxModel').implement({
  description: 'The ONNX graph that computes the probabilities.',
  fields: (t) => ({
    sha256: t.string({ description: 'The same value as ModelInfo.onnxSha256.', resolve: (m) => m.manifest.onnx.sha256 }),
    opset: t.int({ nullable: true, description:
        "ai.onnx opset training exported the graph at, as the manifest states it (onnx.opset): the gateway does not read it from the graph " +
        '(onnxruntime-node does not expose it), so it is lineage, not a checked fact; null when the manifest states none.', resolve: (m) => m.manifest.onnx.opset ?? null }),
    inputName: t.string({ description: 'Name of the float32 [rows, features] input.', resolve: (m) => m.manifest.onnx.inputName }),
    outputName: t.string({ description: 'Name of the probabilities output.', resolve: (m) => m.manifest.onnx.outputName }),
    positiveClassIndex: t.int({ description: 'Column of the output that is P(churn).', resolve: (m) => m.manifest.onnx.positiveClassIndex }),
  }),
});

/** The parity replay that accepted `m`: every model that serves has one (ChurnModel.create runs it before returning the model). */
function replayOf(m: ChurnModel): ParityReport {
  if (!m.parity) throw new Error(`model ${m.modelVersion} serves without a parity replay`);
  return m.parity;
}

const ParityCheck = builder.objectRef<ChurnModel>('ParityCheck').implement({
  description: 'The parity vectors this gateway replayed before serving the model (xgboost probabilities, recomputed through ONNX Runtime).',
  fields: (t) => ({
    // What was replayed (the parity file's cases), not the count the manifest declares.
    cases: t.int({ description: 'Generated customers replayed.', resolve: (m) => replayOf(m).cases }),
    tolerance: t.float({ description: 'Largest |Δp| allowed: the manifest\'s parity.tolerance, which the parity file must repeat.', resolve: (m) => replayOf(m).tolerance }),
    maxAbsDiff: t.float({ description: 'Largest |Δp| this gateway measured at load.', resolve: (m) => replayOf(m).maxAbsDiff }),
    fileSha256: t.string({ description: 'sha256 of the parity file bytes this gateway loaded: computed at load, and the model is refused unless it equals the manifest\'s parity.sha256.', resolve: (m) => m.manifest.parity.sha256 }),
  }),
});

const RiskBands = builder.objectRef<{ mediumFrom: number; highFrom: number }>('RiskBands').implement({
  description: "Probability bands behind Prediction.riskLevel, from the bundle manifest's riskBands.",
  fields: (t) => ({
    mediumFrom: t.exposeFloat('mediumFrom', { description: 'Lowest probability that is MEDIUM risk.' }),
    highFrom: t.exposeFloat('highFrom', { description: 'Lowest probability that is HIGH risk; equals the threshold.' }),
  }),
});

const entries = <V>(record: Readonly<Record<string, V>>): KeyValue<V>[] =>
  Object.keys(record)
    .sort()
    .map((key) => ({ key, value: record[key] as V }));

export const ModelInfo = builder.objectRef<ChurnModel>('ModelInfo').implement({
  description:
    'Lineage of the model that is serving: registry entry, MLflow run, checksums, threshold, parameters, metrics and features. ' +
    "Each value comes from the model bundle's manifest.json (docs/model-bundle.md), which training writes from the same values it logs " +
    "to the MLflow run; when source is MLFLOW, the registry entry, run, experiment, params and metrics are MLflow's own answers instead. " +
    'The checksums and the parity replay are what this gateway computed when it loaded the model.',
  fields: (t) => ({
    name: t.string({
      description:
        "Registered model name: the registry's when source is MLFLOW and MODEL_URI names a registered model (models:/<name>@<alias> or " +
        "models:/<name>/<version>); otherwise the manifest's registeredModel.name, the name training registers under.",
      resolve: (m) => m.lineage.name,
    }),
    version: t.string({
      nullable: true,
      description:
        'Registered model version: the one MLflow resolved MODEL_URI to (source MLFLOW), or the manifest\'s registeredModel.version, ' +
        'written when training registered the run (source BUNDLE). Null when the model was never registered (a --no-register run) or ' +
        'was loaded by run (MODEL_URI runs:/<id>/bundle).',
      resolve: (m) => m.lineage.version,
    }),
    alias: t.string({
      nullable: true,
      description:
        'Registry alias: the one MODEL_URI names (models:/<name>@<alias>; null for a version or run URI) when source is MLFLOW; when ' +
        'source is BUNDLE, the alias training moved to this version when it wrote the bundle, which the registry may have moved since ' +
        '(notice says so once a gateway following MLflow finds out).',
      resolve: (m) => m.lineage.alias,
    }),
    modelVersion: t.string({
      description:
        "version, or run-<runId> when version is null: the string Prediction.modelVersion, REST's model_version and the access log's " +
        'modelVersion carry for every answer of this model.',
      resolve: (m) => m.modelVersion,
    }),
    runId: t.string({
      description:
        "MLflow run that trained the model: the manifest's run.runId; when source is MLFLOW, the run the registry version names (or " +
        'MODEL_URI\'s run), which the gateway checks is the run that wrote the manifest.',
      resolve: (m) => m.lineage.runId,
    }),
    experimentId: t.string({ description: "MLflow experiment id of the run (the manifest's, or MLflow's when source is MLFLOW).", resolve: (m) => m.lineage.experimentId }),
    experimentName: t.string({
      description:
        "MLflow experiment name of the run: as it was at training (the manifest's), or when source is MLFLOW as MLflow named it when this " +
        'gateway loaded the model (read once: a rename since shows only once a model is loaded again, another version or after a restart).',
      resolve: (m) => m.lineage.experimentName,
    }),
    source: t.field({ type: ModelSourceEnum, description: 'Where the model was loaded from.', resolve: (m) => m.lineage.source }),
    notice: t.string({
      nullable: true,
      description: [
        'What anyone should know about the serving model; null when nothing is to be said. Set when:',
        '- MLflow\'s model could not be loaded at start-up, so the bundle is served;',
        '- the alias names a version that could not be loaded, or none, and this model keeps serving;',
        '- the MLflow run that trained this model, or its experiment, is deleted (restorable until mlflow gc), or MLflow no longer has ' +
          'the run: the model still serves, but its record is going or gone.',
        'It names models, versions, runs and error codes (such as MLFLOW_UNAVAILABLE), never the tracking server or its answers: ' +
          'noticeDetail has those.',
      ].join('\n'),
      resolve: (m, _args, ctx) => ctx.admin.noticeFor(m)?.summary ?? null,
    }),
    noticeDetail: t.string({
      nullable: true,
      description:
        'Admin only (Authorization: Bearer ADMIN_TOKEN): notice as the operator needs it, with the tracking server, what MLflow ' +
        'answered and what to do next (e.g. the command that restores a deleted run); null when notice is. Without the admin token ' +
        'the field is null with a FORBIDDEN error saying why, and the rest of the answer is given (HTTP 200). The log and GET / on ' +
        'OPS_PORT say it too.',
      resolve: (m, _args, ctx) => {
        requireAdmin(ctx.request, 'modelInfo.noticeDetail', null);
        return ctx.admin.noticeFor(m)?.detail ?? null;
      },
    }),
    trainedAt: t.string({
      description:
        'When the training pipeline run that produced the model began, before it read the data (so slightly before the MLflow run\'s ' +
        "start_time): the manifest's createdAt, an ISO 8601 UTC time such as 2026-11-29T00:26:31Z (a bundle with anything else is refused).",
      resolve: (m) => m.manifest.createdAt,
    }),
    loadedAt: t.string({ description: 'When this gateway process loaded the model (ISO 8601, UTC).', resolve: (m) => m.loadedAt.toISOString() }),
    onnxSha256: t.string({
      description:
        "sha256 of the ONNX bytes this gateway loaded and runs: computed over them at load, and the model is refused unless it equals " +
        "the manifest's onnx.sha256; the same bytes as the MLflow run's bundle/model.onnx artifact.",
      resolve: (m) => m.manifest.onnx.sha256,
    }),
    datasetSha256: t.string({
      nullable: true,
      description: "sha256 of the bytes of the CSV file training read (the MLflow run's tag dataset_sha256); null when the manifest records none.",
      resolve: (m) => m.manifest.datasetSha256,
    }),
    gitCommit: t.string({
      nullable: true,
      description:
        'Git commit (HEAD) of the training code when training started; "<sha>-dirty" when the training code, its config, its ' +
        "requirements (pins and lock) or its scripts had uncommitted changes then, or when HEAD or those files changed during the run; null when training ran outside a git checkout. The MLflow run's tag git_commit (\"none\" there for null).",
      resolve: (m) => m.manifest.gitCommit,
    }),
    threshold: t.float({
      description: "Decision threshold: willChurn = churnProbability ≥ threshold. The manifest's threshold; the run logs the same value as its metric threshold.",
      resolve: (m) => m.threshold,
    }),
    thresholdRule: t.string({
      description:
        "The rule that chose the threshold (the manifest's; the run's param threshold_rule), applied to the early-stopped model's probabilities " +
        'on the validation slice. With the param refit_on_training_part "True" (the committed model) the served model was then refit on the whole ' +
        'training part, validation slice included, so the rule applied to the served model need not give this threshold back.',
      resolve: (m) => m.manifest.thresholdRule,
    }),
    riskBands: t.field({ type: RiskBands, description: 'Bands behind riskLevel.', resolve: (m) => m.manifest.riskBands }),
    params: t.field({
      type: [Param],
      description:
        "Training parameters, sorted by key, values as the strings logged: the manifest's (training logs the same ones to the run), or " +
        "the MLflow run's when source is MLFLOW (runs/get, read when this gateway loaded the model).",
      resolve: (m) => entries(m.lineage.params),
    }),
    metrics: t.field({
      type: [Metric],
      description:
        "Metrics of the training run, sorted by key, values as logged: the bundle manifest's (training logs the same ones to the run), " +
        'or the MLflow run\'s when source is MLFLOW (runs/get when this gateway loaded the model: the latest value of each then; a value ' +
        'logged since shows only once a model is loaded again), where a metric MLflow held as NaN or ±Infinity ' +
        'is left out (a GraphQL Float cannot carry it).',
      resolve: (m) => entries(m.lineage.metrics),
    }),
    features: t.field({
      type: [Feature],
      description:
        "Input columns of the model, in data set order (the customer fields; encodedFeatures are what the model computes from them): the manifest's featureSpec.columns.",
      resolve: (m) => m.manifest.featureSpec.columns,
    }),
    encodedFeatures: t.field({
      type: [EncodedFeatureRef],
      description:
        "The model input vector, in ONNX input order: positions of monotone_constraints and of feature importances refer to this list. The manifest's featureSpec.features.",
      resolve: (m) => m.manifest.featureSpec.features,
    }),
    libraryVersions: t.field({
      type: [LibraryVersion],
      description: "Library (and Python) versions of the training run, sorted by name: the manifest's; the run's tags version.<name>.",
      resolve: (m) => entries(m.manifest.libraryVersions),
    }),
    onnx: t.field({ type: OnnxModel, description: "The ONNX graph, as the manifest's onnx describes it (its input and output checked against the loaded graph).", resolve: (m) => m }),
    parity: t.field({ type: ParityCheck, description: 'The parity replay that accepted the model.', resolve: (m) => m }),
    explainer: t.field({
      type: ExplainerInfo,
      nullable: true,
      description:
        "The explainer behind Prediction.explanation, checked at load against xgboost's own values; null when the model's bundle carries " +
        'none (versions trained before explainers were added), and then every Prediction.explanation is null.',
      resolve: (m) => (m.explainer ? { ...m.explainer.report, drivers: m.explainer.driverCount } : null),
    }),
    groupReport: t.field({
      type: GroupReport,
      nullable: true,
      description:
        'How the model treats groups of customers (gender, SeniorCitizen, Partner, Dependents) on its test split; null when its bundle ' +
        'carries no group_report.json (versions trained before the report became a file of the bundle).',
      resolve: (m) => groupReportOf(m),
    }),
    bundleFormatVersion: t.int({ description: 'Version of the bundle format (docs/model-bundle.md).', resolve: (m) => m.manifest.formatVersion }),
  }),
});

builder.queryField('modelInfo', (t) =>
  t.field({
    type: ModelInfo,
    description: `The model that is serving right now, with its full lineage. MODEL_NOT_READY (HTTP 503) before the first model is warmed up, with Retry-After: ${TRANSIENT_RETRY_AFTER_SECONDS}.`,
    resolve: (_root, _args, ctx) => {
      try {
        return ctx.predictor.model;
      } catch (err) {
        // Before the first model is warmed up: 503 MODEL_NOT_READY, as predict answers.
        if (err instanceof GatewayError) throw gatewayFailure(err, ctx.request.id);
        throw err;
      }
    },
  }),
);
