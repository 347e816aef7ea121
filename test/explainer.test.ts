/**
 * The explainer in-process: path-dependent TreeSHAP against a brute-force Shapley computation
 * over the same cover-weighted value function (small hand-made trees, repeated features on a
 * path, both the per-pattern tables and the tree walk), against xgboost's own pred_contribs in
 * the committed bundle, the grouping into risk drivers, and what bundle verification refuses.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readBundleDir, verifyBundle, type RawBundle } from '../src/bundle/load.js';
import { manifestSchema, parityFileSchema } from '../src/bundle/manifest.js';
import { BundleError } from '../src/errors.js';
import { ChurnModel } from '../src/model/churn-model.js';
import { Explainer, TreeShap, driverGroups, explainerFileSchema, verifyExplainer, type ExplainerFile } from '../src/model/explainer.js';
import { compileEncoder } from '../src/model/features.js';
import { BUNDLE_DIR } from './helpers/index.js';

type TreeJson = ExplainerFile['trees'][number];

/** A tree from nodes written as [feature, threshold, left, right, cover] or [leaf value, cover]. */
function tree(nodes: ([number, number, number, number, number, boolean?] | [number, number])[]): TreeJson {
  const t: TreeJson = { left: [], right: [], defaultLeft: [], feature: [], threshold: [], leaf: [], cover: [] };
  for (const n of nodes) {
    const internal = n.length >= 5;
    t.left.push(internal ? (n[2] as number) : -1);
    t.right.push(internal ? (n[3] as number) : -1);
    t.defaultLeft.push(internal ? (n[5] ?? false) : false);
    t.feature.push(internal ? n[0] : -1);
    t.threshold.push(internal ? n[1] : 0);
    t.leaf.push(internal ? 0 : n[0]);
    t.cover.push(internal ? (n[4] as number) : n[1]);
  }
  return t;
}

/** E[f(x) | x_S] as path-dependent TreeSHAP defines it: a split on a feature in S follows x, any other weighs both sides by cover. */
function value(t: TreeJson, x: readonly number[], inS: (f: number) => boolean, node = 0): number {
  const l = t.left[node] as number;
  if (l === -1) return t.leaf[node] as number;
  const r = t.right[node] as number;
  const f = t.feature[node] as number;
  if (inS(f)) {
    const v = Math.fround(x[f] as number);
    const left = Number.isNaN(v) ? t.defaultLeft[node] : v < Math.fround(t.threshold[node] as number);
    return value(t, x, inS, left ? l : r);
  }
  return ((t.cover[l] as number) * value(t, x, inS, l) + (t.cover[r] as number) * value(t, x, inS, r)) / (t.cover[node] as number);
}

const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));

/** Shapley values of the sum of the trees' value functions, by enumerating every coalition; the bias last. */
function bruteForce(trees: readonly TreeJson[], baseMargin: number, x: readonly number[]): number[] {
  const m = x.length;
  const v = (set: number): number => trees.reduce((s, t) => s + value(t, x, (f) => ((set >> f) & 1) === 1), 0);
  const phi = new Array<number>(m + 1).fill(0);
  for (let i = 0; i < m; i++) {
    for (let set = 0; set < 1 << m; set++) {
      if ((set >> i) & 1) continue;
      const size = set.toString(2).split('1').length - 1;
      phi[i] = (phi[i] as number) + ((factorial(size) * factorial(m - size - 1)) / factorial(m)) * (v(set | (1 << i)) - v(set));
    }
  }
  phi[m] = baseMargin + v(0);
  return phi;
}

