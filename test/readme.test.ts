/**
 * The README stays true: its configuration table lists every variable config.ts reads,
 * its metrics table shows the committed bundle's numbers, its split-study table the committed
 * study's, and CI runs its test command.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../src/config.js';
import { BUNDLE_DIR, REPO_ROOT } from './helpers/index.js';

const readme = await readFile(`${REPO_ROOT}README.md`, 'utf8');

interface Spread {
  median: number;
  q05: number;
  q95: number;
}
/** model/results/split-study.json (model/churn_model/split_study.py), the fields the README shows. */
interface SplitStudy {
  summary: {
    splits: number;
    test_roc_auc: Spread;
    test_f1: Spread;
    splits_meeting: { test_roc_auc: number; test_f1: number };
    committed_split: { seed: number; test_roc_auc: number; test_f1: number; splits_with_lower_roc_auc: number };
  };
}

describe('README', () => {
  it('documents every configuration variable', () => {
    const documented = new Set([...readme.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));
    expect(CONFIG_VARIABLES.filter((v) => !documented.has(v))).toEqual([]);
    expect([...documented].filter((v) => !CONFIG_VARIABLES.includes(v as string))).toEqual([]);
  });

  it("shows the committed bundle's metrics and threshold", async () => {
    const manifest = JSON.parse(await readFile(`${BUNDLE_DIR}/manifest.json`, 'utf8')) as { threshold: number; metrics: Record<string, number> };
    const block = /<!-- metrics:start -->([\s\S]*?)<!-- metrics:end -->/.exec(readme)?.[1] ?? '';
    const m = manifest.metrics;
    const f = (v: number | undefined) => (v ?? NaN).toFixed(4);
    expect(block).toContain(`| ROC AUC | ${f(m['test_roc_auc'])} |`);
    expect(block).toContain(`| F1 at threshold ${manifest.threshold} | ${f(m['test_f1'])} |`);
    expect(block).toContain(`| ROC AUC 95% interval (DeLong) | ${f(m['test_roc_auc_ci95_low'])} – ${f(m['test_roc_auc_ci95_high'])} |`);
    expect(block).toContain(`| PR AUC | ${f(m['test_pr_auc'])} |`);
    expect(block).toContain(`| Precision / recall | ${f(m['test_precision'])} / ${f(m['test_recall'])} |`);
    expect(block).toContain(`| Accuracy | ${f(m['test_accuracy'])} |`);
    expect(block).toContain(`| 5-fold CV ROC AUC (training part) | ${f(m['cv_roc_auc_mean'])} ± ${f(m['cv_roc_auc_std'])} |`);
  });

  it("shows the committed split study's numbers", async () => {
    const study = JSON.parse(await readFile(`${REPO_ROOT}model/results/split-study.json`, 'utf8')) as SplitStudy;
    const block = /<!-- split-study:start -->([\s\S]*?)<!-- split-study:end -->/.exec(readme)?.[1] ?? '';
    const { summary: s } = study;
    const f = (v: number) => v.toFixed(4);
    const n = s.splits;
    expect(block).toContain(`| over ${n} splits | test ROC AUC | test F1 |`);
    expect(block).toContain(`| median | ${f(s.test_roc_auc.median)} | ${f(s.test_f1.median)} |`);
    expect(block).toContain(`| 5 % – 95 % | ${f(s.test_roc_auc.q05)} – ${f(s.test_roc_auc.q95)} | ${f(s.test_f1.q05)} – ${f(s.test_f1.q95)} |`);
    expect(block).toContain(`| splits meeting the target | ${s.splits_meeting.test_roc_auc} of ${n} | ${s.splits_meeting.test_f1} of ${n} |`);
    const c = s.committed_split;
    expect(block).toContain(`| the committed split (seed ${c.seed}) | ${f(c.test_roc_auc)}, above ${c.splits_with_lower_roc_auc} of ${n} | ${f(c.test_f1)} |`);
  });

  it('gives the two quick-start commands, and CI runs the test one', async () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
    expect(await readFile(`${REPO_ROOT}.ci/run`, 'utf8')).toMatch(/^npm test$/m);
  });
});
