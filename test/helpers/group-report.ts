/**
 * What modelInfo.groupReport must answer for a group_report.json (schema/operations/group-report.graphql's
 * selection), written from the file format in docs/model-bundle.md: each measure's value and its ci95 as value,
 * low and high; groups by column in the model's column order and by value in code point order, each with its
 * counterfactual (null for a group without test customers); one difference per column.
 */
import type { GroupReportQuery } from '../../src/generated/graphql.js';

type Served = NonNullable<GroupReportQuery['modelInfo']['groupReport']>;
interface FileEstimate {
  value: number | null;
  ci95: [number, number] | null;
}
type FileMeasures = Record<string, unknown> & { customers: number; churners: number };
export interface GroupReportJson {
  bundle: { onnxSha256: string; runId: string };
  datasetSha256: string;
  threshold: number;
  overall: FileMeasures;
  columns: Record<string, { groups: Record<string, FileMeasures>; second_minus_first: Record<string, unknown> }>;
  counterfactual: Record<string, Record<string, Record<string, number>>>;
}

const estimate = (e: unknown) => {
  const { value, ci95 } = e as FileEstimate;
  return { value, low: ci95?.[0] ?? null, high: ci95?.[1] ?? null };
};

function measures(m: FileMeasures) {
  return {
    customers: m.customers,
    churners: m.churners,
    churnRate: estimate(m['churn_rate']),
    meanProbability: m['mean_probability'],
    meanProbabilityMinusChurnRate: m['mean_probability_minus_churn_rate'],
    flagged: estimate(m['flagged']),
    recall: estimate(m['recall']),
    falsePositiveRate: estimate(m['false_positive_rate']),
    precision: estimate(m['precision']),
    rocAuc: estimate(m['roc_auc']),
  };
}

/**
 * The served report for `file` (whose bytes have sha256 `fileSha256`), its columns in `columnOrder` (the manifest's
 * featureSpec.columns names).
 */
export function expectedGroupReport(file: GroupReportJson, columnOrder: readonly string[], fileSha256: string): Served {
  const columns = Object.keys(file.columns).sort((a, b) => columnOrder.indexOf(a) - columnOrder.indexOf(b));
  return {
    runId: file.bundle.runId,
    fileSha256,
    overall: measures(file.overall),
    groups: columns.flatMap((column) => {
      const { groups } = file.columns[column] as GroupReportJson['columns'][string];
      return Object.keys(groups)
        .sort()
        .map((value) => {
          const swap = file.counterfactual[column]?.[value];
          return {
            column,
            value,
            measures: measures(groups[value] as FileMeasures),
            counterfactual: swap
              ? { customers: swap['customers'], newlyFlagged: swap['newly_flagged'], noLongerFlagged: swap['no_longer_flagged'], meanChange: swap['mean_change'], maxAbsChange: swap['max_abs_change'] }
              : null,
          };
        });
    }),
    differences: columns.map((column) => {
      const { groups, second_minus_first: diff } = file.columns[column] as GroupReportJson['columns'][string];
      const [first, second] = Object.keys(groups).sort();
      return {
        column,
        first,
        second,
        flagged: estimate(diff['flagged']),
        recall: estimate(diff['recall']),
        falsePositiveRate: estimate(diff['false_positive_rate']),
        precision: estimate(diff['precision']),
        meanProbabilityMinusChurnRate: diff['mean_probability_minus_churn_rate'],
      };
    }),
  } as Served;
}
