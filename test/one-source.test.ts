/**
 * Facts that one place defines and others restate or depend on, checked against the place that
 * defines them: the risk bands the docs describe are the committed bundle's (its manifest and the
 * training parameter it records), the GraphQL variable bounds, which run before any field is
 * read, let every customer the contract accepts through, the cost of an explanation the schema
 * states is the README's measurement, and a registered model name or alias training publishes is
 * one MODEL_URI can name.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { CUSTOMER_FIELDS, CUSTOMER_ID_MAX_LENGTH, customerIdFits } from '../src/contract.js';
import { DEMOGRAPHIC_COLUMNS, GROUP_REPORT_FILE } from '../src/bundle/group-report.js';
import { PARITY_TOLERANCE_MAX } from '../src/bundle/load.js';
import { loadConfig } from '../src/config.js';
import { REJECTED_RETRY_POLLS } from '../src/model/model-admin.js';
import { isModelUri } from '../src/model/model-uri.js';
import { EXPLANATION_COST } from '../src/schema/explanation.js';
import { variablesOverLimits } from '../src/schema/limits.js';
import { BUNDLE_DIR, GRAPHQL_CUSTOMER, REPO_ROOT } from './helpers/index.js';
import { ensureVenv } from './helpers/mlflow-server.js';

const manifest = JSON.parse(readFileSync(`${BUNDLE_DIR}/manifest.json`, 'utf8')) as {
  threshold: number;
  riskBands: { mediumFrom: number; highFrom: number };
  params: Record<string, string>;
};
const flat = (file: string) => readFileSync(`${REPO_ROOT}${file}`, 'utf8').replace(/\s+/g, ' ');

describe('risk bands', () => {
  const fraction = Number(manifest.params['medium_from_fraction']);

  it("are the bundle's: mediumFrom is the threshold times the medium_from_fraction it was trained with", () => {
    expect(fraction).toBeGreaterThan(0);
    expect(manifest.riskBands.highFrom).toBe(manifest.threshold);
    expect(manifest.riskBands.mediumFrom).toBeCloseTo(manifest.threshold * fraction, 6);
  });

  it('are described with those numbers in README.md and model/README.md', () => {
    const words: Record<number, string> = { 0.5: 'half the threshold', 0.25: 'a quarter of the threshold' };
    const phrases: [string, string][] = [
      ['README.md', `LOW below \`riskBands.mediumFrom\` (${words[fraction] ?? `${fraction} × the threshold`})`],
      ['model/README.md', `\`mediumFrom = threshold × ${fraction} = ${manifest.riskBands.mediumFrom}\``],
    ];
    expect(phrases.filter(([file, phrase]) => !flat(file).includes(phrase))).toEqual([]);
  });
});

describe("GraphQL's variable bounds (src/schema/limits.ts)", () => {
  it('let the largest customer the contract accepts through, alone and in a batch', () => {
    // Code points outside the BMP: one character each for the contract, two UTF-16 units for a string's length.
    const customerId = '😀'.repeat(CUSTOMER_ID_MAX_LENGTH);
    expect(customerIdFits(customerId)).toBe(true);
    const customer = { ...GRAPHQL_CUSTOMER, customerId };
    expect(Object.keys(customer)).toHaveLength(CUSTOMER_FIELDS.length + 1);
    expect(variablesOverLimits({ customer })).toBeNull();
    expect(variablesOverLimits({ customers: [customer, customer] })).toBeNull();
  });
});

describe("the parity tolerance's limit", () => {
  it("is training's TOLERANCE_MAX (model/churn_model/config.py): the gateway refuses what training would never write", () => {
    const m = /^TOLERANCE_MAX = ([\d.e-]+)$/m.exec(readFileSync(`${REPO_ROOT}model/churn_model/config.py`, 'utf8'));
    expect(m, 'TOLERANCE_MAX in model/churn_model/config.py').not.toBeNull();
    expect(Number(m?.[1])).toBe(PARITY_TOLERANCE_MAX);
  });
});

describe("the group report's file name and columns", () => {
  it("is training's GROUP_REPORT_FILE (model/churn_model/bundle.py): the gateway reads the file training writes into the bundle", () => {
    const m = /^GROUP_REPORT_FILE = "([^"]+)"$/m.exec(readFileSync(`${REPO_ROOT}model/churn_model/bundle.py`, 'utf8'));
    expect(m, 'GROUP_REPORT_FILE in model/churn_model/bundle.py').not.toBeNull();
    expect(m?.[1]).toBe(GROUP_REPORT_FILE);
  });

  it("covers training's DEMOGRAPHIC_COLUMNS (model/churn_model/group_report.py), which the gateway holds a report to", () => {
    const m = /^DEMOGRAPHIC_COLUMNS = \(([^)]*)\)$/m.exec(readFileSync(`${REPO_ROOT}model/churn_model/group_report.py`, 'utf8'));
    expect(m, 'DEMOGRAPHIC_COLUMNS in model/churn_model/group_report.py').not.toBeNull();
    expect([...(m?.[1] ?? '').matchAll(/"([^"]+)"/g)].map((x) => x[1])).toEqual(DEMOGRAPHIC_COLUMNS);
  });
});

describe("an explanation's cost, as Prediction.explanation states it (EXPLANATION_COST)", () => {
  it("is the README's measurement", () => {
    const { microsPerRow, batchRows, answerMB, waitS, waitTop3S } = EXPLANATION_COST;
    const phrases = [
      `~${microsPerRow} µs per row`,
      `for ${batchRows.toLocaleString('en-US')} rows make an ~${answerMB} MB answer`,
      `waited up to ~${waitS} s`,
      `(~${waitTop3S} s with \`top: 3\`)`,
    ];
    expect(phrases.filter((phrase) => !flat('README.md').includes(phrase))).toEqual([]);
  });
});

describe("a registered model's name and alias", () => {
  // Asked of both sides: training's rule (model/churn_model/config.py, run by the training venv's Python) and
  // MODEL_URI's (parseModelUri, which start-up's check of MODEL_URI uses). A name or alias training accepted
  // and MODEL_URI could not name was published by a run that passed every check, and no gateway could serve it.
  const NAMES: Record<string, boolean> = { 'produção': true, 'a@b': false, 'a:b': false, 'a/b': false, '..x': false, '.': false, ' ': false, '\t \u3000': false, ' a ': true, v3: true, champion: true, 'x-y_z': true };
  const ALIASES: Record<string, boolean> = { 'produção': false, 'a@b': false, 'a:b': false, 'a/b': false, v3: false, V12: false, champion: true, 'x-y_z': true };
  // Training refuses this and MODEL_URI can name it: MLflow sets no alias 'latest', but resolves @latest (the
  // newest version), so a gateway may follow it.
  const TRAINING_ONLY = { names: [] as string[], aliases: ['latest'] };
  let training: { names: Record<string, boolean>; aliases: Record<string, boolean> };

  beforeAll(async () => {
    await ensureVenv();
    const script = [
      'import json, sys',
      'from churn_model.config import alias_problem, registered_model_problem',
      'probes = json.loads(sys.argv[1])',
      'print(json.dumps({"names": {n: registered_model_problem(n) is None for n in probes["names"]},',
      '                  "aliases": {a: alias_problem(a) is None for a in probes["aliases"]}}))',
    ].join('\n');
    // JSON with \u escapes: the probes reach Python as ASCII whatever the locale.
    const probes = JSON.stringify({ names: [...Object.keys(NAMES), ...TRAINING_ONLY.names], aliases: [...Object.keys(ALIASES), ...TRAINING_ONLY.aliases] }).replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const { stdout } = await promisify(execFile)(`${REPO_ROOT}model/.venv/bin/python`, ['-c', script, probes], { env: { ...process.env, PYTHONPATH: `${REPO_ROOT}model` }, timeout: 60_000 });
    training = JSON.parse(stdout) as typeof training;
  });

  it('get the same verdict from training and from MODEL_URI', () => {
    const gateway = {
      names: Object.fromEntries(Object.keys(NAMES).map((n) => [n, isModelUri(`models:/${n}@champion`) && isModelUri(`models:/${n}/3`)])),
      aliases: Object.fromEntries(Object.keys(ALIASES).map((a) => [a, isModelUri(`models:/telco-churn@${a}`)])),
    };
    expect(gateway).toEqual({ names: NAMES, aliases: ALIASES });
    expect({ names: Object.fromEntries(Object.keys(NAMES).map((n) => [n, training.names[n]])), aliases: Object.fromEntries(Object.keys(ALIASES).map((a) => [a, training.aliases[a]])) }).toEqual({ names: NAMES, aliases: ALIASES });
  });

  it("are refused by training where only MLflow's rules for its side refuse them", () => {
    expect(TRAINING_ONLY.names.map((n) => [n, training.names[n], isModelUri(`models:/${n}@champion`)])).toEqual(TRAINING_ONLY.names.map((n) => [n, false, true]));
    expect(TRAINING_ONLY.aliases.map((a) => [a, training.aliases[a], isModelUri(`models:/telco-churn@${a}`)])).toEqual(TRAINING_ONLY.aliases.map((a) => [a, false, true]));
  });
});

describe('how soon a fixed bundle is served (REJECTED_RETRY_POLLS, src/model/model-admin.ts)', () => {
  it('is what docs/mlflow.md and infra/README.md say, at the default poll interval', () => {
    const minutes = (REJECTED_RETRY_POLLS * loadConfig({}).MLFLOW_POLL_INTERVAL_MS) / 60_000;
    const phrases: [string, string][] = [
      ['docs/mlflow.md', `is loaded again at every ${REJECTED_RETRY_POLLS}th poll while the alias names it`],
      ['docs/mlflow.md', `within ${REJECTED_RETRY_POLLS} × \`MLFLOW_POLL_INTERVAL_MS\` (${minutes} minutes by default)`],
      ['docs/mlflow.md', `loads it again at every ${REJECTED_RETRY_POLLS}th poll only`],
      ['infra/README.md', `loads it again every ${REJECTED_RETRY_POLLS}th poll, so every task serves the fixed bundle within ${REJECTED_RETRY_POLLS} × \`MLFLOW_POLL_INTERVAL_MS\` (${minutes} min)`],
      ['infra/README.md', `every ${REJECTED_RETRY_POLLS}th poll while the alias (or a fixed-version \`modelUri\`) names it, so every task serves it within ${REJECTED_RETRY_POLLS} × \`MLFLOW_POLL_INTERVAL_MS\` (${minutes} min)`],
    ];
    expect(phrases.filter(([file, phrase]) => !flat(file).includes(phrase))).toEqual([]);
  });
});
