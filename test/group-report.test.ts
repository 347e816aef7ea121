/**
 * modelInfo.groupReport: the committed bundle's group_report.json served by a gateway on a real
 * port, field for field, within the default GraphQL limits, with the figures the README quotes; a
 * bundle folder without the file serves null; a report that is malformed, of another model, or
 * unreadable refuses the bundle naming the field and the reason (an edited copy of the committed
 * bundle, read as MODEL_DIR is and loaded as the gateway loads it). Served from MLflow:
 * test/audit-trail.test.ts; refused at start-up by the real process: test/startup-faults.test.ts.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP_REPORT_FILE } from '../src/bundle/group-report.js';
import { readBundleDir, verifyBundle } from '../src/bundle/load.js';
import { BundleError } from '../src/errors.js';
import { ChurnModel } from '../src/model/churn-model.js';
import { GroupReportDocument } from '../src/generated/graphql.js';
import { expectedGroupReport, type GroupReportJson } from './helpers/group-report.js';
import { BUNDLE_DIR, GRAPHQL_CUSTOMER, REPO_ROOT, gql, startTestGateway, type TestGateway } from './helpers/index.js';

const COMMITTED_TEXT = readFileSync(path.join(BUNDLE_DIR, GROUP_REPORT_FILE), 'utf8');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const committed = (): GroupReportJson => JSON.parse(COMMITTED_TEXT) as GroupReportJson;
const MANIFEST = JSON.parse(readFileSync(path.join(BUNDLE_DIR, 'manifest.json'), 'utf8')) as {
  onnx: { sha256: string };
  threshold: number;
  datasetSha256: string;
  featureSpec: { columns: { name: string }[] };
};
const COLUMN_ORDER = MANIFEST.featureSpec.columns.map((c) => c.name);

const dirs: string[] = [];
const gateways: TestGateway[] = [];
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A copy of the committed bundle whose group_report.json is `text` (the file removed when null). */
async function bundleWithReport(text: string | null): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'group-report-'));
  dirs.push(dir);
  await cp(BUNDLE_DIR, dir, { recursive: true });
  const file = path.join(dir, GROUP_REPORT_FILE);
  if (text === null) await rm(file);
  else await writeFile(file, text);
  return dir;
}

/**
 * The message the bundle is refused with when its report is `edit` applied to the committed one:
 * the report's format is checked with the bundle's files (verifyBundle), whether it names the model
 * once the model is accepted (ChurnModel.create, after the ONNX checks and the parity replay).
 */
async function refusal(edit: (report: GroupReportJson) => void): Promise<string> {
  const report = committed();
  edit(report);
  const dir = await bundleWithReport(JSON.stringify(report));
  try {
    const model = await ChurnModel.create(verifyBundle(await readBundleDir(dir)));
    await model.release();
  } catch (err) {
    expect(err).toBeInstanceOf(BundleError);
    return (err as BundleError).message;
  }
  throw new Error('the bundle was accepted');
}

async function served(gw: TestGateway) {
  const res = await gql(gw.url, GroupReportDocument);
  expect(res.status).toBe(200);
  expect(res.body.errors).toBeUndefined();
  const info = res.body.data?.modelInfo;
  if (!info) throw new Error('no modelInfo');
  return info;
}

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
  gateways.push(gw);
});

