/**
 * ModelInfo.groupReport: how the serving model treats groups of customers, from the bundle's
 * group_report.json (src/bundle/group-report.ts; made by model/churn_model/group_report.py).
 * Measured once, offline, on the model's own test split: the gateway serves the numbers, it
 * computes none of them.
 */
import type { Estimate, GroupDifference, GroupMeasures, GroupReportFile, GroupSwap, LoadedGroupReport } from '../bundle/group-report.js';
import type { ChurnModel } from '../model/churn-model.js';
import { builder } from './builder.js';

interface DifferenceShape {
  readonly column: string;
  readonly first: string;
  readonly second: string;
  readonly difference: GroupDifference;
}
interface GroupShape {
  readonly column: string;
  readonly value: string;
  readonly measures: GroupMeasures;
  /** Null for a group without test customers. */
  readonly counterfactual: GroupSwap | null;
}

const IntervalEstimateRef = builder.objectRef<Estimate>('IntervalEstimate').implement({
  description:
    "A measure with its 95 % confidence interval: Wilson's for a rate, DeLong's for an ROC AUC, Newcombe's for the difference of two " +
    'rates. All three null where there is nothing to measure: recall of a group without churners, precision of a group in which nobody ' +
    'is flagged, an ROC AUC with fewer than two customers of either outcome, any measure of a group without test customers, and a ' +
    'difference where either rate is null.',
  fields: (t) => ({
    value: t.float({ nullable: true, description: 'The measure.', resolve: (e) => e.value }),
    low: t.float({ nullable: true, description: 'Lower end of its 95 % interval.', resolve: (e) => e.ci95?.[0] ?? null }),
    high: t.float({ nullable: true, description: 'Upper end of its 95 % interval.', resolve: (e) => e.ci95?.[1] ?? null }),
  }),
});

const GroupMeasuresRef = builder.objectRef<GroupMeasures>('GroupMeasures').implement({
  description: 'What the model does for a set of test customers (one group, or all of them), at its threshold (ModelInfo.threshold).',
  fields: (t) => ({
    customers: t.exposeInt('customers', {
      description:
        'Test customers in the set; 0 for a group the test split has nobody in, when churners is 0 and every IntervalEstimate field, ' +
        'meanProbability and meanProbabilityMinusChurnRate are null.',
    }),
    churners: t.exposeInt('churners', { description: 'Of them, those who churned.' }),
    churnRate: t.field({ type: IntervalEstimateRef, description: 'churners / customers.', resolve: (m) => m.churn_rate }),
    meanProbability: t.float({ nullable: true, description: 'Mean churn probability the model gives them.', resolve: (m) => m.mean_probability }),
    meanProbabilityMinusChurnRate: t.float({
      nullable: true,
      description: "Calibration in the large: meanProbability − churnRate. Above 0, the model puts their risk higher than it turned out; below 0, lower.",
      resolve: (m) => m.mean_probability_minus_churn_rate,
    }),
    flagged: t.field({ type: IntervalEstimateRef, description: 'Share of them with willChurn true (probability ≥ threshold).', resolve: (m) => m.flagged }),
    recall: t.field({ type: IntervalEstimateRef, description: 'Share of their churners flagged.', resolve: (m) => m.recall }),
    falsePositiveRate: t.field({ type: IntervalEstimateRef, description: 'Share of those who stayed that were flagged.', resolve: (m) => m.false_positive_rate }),
    precision: t.field({ type: IntervalEstimateRef, description: 'Share of the flagged who churned.', resolve: (m) => m.precision }),
    rocAuc: t.field({ type: IntervalEstimateRef, description: 'ROC AUC among them: how well the model ranks their churners above the others.', resolve: (m) => m.roc_auc }),
  }),
});

const COLUMN_DESCRIPTION =
  'Data set column name (ModelInfo.features.name): gender, SeniorCitizen, Partner or Dependents (CustomerInput.gender, seniorCitizen, partner, dependents).';

const GroupDifferenceRef = builder.objectRef<DifferenceShape>('GroupDifference').implement({
  description: "One demographic column: its second group's measures minus its first's. An interval that holds 0 is no measurable difference.",
  fields: (t) => ({
    column: t.exposeString('column', { description: COLUMN_DESCRIPTION }),
    first: t.exposeString('first', { description: 'The value of the group subtracted, the first in code point order ("0", "Female", "No").' }),
    second: t.exposeString('second', { description: 'The value of the group it is subtracted from ("1", "Male", "Yes").' }),
    flagged: t.field({ type: IntervalEstimateRef, description: 'Difference of GroupMeasures.flagged.', resolve: (d) => d.difference.flagged }),
    recall: t.field({ type: IntervalEstimateRef, description: 'Difference of GroupMeasures.recall.', resolve: (d) => d.difference.recall }),
    falsePositiveRate: t.field({ type: IntervalEstimateRef, description: 'Difference of GroupMeasures.falsePositiveRate.', resolve: (d) => d.difference.false_positive_rate }),
    precision: t.field({ type: IntervalEstimateRef, description: 'Difference of GroupMeasures.precision.', resolve: (d) => d.difference.precision }),
    meanProbabilityMinusChurnRate: t.float({
      nullable: true,
      description: 'Difference of GroupMeasures.meanProbabilityMinusChurnRate (no interval).',
      resolve: (d) => d.difference.mean_probability_minus_churn_rate,
    }),
  }),
});