const TREES: Record<string, TreeJson> = {
  'depth 1 (a stump)': tree([[0, 0.5, 1, 2, 10], [-0.3, 4], [0.7, 6]]),
  'depth 2, three features': tree([[0, 0.5, 1, 2, 10], [1, 2, 3, 4, 4], [2, 1, 5, 6, 6], [0.1, 1], [-0.4, 3], [0.9, 2.5], [-0.2, 3.5]]),
  'depth 2, the root feature again below it': tree([[0, 0.5, 1, 2, 10], [0, 0.2, 3, 4, 4], [1, 3, 5, 6, 6], [0.1, 1.5], [-0.4, 2.5], [0.9, 2], [-0.2, 4]]),
  'depth 3, features repeated on every path': tree([
    [0, 0.5, 1, 2, 20],
    [1, 2, 3, 4, 8],
    [0, 0.8, 5, 6, 12],
    [0, 0.2, 7, 8, 3],
    [2, 1, 9, 10, 5],
    [1, 1, 11, 12, 7],
    [1, 4, 13, 14, 5],
    [0.5, 1],
    [-0.1, 2],
    [0.3, 2.5],
    [-0.6, 2.5],
    [0.2, 3],
    [0.05, 4],
    [-0.35, 1.5],
    [0.8, 3.5],
  ]),
  'depth 3, unbalanced, a missing value goes the default way': tree([
    [3, 1.5, 1, 2, 9, true],
    [-0.25, 4],
    [2, 0.5, 3, 4, 5],
    [1, 1, 5, 6, 2, true],
    [0.4, 3],
    [0.6, 1.2],
    [-0.9, 0.8],
  ]),
};

const ROWS: readonly number[][] = [
  [0.1, 1, 0, 0],
  [0.3, 3, 2, 2],
  [0.6, 0, 0.5, 1.5], // exactly at thresholds: the right side
  [0.9, 5, 1.2, 1],
  [0.2, 2, 0, 3],
  [Number.NaN, Number.NaN, Number.NaN, Number.NaN],
  [0.55, Number.NaN, 0.7, 0.4],
];

describe('path-dependent TreeSHAP against brute-force Shapley values', () => {
  for (const [name, t] of Object.entries(TREES)) {
    for (const tableMaxSplits of [10, 0]) {
      it(`${name}, ${tableMaxSplits === 0 ? 'walking the tree' : 'from the per-pattern table'}`, () => {
        expect(explainerFileSchema.shape.trees.element.safeParse(t).success).toBe(true);
        const shap = new TreeShap({ trees: [t], baseMargin: -0.5 }, 4, tableMaxSplits);
        for (const row of ROWS) {
          const got = [...shap.contributions(Float32Array.from(row))];
          const want = bruteForce([t], -0.5, row);
          got.forEach((g, i) => expect(g, `row ${row.join(', ')}, position ${i}`).toBeCloseTo(want[i] as number, 12));
          // Efficiency: the values add up to the tree's prediction for the row.
          expect(got.reduce((s, g) => s + g, 0)).toBeCloseTo(value(t, row, () => true) - 0.5, 12);
        }
      });
    }
  }

  it('every tree together, several rows at offsets of one input buffer', () => {
    const trees = Object.values(TREES);
    const shap = new TreeShap({ trees, baseMargin: 0.25 }, 4);
    const x = Float32Array.from(ROWS.flat());
    ROWS.forEach((row, r) => {
      const want = bruteForce(trees, 0.25, row);
      [...shap.contributions(x, r)].forEach((g, i) => expect(g).toBeCloseTo(want[i] as number, 12));
    });
  });

  it('orders drivers by |contribution|, equal ones by name in code point order, and they add up to logOdds − baseLogOdds', () => {
    const spec = {
      columns: [
        { name: 'gender', kind: 'categorical' as const, allowedValues: ['Female', 'Male'] },
        { name: 'tenure', kind: 'integer' as const },
        { name: 'PaymentMethod', kind: 'categorical' as const, allowedValues: ['Mailed check', 'Electronic check'] },
      ],
      features: [
        { name: 'gender=Female', transform: 'onehot' as const, column: 'gender', value: 'Female' },
        { name: 'tenure', transform: 'identity' as const, column: 'tenure' },
        { name: 'PaymentMethod=Mailed check', transform: 'onehot' as const, column: 'PaymentMethod', value: 'Mailed check' },
      ],
    };
    // Only tenure is split on: gender and PaymentMethod contribute exactly 0.
    const shap = new TreeShap({ trees: [tree([[1, 12, 1, 2, 10], [0.4, 3], [-0.3, 7]])], baseMargin: -1 }, 3);
    const report = { method: 'test', trees: 1, referenceCount: 1, tolerance: 1e-4, maxAbsDiff: 0, fileSha256: '' };
    const e = new Explainer(shap, compileEncoder(spec), spec, report).explain({ gender: 'Male', tenure: 3, PaymentMethod: 'Mailed check' });
    expect(e.drivers.map((d) => [d.name, d.contribution])).toEqual([['tenure', expect.closeTo(0.4 - (0.4 * 3 - 0.3 * 7) / 10, 12)], ['PaymentMethod', 0], ['gender', 0]]);
    expect(e.baseLogOdds).toBeCloseTo(-1 + (0.4 * 3 - 0.3 * 7) / 10, 12);
    expect(e.logOdds).toBeCloseTo(-1 + 0.4, 12);
  });

  it('compares in float32, as xgboost does: a threshold written in double is rounded to float32 first', () => {
    // x = float32(0.1) = 0.100000001490116…; the threshold 0.1000000015 rounds to the same float32, so x is not below it.
    const t = tree([[0, 0.1000000015, 1, 2, 2], [-1, 1], [1, 1]]);
    const phi = new TreeShap({ trees: [t], baseMargin: 0 }, 1).contributions(Float32Array.of(0.1));
    expect([...phi]).toEqual([1, 0]); // the right leaf (1) less the mean (0); compared in double, x went left: -1
  });
});

