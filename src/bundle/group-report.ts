/**
 * The bundle's group report (`group_report.json`, written by model/churn_model/group_report.py):
 * the bundle's model.onnx on its own test split, by demographic group. Optional (model versions
 * trained before it existed have none). The manifest does not name it; the report names the
 * model it describes (the ONNX file's sha256, the threshold, the data's sha256), and a report
 * that names another model is refused with the bundle, since modelInfo would otherwise show
 * auditors another model's numbers as the serving model's.
 */
import { z } from 'zod';
import { BundleError } from '../errors.js';
import type { Manifest } from './manifest.js';

/** The file's name in a bundle folder and under a run's `bundle/` artifacts (bundle.GROUP_REPORT_FILE in model/). */
export const GROUP_REPORT_FILE = 'group_report.json';

/** The columns a report covers, in data set order (DEMOGRAPHIC_COLUMNS in model/churn_model/group_report.py). */
export const DEMOGRAPHIC_COLUMNS: readonly string[] = ['gender', 'SeniorCitizen', 'Partner', 'Dependents'];

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');
const probability = z.number().min(0).max(1);
/** A calibration gap (mean probability − churn rate), or a mean change of probability: -1 to 1. */
const difference = z.number().min(-1).max(1);

/**
 * How far an interval's end may sit inside its value: float rounding, as in a Wilson interval of a
 * rate of exactly 1 whose upper end is computed as 0.9999999999999999 (groups of a few customers).
 */
const ROUNDING = 1e-9;

/** A rate, or an ROC AUC (from 0 to 1), or a difference of two rates (-1 to 1), with its 95 % interval; both null where the group has nobody to count (no churners for recall). */
const estimateSchema = (min: number, max: number) =>
  z
    .object({ value: z.number().min(min).max(max).nullable(), ci95: z.tuple([z.number().min(min).max(max), z.number().min(min).max(max)]).nullable() })
    .refine((e) => (e.value === null) === (e.ci95 === null), 'value and ci95 must be both set or both null')
    .refine((e) => e.ci95 === null || e.value === null || (e.ci95[0] - ROUNDING <= e.value && e.value <= e.ci95[1] + ROUNDING), 'ci95 must hold value');

const rate = estimateSchema(0, 1);
const rateDifference = estimateSchema(-1, 1);

/** A group without test customers (possible on a small data set) has customers 0 and every rate, mean and AUC null. */
const measuresSchema = z.object({
  customers: z.number().int().min(0),
  churners: z.number().int().min(0),
  churn_rate: rate,
  mean_probability: probability.nullable(),
  mean_probability_minus_churn_rate: difference.nullable(),
  flagged: rate,
  recall: rate,
  false_positive_rate: rate,
  precision: rate,
  roc_auc: rate,
});

const differenceSchema = z.object({
  flagged: rateDifference,
  recall: rateDifference,
  false_positive_rate: rateDifference,
  precision: rateDifference,
  mean_probability_minus_churn_rate: z.number().min(-2).max(2).nullable(),
});

const swapSchema = z.object({
  customers: z.number().int().min(1),
  newly_flagged: z.number().int().min(0),
  no_longer_flagged: z.number().int().min(0),
  mean_change: difference,
  max_abs_change: probability,
});