describe('modelInfo.groupReport of the committed bundle', () => {
  it('is its group_report.json, field for field, columns in data set order and groups in code point order', async () => {
    const info = await served(gw);
    expect(committed().bundle).toEqual({ onnxSha256: info.onnxSha256, runId: info.runId });
    expect(info.threshold).toBe(committed().threshold);
    expect(info.groupReport).toEqual(expectedGroupReport(committed(), COLUMN_ORDER, sha256(COMMITTED_TEXT)));
    expect(info.groupReport?.groups.map((g) => `${g.column}=${g.value}`)).toEqual([
      'gender=Female',
      'gender=Male',
      'SeniorCitizen=0',
      'SeniorCitizen=1',
      'Partner=No',
      'Partner=Yes',
      'Dependents=No',
      'Dependents=Yes',
    ]);
    expect(info.groupReport?.differences.map((d) => `${d.column}: ${d.second} − ${d.first}`)).toEqual(['gender: Male − Female', 'SeniorCitizen: 1 − 0', 'Partner: Yes − No', 'Dependents: Yes − No']);
    expect(info.groupReport?.overall.customers).toBe(1409);
  });

  it("serves the figures the README's Training section quotes", async () => {
    const report = (await served(gw)).groupReport;
    const group = (column: string, value: string) => report?.groups.find((g) => g.column === column && g.value === value);
    const [notSenior, senior] = [group('SeniorCitizen', '0'), group('SeniorCitizen', '1')];
    if (!report || !notSenior || !senior) throw new Error('no SeniorCitizen groups');
    type Group = typeof senior;
    const ratio = (of: (g: Group) => number | null) => ((of(senior) ?? NaN) / (of(notSenior) ?? NaN)).toFixed(1);
    const gender = report.groups.filter((g) => g.column === 'gender');
    const genderFlips = gender.reduce((n, g) => n + (g.counterfactual?.newlyFlagged ?? 0) + (g.counterfactual?.noLongerFlagged ?? 0), 0);
    const readme = (await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8')).replace(/\s+/g, ' ');
    const fmt = (n: number) => n.toLocaleString('en-US');
    expect(readme).toContain(`Senior citizens, who churn ${ratio((g: Group) => g.measures.churnRate.value)} times as often, are flagged ${ratio((g: Group) => g.measures.flagged.value)} times as often`);
    expect(readme).toContain(`a senior citizen who stays ${ratio((g: Group) => g.measures.falsePositiveRate.value)} times as often as another customer who stays`);
    expect(readme).toContain(`${notSenior.counterfactual?.newlyFlagged} of ${fmt(notSenior.measures.customers)} others become flagged`);
    expect(readme).toContain(`changes ${genderFlips} of ${fmt(report.overall.customers)} decisions, though no rate differs measurably between women and men`);
    // "No rate differs measurably": every interval of the gender differences holds 0.
    const genderDifference = report.differences.find((d) => d.column === 'gender');
    for (const rate of ['flagged', 'recall', 'falsePositiveRate', 'precision'] as const) {
      expect(genderDifference?.[rate].low, rate).toBeLessThan(0);
      expect(genderDifference?.[rate].high, rate).toBeGreaterThan(0);
    }
    // "Every group's mean probability is inside its churn rate's interval."
    expect(readme).toContain("Every group's mean probability is inside its churn rate's interval");
    for (const g of report.groups) {
      expect(g.measures.meanProbability, `${g.column}=${g.value}`).toBeGreaterThanOrEqual(g.measures.churnRate.low ?? NaN);
      expect(g.measures.meanProbability, `${g.column}=${g.value}`).toBeLessThanOrEqual(g.measures.churnRate.high ?? NaN);
    }
  });
});

describe('a bundle without group report', () => {
  it('serves groupReport null (model versions trained before it existed), and predicts as before', async () => {
    const other = await startTestGateway({ MODEL_DIR: await bundleWithReport(null) });
    gateways.push(other);
    const info = await served(other);
    expect(info.groupReport).toBeNull();
    expect(info.onnxSha256).toBe(MANIFEST.onnx.sha256);
    const predict = async (g: TestGateway) => {
      const res = await gql(g.url, 'mutation P($c: CustomerInput!) { predict(customer: $c) { churnProbability willChurn modelVersion } }', { c: GRAPHQL_CUSTOMER });
      expect(res.body.errors).toBeUndefined();
      return res.body.data;
    };
    expect(await predict(other)).toEqual(await predict(gw));
  });
});

describe('a group report the bundle is refused for', () => {
  it("one naming another model's ONNX file, threshold or data set, every mismatch at once", async () => {
    const message = await refusal((r) => {
      r.bundle.onnxSha256 = 'f'.repeat(64);
      r.threshold = 0.5;
      r.datasetSha256 = '0'.repeat(64);
    });
    expect(message).toMatch(/^group_report\.json in \S+ is not the report of this bundle's model: /);
    expect(message).toContain(`bundle.onnxSha256 is ${'f'.repeat(64)}, but the manifest's onnx.sha256 is ${MANIFEST.onnx.sha256} (a report of another model)`);
    expect(message).toContain(`threshold is 0.5, but the manifest's is ${MANIFEST.threshold}`);
    expect(message).toContain(`datasetSha256 is ${'0'.repeat(64)}, but the manifest's is ${MANIFEST.datasetSha256}`);
  });

  it('one that does not cover the demographic columns, each as the two values the model takes', async () => {
    const unknownValue = await refusal((r) => {
      const gender = r.columns['gender'] as GroupReportJson['columns'][string];
      gender.groups = { Female: gender.groups['Female'] as GroupReportJson['overall'], Other: gender.groups['Male'] as GroupReportJson['overall'] };
      r.counterfactual['gender'] = { Female: r.counterfactual['gender']?.['Female'] as Record<string, number>, Other: r.counterfactual['gender']?.['Male'] as Record<string, number> };
    });
    expect(unknownValue).toContain('columns.gender reports "Female", "Other", but the model\'s gender takes "Female", "Male"');
    const otherColumn = await refusal((r) => {
      r.columns['PaperlessBilling'] = r.columns['Partner'] as GroupReportJson['columns'][string];
      r.counterfactual['PaperlessBilling'] = r.counterfactual['Partner'] as Record<string, Record<string, number>>;
      delete r.columns['gender'];
      delete r.counterfactual['gender'];
    });
    expect(otherColumn).toContain('columns are Dependents, Partner, SeniorCitizen, PaperlessBilling; a report covers gender, SeniorCitizen, Partner, Dependents');
    const none = await refusal((r) => {
      r.columns = {};
      r.counterfactual = {};
    });
    expect(none).toContain('columns are none; a report covers gender, SeniorCitizen, Partner, Dependents');
  });

  it('one whose counts contradict each other', async () => {
    const message = await refusal((r) => {
      r.overall.churners = r.overall.customers + 1;
      (r.counterfactual['Partner']?.['Yes'] as Record<string, number>)['customers'] = 1;
    });
    expect(message).toContain(`overall.churners: is ${committed().overall.customers + 1}, more than customers (${committed().overall.customers})`);
    expect(message).toMatch(/counterfactual\.Partner\.Yes\.customers: is 1, but the group has \d+ customers/);
  });

  it('one that does not match the format, naming each field', async () => {
    const message = await refusal((r) => {
      (r.overall as Record<string, unknown>)['customers'] = '1409';
      const partnerYes = (r.columns['Partner'] as GroupReportJson['columns'][string]).groups['Yes'] as Record<string, unknown>;
      partnerYes['flagged'] = { value: 0.2, ci95: [0.25, 0.3] };
      partnerYes['recall'] = { value: 0.5, ci95: null };
    });
    expect(message).toMatch(/^group_report\.json in \S+ does not match the group report format: /);
    expect(message).toContain('overall.customers: ');
    expect(message).toContain('columns.Partner.groups.Yes.flagged: ci95 must hold value');
    expect(message).toContain('columns.Partner.groups.Yes.recall: value and ci95 must be both set or both null');
  });

  it('one whose columns do not have two groups each, scored again', async () => {
    const message = await refusal((r) => {
      delete r.counterfactual['Dependents']?.['Yes'];
      (r.columns['gender'] as GroupReportJson['columns'][string]).groups['Unknown'] = r.overall;
    });
    expect(message).toMatch(/^group_report\.json in \S+ does not match the group report format: /);
    expect(message).toContain('columns.gender.groups: has 3 groups; a column is reported as its two values');
    expect(message).toContain('counterfactual.Dependents: must have one entry per group of columns.Dependents with customers (No, Yes)');
  });

  it('one that is not JSON, or not a file', async () => {
    const notJson = await bundleWithReport(COMMITTED_TEXT.slice(0, 200));
    await expect(readBundleDir(notJson).then(verifyBundle)).rejects.toThrow(/^group_report\.json in \S+ is not valid JSON: /);
    const directory = await bundleWithReport(null);
    await mkdir(path.join(directory, GROUP_REPORT_FILE));
    await expect(readBundleDir(directory)).rejects.toThrow(/^cannot read \S+group_report\.json: a directory, not a file \(EISDIR\)$/);
  });

  it('accepts an interval whose end is a rounding error inside its value (a rate of 0 or 1 in a small group, as runs before the fix wrote it), not more', async () => {
    const report = committed();
    const partnerNo = (report.columns['Partner'] as GroupReportJson['columns'][string]).groups['No'] as Record<string, unknown>;
    partnerNo['recall'] = { value: 1, ci95: [0.8, 0.9999999999999999] };
    partnerNo['precision'] = { value: 0, ci95: [1e-17, 0.2] };
    const bundle = verifyBundle(await readBundleDir(await bundleWithReport(JSON.stringify(report))));
    expect(bundle.groupReport?.report.columns['Partner']?.groups['No']).toMatchObject({ recall: { value: 1, ci95: [0.8, 0.9999999999999999] }, precision: { value: 0, ci95: [1e-17, 0.2] } });
    const beyond = await refusal((r) => {
      ((r.columns['Partner'] as GroupReportJson['columns'][string]).groups['No'] as Record<string, unknown>)['recall'] = { value: 1, ci95: [0.8, 0.999999] };
    });
    expect(beyond).toContain('columns.Partner.groups.No.recall: ci95 must hold value');
  });

  it("accepts a group without test customers (a small data set's split), served with measures null and swapped null", async () => {
    const report = committed();
    const dependents = report.columns['Dependents'] as GroupReportJson['columns'][string];
    const none = { value: null, ci95: null };
    dependents.groups['Yes'] = {
      customers: 0,
      churners: 0,
      churn_rate: none,
      mean_probability: null,
      mean_probability_minus_churn_rate: null,
      flagged: none,
      recall: none,
      false_positive_rate: none,
      precision: none,
      roc_auc: none,
    };
    dependents.second_minus_first = { flagged: none, recall: none, false_positive_rate: none, precision: none, mean_probability_minus_churn_rate: null };
    delete report.counterfactual['Dependents']?.['Yes'];
    const other = await startTestGateway({ MODEL_DIR: await bundleWithReport(JSON.stringify(report)) });
    gateways.push(other);
    const info = await served(other);
    expect(info.groupReport).toEqual(expectedGroupReport(report, COLUMN_ORDER, sha256(JSON.stringify(report))));
    const yes = info.groupReport?.groups.find((g) => g.column === 'Dependents' && g.value === 'Yes');
    expect(yes).toMatchObject({ measures: { customers: 0, churnRate: { value: null, low: null, high: null }, rocAuc: { value: null } }, counterfactual: null });
  });
});