const GroupCounterfactualRef = builder.objectRef<GroupSwap>('GroupCounterfactual').implement({
  description:
    "Counterfactual: the group's customers scored again with only this column changed to its other value, everything else as it was. " +
    'Decisions that change show the model reads the column itself, not only through the columns that go with it.',
  fields: (t) => ({
    customers: t.exposeInt('customers', { description: 'Customers scored again (the whole group).' }),
    newlyFlagged: t.int({ description: 'Not flagged as they are, flagged with the other value.', resolve: (s) => s.newly_flagged }),
    noLongerFlagged: t.int({ description: 'Flagged as they are, not flagged with the other value.', resolve: (s) => s.no_longer_flagged }),
    meanChange: t.float({ description: 'Mean change of the churn probability (with the other value − as they are).', resolve: (s) => s.mean_change }),
    maxAbsChange: t.float({ description: 'Largest |change| of the churn probability.', resolve: (s) => s.max_abs_change }),
  }),
});

const CustomerGroupRef = builder.objectRef<GroupShape>('CustomerGroup').implement({
  description: 'The test customers with one value of a demographic column.',
  fields: (t) => ({
    column: t.exposeString('column', { description: COLUMN_DESCRIPTION }),
    value: t.exposeString('value', {
      description:
        'The value, as the data set writes it (ModelInfo.features.allowedValues), not as CustomerInput takes it: "Female" is FEMALE there, ' +
        'SeniorCitizen\'s "0"/"1" is false/true, and "No"/"Yes" is false/true.',
    }),
    measures: t.field({ type: GroupMeasuresRef, description: 'What the model does for the group.', resolve: (g) => g.measures }),
    counterfactual: t.field({
      type: GroupCounterfactualRef,
      nullable: true,
      description: "The group scored again with the column's other value; null for a group the test split has nobody in (measures.customers 0).",
      resolve: (g) => g.counterfactual,
    }),
  }),
});

/** The report's columns in the model's column order (ModelInfo.features), each column's values in code point order. */
function columnsOf(report: GroupReportFile, columnOrder: readonly string[]): [string, GroupReportFile['columns'][string], string[]][] {
  const rank = (name: string) => columnOrder.indexOf(name);
  return Object.entries(report.columns)
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([column, entry]) => [column, entry, Object.keys(entry.groups).sort()]);
}

function groupsOf(report: GroupReportFile, columnOrder: readonly string[]): GroupShape[] {
  return columnsOf(report, columnOrder).flatMap(([column, { groups }, values]) =>
    values.map((value) => ({ column, value, measures: groups[value] as GroupMeasures, counterfactual: report.counterfactual[column]?.[value] ?? null })),
  );
}

function differencesOf(report: GroupReportFile, columnOrder: readonly string[]): DifferenceShape[] {
  // The file's schema holds every column to two groups.
  return columnsOf(report, columnOrder).map(([column, entry, [first, second]]) => ({ column, first: first as string, second: second as string, difference: entry.second_minus_first }));
}

interface ReportOfModel {
  readonly report: LoadedGroupReport;
  readonly columnOrder: readonly string[];
}

export const GroupReport = builder.objectRef<ReportOfModel>('GroupReport').implement({
  description:
    "How the serving model treats groups of customers: its ONNX model (ModelInfo.onnxSha256) at its threshold on its training run's test " +
    'split, for each value of gender, SeniorCitizen, Partner and Dependents. Measured once, offline, by model/churn_model/group_report.py ' +
    "when the model was trained: the bundle's group_report.json (the run's bundle/group_report.json artifact). The gateway checks at load " +
    "that the report describes this model (its ONNX sha256, threshold and data set) and these columns; the figures are training's, not " +
    'recomputed (fileSha256 is the file it read). They are of the test customers, not of live traffic.',
  fields: (t) => ({
    runId: t.string({
      description:
        'The MLflow run that wrote the report (its bundle.runId). Not compared with ModelInfo.runId: a run that reproduces a model byte for ' +
        'byte reports the same figures.',
      resolve: (r) => r.report.report.bundle.runId,
    }),
    fileSha256: t.string({ description: 'sha256 of the group_report.json bytes this gateway loaded, computed at load.', resolve: (r) => r.report.fileSha256 }),
    overall: t.field({ type: GroupMeasuresRef, description: 'All test customers: the figures each group is compared with.', resolve: (r) => r.report.report.overall }),
    groups: t.field({
      type: [CustomerGroupRef],
      description: 'Each value of each demographic column: columns in data set order (ModelInfo.features), values in code point order ("0" before "1", "Female" before "Male").',
      resolve: (r) => groupsOf(r.report.report, r.columnOrder),
    }),
    differences: t.field({
      type: [GroupDifferenceRef],
      description: "Per demographic column, in data set order: the second group's measures minus the first's.",
      resolve: (r) => differencesOf(r.report.report, r.columnOrder),
    }),
  }),
});

/** ModelInfo.groupReport's value: the model's report with its column order, or null when its bundle has none. */
export function groupReportOf(m: ChurnModel): ReportOfModel | null {
  return m.groupReport ? { report: m.groupReport, columnOrder: m.manifest.featureSpec.columns.map((c) => c.name) } : null;
}