const committed = await readBundleDir(BUNDLE_DIR);

/** What ChurnModel.create accepts after the ONNX checks and the parity replay: the bundle's explainer, verified (null when none). */
function explainerOf(raw: RawBundle): Explainer | null {
  const bundle = verifyBundle(raw);
  return bundle.explainer ? verifyExplainer(bundle, bundle.explainer) : null;
}
const manifest = manifestSchema.parse(JSON.parse(committed.manifestJson));
const parity = parityFileSchema.parse(JSON.parse(committed.parityJson));
const file = explainerFileSchema.parse(JSON.parse(committed.explainerJson ?? 'null'));

describe("the committed bundle's explainer", () => {
  it("recomputes xgboost's pred_contribs for every reference case within the manifest's tolerance, by table and by walk", () => {
    const encoder = compileEncoder(manifest.featureSpec);
    const entry = manifest.explainer;
    expect(entry?.referenceCount).toBe(240);
    expect(file.reference.parityCases).toEqual(Array.from({ length: 240 }, (_, i) => i * 10));
    for (const tableMaxSplits of [10, 0]) {
      const shap = new TreeShap(file, file.featureCount, tableMaxSplits);
      let worst = 0;
      file.reference.parityCases.forEach((c, k) => {
        const got = shap.contributions(encoder.encode([parity.cases[c]?.input ?? {}]));
        const want = file.reference.contributions[k] as number[];
        got.forEach((g, i) => (worst = Math.max(worst, Math.abs(g - (want[i] as number)))));
      });
      expect(worst).toBeLessThanOrEqual(entry?.tolerance ?? 0);
    }
  });

  it('groups the 46 encoded features into 20 drivers: 19 input fields and TotalCharges/tenure reading its two columns', () => {
    const { groups, driverOf } = driverGroups(manifest.featureSpec);
    expect(groups.map((g) => g.name)).toEqual([...manifest.featureSpec.columns.map((c) => c.name), 'TotalCharges/tenure']);
    expect(groups.at(-1)).toEqual({ name: 'TotalCharges/tenure', fields: ['TotalCharges', 'tenure'] });
    expect(groups.find((g) => g.name === 'Contract')).toEqual({ name: 'Contract', fields: ['Contract'] });
    // Every one-hot position of Contract counts toward the Contract driver.
    manifest.featureSpec.features.forEach((f, i) => {
      const name = f.transform === 'ratio' ? f.name : f.column;
      expect(groups[driverOf[i] as number]?.name).toBe(name);
    });
  });

  it('explains a customer: drivers sorted by |contribution| add up to logOdds − baseLogOdds, and sigmoid(logOdds) is its parity probability', () => {
    const explainer = explainerOf(committed);
    if (!explainer) throw new Error('the committed bundle has no explainer');
    for (const c of [parity.cases[3], parity.cases[1234]]) {
      const e = explainer.explain(c?.input ?? {});
      expect(e.drivers).toHaveLength(20);
      const sum = e.drivers.reduce((s, d) => s + d.contribution, 0);
      expect(e.logOdds - e.baseLogOdds).toBeCloseTo(sum, 12);
      expect(1 / (1 + Math.exp(-e.logOdds))).toBeCloseTo(c?.probability ?? -1, 5);
      const sizes = e.drivers.map((d) => Math.abs(d.contribution));
      expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    }
  });
});

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** The committed bundle with its explainer file changed by `edit`, the manifest's sha256 updated to match (so only the later checks can refuse it). */
function withExplainer(edit: (f: ExplainerFile) => void, editEntry: (e: Record<string, unknown>) => void = () => {}): RawBundle {
  const f = JSON.parse(committed.explainerJson ?? 'null') as ExplainerFile;
  edit(f);
  const explainerJson = JSON.stringify(f);
  const m = JSON.parse(committed.manifestJson) as Record<string, Record<string, unknown>>;
  (m['explainer'] as Record<string, unknown>)['sha256'] = sha(explainerJson);
  editEntry(m['explainer'] as Record<string, unknown>);
  return { ...committed, origin: 'edited-bundle', manifestJson: JSON.stringify(m), explainerJson };
}