export const groupReportFileSchema = z
  .object({
    bundle: z.object({ onnxSha256: sha256, runId: z.string().min(1) }),
    datasetSha256: sha256,
    threshold: z.number().gt(0).lt(1),
    overall: measuresSchema,
    columns: z.record(z.string(), z.object({ groups: z.record(z.string(), measuresSchema), second_minus_first: differenceSchema })),
    counterfactual: z.record(z.string(), z.record(z.string(), swapSchema)),
  })
  .superRefine((report, ctx) => {
    const counted = (measures: GroupMeasures, path: (string | number)[]) => {
      if (measures.churners > measures.customers) ctx.addIssue({ code: 'custom', path: [...path, 'churners'], message: `is ${measures.churners}, more than customers (${measures.customers})` });
    };
    counted(report.overall, ['overall']);
    for (const [column, { groups }] of Object.entries(report.columns)) {
      const values = Object.keys(groups);
      if (values.length !== 2) ctx.addIssue({ code: 'custom', path: ['columns', column, 'groups'], message: `has ${values.length} groups; a column is reported as its two values` });
      for (const value of values) counted(groups[value] as GroupMeasures, ['columns', column, 'groups', value]);
      // Scored again: every group with customers (one without has nobody to score), all of them.
      const scored = values.filter((v) => (groups[v] as GroupMeasures).customers > 0).sort();
      const swaps = report.counterfactual[column] ?? {};
      if (Object.keys(swaps).sort().join('\u0000') !== scored.join('\u0000')) {
        ctx.addIssue({ code: 'custom', path: ['counterfactual', column], message: `must have one entry per group of columns.${column} with customers (${scored.join(', ') || 'none'})` });
        continue;
      }
      for (const value of scored) {
        const [swapped, group] = [(swaps[value] as GroupSwap).customers, (groups[value] as GroupMeasures).customers];
        if (swapped !== group) ctx.addIssue({ code: 'custom', path: ['counterfactual', column, value, 'customers'], message: `is ${swapped}, but the group has ${group} customers` });
      }
    }
    for (const column of Object.keys(report.counterfactual)) {
      if (!(column in report.columns)) ctx.addIssue({ code: 'custom', path: ['counterfactual', column], message: 'names a column that columns does not report' });
    }
  });

export type GroupReportFile = z.infer<typeof groupReportFileSchema>;
export type GroupMeasures = z.infer<typeof measuresSchema>;
export type GroupDifference = z.infer<typeof differenceSchema>;
export type GroupSwap = z.infer<typeof swapSchema>;
export type Estimate = z.infer<typeof rate>;

/** A bundle's report as read: its content and the sha256 of its bytes (what an auditor compares with the run's artifact). */
export interface LoadedGroupReport {
  readonly report: GroupReportFile;
  readonly fileSha256: string;
}

/**
 * Why `report` cannot be the report of the manifest's model: the problems, each naming the
 * report's field and the manifest's; empty when it is. It must report the demographic columns,
 * each as the two values the model takes.
 */
function groupReportMismatches(report: GroupReportFile, manifest: Manifest): string[] {
  const problems: string[] = [];
  if (report.bundle.onnxSha256 !== manifest.onnx.sha256) {
    problems.push(`bundle.onnxSha256 is ${report.bundle.onnxSha256}, but the manifest's onnx.sha256 is ${manifest.onnx.sha256} (a report of another model)`);
  }
  if (report.threshold !== manifest.threshold) problems.push(`threshold is ${report.threshold}, but the manifest's is ${manifest.threshold}`);
  if (report.datasetSha256 !== manifest.datasetSha256) {
    problems.push(`datasetSha256 is ${report.datasetSha256}, but the manifest's is ${manifest.datasetSha256 ?? 'null (it records no data set)'}`);
  }
  const reported = Object.keys(report.columns);
  if ([...reported].sort().join(', ') !== [...DEMOGRAPHIC_COLUMNS].sort().join(', ')) {
    problems.push(`columns are ${reported.join(', ') || 'none'}; a report covers ${DEMOGRAPHIC_COLUMNS.join(', ')}`);
  }
  const columns = new Map(manifest.featureSpec.columns.map((c) => [c.name, c]));
  for (const [name, { groups }] of Object.entries(report.columns)) {
    const allowed = [...(columns.get(name)?.allowedValues ?? [])].sort();
    const values = Object.keys(groups).sort();
    if (values.join('\u0000') !== allowed.join('\u0000')) {
      problems.push(`columns.${name} reports ${values.map((v) => JSON.stringify(v)).join(', ')}, but the model's ${name} takes ${allowed.map((v) => JSON.stringify(v)).join(', ') || 'no listed values'}`);
    }
  }
  return problems;
}

/** The report checked against its manifest; BundleError naming every mismatch (`origin`: where the bundle came from). */
export function checkGroupReport(report: LoadedGroupReport, manifest: Manifest, origin: string): LoadedGroupReport {
  const problems = groupReportMismatches(report.report, manifest);
  if (problems.length > 0) throw new BundleError(`${GROUP_REPORT_FILE} in ${origin} is not the report of this bundle's model: ${problems.join('; ')}`);
  return report;
}
