/**
 * ModelInfo and the modelInfo query: which run is serving, with what parameters, metrics,
 * threshold and features. This is what auditors read.
 */
import { GatewayError } from '../errors.js';
import type { ChurnModel } from '../model/churn-model.js';
import { builder } from './builder.js';
import { gatewayFailure } from './errors.js';

interface KeyValue<V> {
  readonly key: string;
  readonly value: V;
}
interface FeatureShape {
  readonly name: string;
  readonly kind: string;
  readonly allowedValues: readonly string[] | null;
}

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
  description: 'An evaluation metric of the training run (test split unless the name says otherwise).',
  fields: (t) => ({
    key: t.exposeString('key', { description: 'Metric name, e.g. test_roc_auc.' }),
    value: t.exposeFloat('value', { description: 'Metric value.' }),
  }),
});

const Feature = builder.objectRef<FeatureShape>('Feature').implement({
  description: 'An input column the model reads, in data set vocabulary.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Data set column name, e.g. Contract.' }),
    kind: t.exposeString('kind', { description: 'categorical, integer or number.' }),
    allowedValues: t.exposeStringList('allowedValues', { nullable: true, description: 'Allowed values of a categorical column; null for numbers.' }),
  }),
});

const RiskBands = builder.objectRef<{ mediumFrom: number; highFrom: number }>('RiskBands').implement({
  description: 'Probability bands behind Prediction.riskLevel.',
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
  description: 'Lineage of the model that is serving: registry entry, MLflow run, checksums, threshold, parameters, metrics and features.',
  fields: (t) => ({
    name: t.string({ description: 'Registered model name.', resolve: (m) => m.lineage.name }),
    version: t.string({ nullable: true, description: 'Registered model version; null when the model was never registered.', resolve: (m) => m.lineage.version }),
    alias: t.string({ nullable: true, description: 'Registry alias the model was loaded by or carried at packaging (e.g. champion).', resolve: (m) => m.lineage.alias }),
    modelVersion: t.string({ description: 'The version string every Prediction of this model carries.', resolve: (m) => m.modelVersion }),
    runId: t.string({ description: 'MLflow run that trained the model.', resolve: (m) => m.lineage.runId }),
    experimentId: t.string({ description: 'MLflow experiment id of the run.', resolve: (m) => m.lineage.experimentId }),
    experimentName: t.string({ description: 'MLflow experiment name of the run.', resolve: (m) => m.lineage.experimentName }),
    source: t.field({ type: ModelSourceEnum, description: 'Where the model was loaded from.', resolve: (m) => m.lineage.source }),
    notice: t.string({
      nullable: true,
      description: 'Set when the gateway serves something other than what it was configured for (e.g. MLflow unreachable at start-up, so the bundle is served).',
      resolve: (m) => m.lineage.notice,
    }),
    trainedAt: t.string({ description: 'When the model was trained (ISO 8601, UTC).', resolve: (m) => m.manifest.createdAt }),
    loadedAt: t.string({ description: 'When this gateway process loaded the model (ISO 8601, UTC).', resolve: (m) => m.loadedAt.toISOString() }),
    onnxSha256: t.string({ description: 'sha256 of the ONNX model bytes, verified at load.', resolve: (m) => m.manifest.onnx.sha256 }),
    datasetSha256: t.string({ nullable: true, description: 'sha256 of the training CSV.', resolve: (m) => m.manifest.datasetSha256 }),
    gitCommit: t.string({ nullable: true, description: 'Git commit of the training code.', resolve: (m) => m.manifest.gitCommit }),
    threshold: t.float({ description: 'Decision threshold: willChurn = churnProbability ≥ threshold.', resolve: (m) => m.threshold }),
    thresholdRule: t.string({ description: 'The rule that chose the threshold on validation data.', resolve: (m) => m.manifest.thresholdRule }),
    riskBands: t.field({ type: RiskBands, description: 'Bands behind riskLevel.', resolve: (m) => m.manifest.riskBands }),
    params: t.field({ type: [Param], description: 'Training parameters, sorted by key.', resolve: (m) => entries(m.lineage.params) }),
    metrics: t.field({ type: [Metric], description: 'Evaluation metrics, sorted by key.', resolve: (m) => entries(m.lineage.metrics) }),
    features: t.field({
      type: [Feature],
      description: 'Input columns of the model, in data set order.',
      resolve: (m) => m.manifest.featureSpec.columns.map((c) => ({ name: c.name, kind: c.kind, allowedValues: c.allowedValues ?? null })),
    }),
  }),
});

builder.queryField('modelInfo', (t) =>
  t.field({
    type: ModelInfo,
    description: 'The model that is serving right now, with its full lineage.',
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