function refusal(raw: RawBundle): string {
  try {
    explainerOf(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(BundleError);
    return (err as BundleError).message;
  }
  throw new Error('verifyBundle accepted the bundle');
}

describe('what bundle verification refuses in the explainer', () => {
  it('accepts the committed one (control), and a manifest without explainer loads without explanations', () => {
    expect(explainerOf(committed)?.report).toMatchObject({ trees: 462, referenceCount: 240, tolerance: manifest.explainer?.tolerance });
    const m = JSON.parse(committed.manifestJson) as Record<string, unknown>;
    delete m['explainer'];
    expect(explainerOf({ ...committed, manifestJson: JSON.stringify(m), explainerJson: null })).toBeNull();
  });

  it('ChurnModel.create refuses a tampered explainer once the ONNX model passed its parity replay, and serves a good one', async () => {
    const tampered = withExplainer((f) => {
      const t = f.trees[0] as TreeJson;
      t.leaf[t.left.indexOf(-1)] = (t.leaf[t.left.indexOf(-1)] as number) - 0.02;
    });
    const err = await ChurnModel.create(verifyBundle(tampered)).then(
      async (model) => {
        await model.release();
        return new Error('the model was created');
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BundleError);
    expect((err as BundleError).message).toMatch(/^explainer check failed for explainer\.json in edited-bundle: reference case 0 \(parity case 0\), /);
    const model = await ChurnModel.create(verifyBundle(committed));
    try {
      expect(model.explainer?.driverCount).toBe(20);
      expect(model.parity?.cases).toBe(2400);
    } finally {
      await model.release();
    }
  });

  it('refuses a file whose bytes are not the ones the manifest hashed', () => {
    expect(refusal({ ...committed, origin: 'edited-bundle', explainerJson: `${committed.explainerJson}\n` })).toMatch(
      /^explainer\.json in edited-bundle has sha256 [0-9a-f]{64}, but the manifest says [0-9a-f]{64}$/,
    );
  });

  it('refuses a leaf changed in a tree, naming the first reference case and contribution that no longer match', () => {
    const raw = withExplainer((f) => {
      const t = f.trees[5] as TreeJson;
      const leaf = t.left.findIndex((l) => l === -1);
      t.leaf[leaf] = (t.leaf[leaf] as number) + 0.01;
    });
    expect(refusal(raw)).toMatch(
      /^explainer check failed for explainer\.json in edited-bundle: reference case \d+ \(parity case \d+\), (feature \d+ \(.+\)|the bias): recomputed from the trees \S+, xgboost's \S+ \(\|Δ\| \S+ > tolerance 0\.0001\)$/,
    );
  });

  it("refuses reference contributions that are not the trees' (one value off by twice the tolerance)", () => {
    const raw = withExplainer((f) => {
      const row = f.reference.contributions[7] as number[];
      row[7] = (row[7] as number) + 2e-4;
    });
    expect(refusal(raw)).toMatch(/reference case 7 \(parity case 70\), feature 7 \(tenure\): recomputed from the trees \S+, xgboost's \S+ \(\|Δ\| \S+ > tolerance 0\.0001\)$/);
  });

  it('refuses trees and references that agree with each other but not with the model (sigmoid of the sum against the parity probability)', () => {
    const raw = withExplainer((f) => {
      f.baseMargin += 0.01;
      for (const row of f.reference.contributions) row[row.length - 1] = (row[row.length - 1] as number) + 0.01;
    });
    expect(refusal(raw)).toMatch(
      /^explainer check failed for explainer\.json in edited-bundle: reference case 0 \(parity case 0\): sigmoid of its contributions is \S+, but the parity probability is \S+ \(\|Δp\| \S+ > 0\.00001\): the trees are not the model's$/,
    );
  });

  it('refuses a file that does not fit its bundle or its own format, naming each problem', () => {
    // The manifest agreeing with itself (params.n_rounds too: verifyBundle compares the two): the file is what differs.
    const fewer = withExplainer(() => {}, (e) => (e['trees'] = 461));
    const manifest = JSON.parse(fewer.manifestJson) as { params: Record<string, string> };
    manifest.params['n_rounds'] = '461';
    expect(refusal({ ...fewer, manifestJson: JSON.stringify(manifest) })).toBe('explainer.json in edited-bundle does not fit its bundle: 462 trees, but the manifest says 461');
    expect(refusal(withExplainer(() => {}, (e) => (e['referenceCount'] = 2400)))).toContain('240 reference cases, but the manifest says 2400');
    const wider = (f: ExplainerFile) => {
      f.featureCount = 47;
      for (const row of f.reference.contributions) row.splice(46, 0, 0);
    };
    expect(refusal(withExplainer(wider))).toContain('featureCount 47, but the feature spec has 46 features');
    expect(refusal(withExplainer((f) => (f.reference.parityCases[3] = 2400)))).toContain('reference parity case 2400, but parity.json has 2400 cases');
    const format = refusal(
      withExplainer((f) => {
        (f.trees[0] as TreeJson).left[0] = 9;
        (f.trees[1] as TreeJson).feature[0] = 46;
        (f.trees[2] as TreeJson).cover.pop();
        (f.reference.contributions[0] as number[]).pop();
      }),
    );
    expect(format).toMatch(/^explainer\.json in edited-bundle does not match the explainer format: /);
    expect(format).toContain("trees.0.left.0: node 0's left child is 9; must be a node after it, below 7");
    expect(format).toContain('trees.1.feature.0: node 0 splits on feature 46; must be from 0 to 45 (featureCount 46)');
    expect(format).toContain('trees.2.cover: has 6 entries, but left has 7 (one per node)');
    expect(format).toContain('reference.contributions.0: has 46 values; must have featureCount + 1 = 47 (one per feature, then the bias)');
  });

  it('refuses a tree whose node is reached twice or never, and a split with no cover', () => {
    const shared = tree([[0, 0.5, 1, 2, 10], [1, 1, 3, 4, 4], [1, 1, 3, 4, 6], [0.1, 1], [0.2, 3]]);
    expect(explainerFileSchema.shape.trees.element.safeParse(shared).success).toBe(true); // the per-tree shape; the refinement is the file's
    const issues = (t: TreeJson) => {
      const r = explainerFileSchema.safeParse({ ...file, trees: [t] });
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues(shared)).toContain('trees.0.left: node 3 is the child of 2 nodes; every node but the root must be the child of exactly one');
    expect(issues(tree([[0, 0.5, 2, 3, 10], [0.1, 1], [0.2, 3], [0.3, 7]]))).toContain('trees.0.left: node 1 is the child of 0 nodes; every node but the root must be the child of exactly one');
    expect(issues(tree([[0, 0.5, 1, 2, 0], [0.1, 0], [0.2, 0]]))).toContain("trees.0.cover.0: node 0 splits with cover 0; an internal node's cover must be > 0");
    expect(issues(tree([[0, 0.5, 1, -1, 10], [0.1, 1]]))).toContain('trees.0.left.0: node 0 is half a leaf: left 1, right -1, feature 0 (a leaf has -1 for all three)');
  });
});
