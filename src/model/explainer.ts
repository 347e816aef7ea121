/**
 * Risk drivers: why the model scores a customer as it does. Exact SHAP values (path-dependent
 * TreeSHAP, Lundberg et al. 2018, Algorithm 2: what xgboost's predict(..., pred_contribs=True)
 * computes) from the booster's trees in the bundle's explainer.json (docs/model-bundle.md),
 * grouped by input field through the manifest's featureSpec. The probability and the decision
 * stay onnxruntime's: an explanation never decides anything.
 *
 * A bundle's explainer is accepted only once it recomputes xgboost's own contributions for the
 * reference cases it carries (within the manifest's explainer.tolerance) and, for each of them,
 * sigmoid(Σ contributions) is the parity case's probability (within the parity tolerance).
 */
import { z } from 'zod';
import type { FeatureSpec, Manifest, ParityFile } from '../bundle/manifest.js';
import { BundleError, describeError } from '../errors.js';
import { compileEncoder, featureColumns, type EncoderRow, type FeatureEncoder } from './features.js';

const treeSchema = z.object({
  left: z.array(z.number().int()).min(1),
  right: z.array(z.number().int()),
  defaultLeft: z.array(z.boolean()),
  feature: z.array(z.number().int()),
  threshold: z.array(z.number()),
  leaf: z.array(z.number()),
  cover: z.array(z.number().min(0)),
});
type TreeJson = z.infer<typeof treeSchema>;

const TREE_ARRAYS = ['right', 'defaultLeft', 'feature', 'threshold', 'leaf', 'cover'] as const;
/** Problems listed per refused file: a file wrong throughout would otherwise give a message of every node. */
const MAX_TREE_ISSUES = 10;

/** The problems of one tree: array lengths, child indexes, features, covers; each node reached once from the root. */
function treeIssues(tree: TreeJson, featureCount: number): { path: (string | number)[]; message: string }[] {
  const n = tree.left.length;
  const issues: { path: (string | number)[]; message: string }[] = [];
  for (const key of TREE_ARRAYS) {
    if (tree[key].length !== n) issues.push({ path: [key], message: `has ${tree[key].length} entries, but left has ${n} (one per node)` });
  }
  if (issues.length > 0) return issues;
  const parents = new Int32Array(n);
  for (let i = 0; i < n && issues.length < MAX_TREE_ISSUES; i++) {
    const [l, r, f] = [tree.left[i] as number, tree.right[i] as number, tree.feature[i] as number];
    if (l === -1 || r === -1) {
      if (l !== -1 || r !== -1 || f !== -1) issues.push({ path: ['left', i], message: `node ${i} is half a leaf: left ${l}, right ${r}, feature ${f} (a leaf has -1 for all three)` });
      continue;
    }
    // xgboost numbers a node's children after the node: the check also rules out cycles.
    for (const [side, child] of [['left', l], ['right', r]] as const) {
      if (child <= i || child >= n) issues.push({ path: [side, i], message: `node ${i}'s ${side} child is ${child}; must be a node after it, below ${n}` });
      else parents[child] = (parents[child] as number) + 1;
    }
    if (l === r) issues.push({ path: ['right', i], message: `node ${i} has the same node ${l} on both sides` });
    if (f < 0 || f >= featureCount) issues.push({ path: ['feature', i], message: `node ${i} splits on feature ${f}; must be from 0 to ${featureCount - 1} (featureCount ${featureCount})` });
    if (!((tree.cover[i] as number) > 0)) issues.push({ path: ['cover', i], message: `node ${i} splits with cover ${tree.cover[i]}; an internal node's cover must be > 0` });
  }
  for (let i = 1; i < n && issues.length < MAX_TREE_ISSUES; i++) {
    if (parents[i] !== 1) issues.push({ path: ['left'], message: `node ${i} is the child of ${parents[i]} nodes; every node but the root must be the child of exactly one` });
  }
  return issues;
}

export const explainerFileSchema = z
  .object({
    formatVersion: z.literal(1),
    method: z.string().min(1),
    featureCount: z.number().int().min(1),
    baseMargin: z.number(),
    trees: z.array(treeSchema).min(1),
    reference: z.object({
      parityCases: z.array(z.number().int().min(0)).min(1),
      contributions: z.array(z.array(z.number())),
    }),
  })
  .superRefine((file, ctx) => {
    let listed = 0;
    file.trees.forEach((tree, t) => {
      for (const issue of listed < MAX_TREE_ISSUES ? treeIssues(tree, file.featureCount) : []) {
        if (listed++ < MAX_TREE_ISSUES) ctx.addIssue({ code: 'custom', path: ['trees', t, ...issue.path], message: issue.message });
      }
    });
    const { parityCases, contributions } = file.reference;
    if (contributions.length !== parityCases.length) {
      ctx.addIssue({ code: 'custom', path: ['reference', 'contributions'], message: `has ${contributions.length} rows, but parityCases names ${parityCases.length} cases` });
    }
    const row = contributions.findIndex((r) => r.length !== file.featureCount + 1);
    if (row >= 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['reference', 'contributions', row],
        message: `has ${contributions[row]?.length} values; must have featureCount + 1 = ${file.featureCount + 1} (one per feature, then the bias)`,
      });
    }
  });
export type ExplainerFile = z.infer<typeof explainerFileSchema>;

/** One tree, flattened for the walk. */
interface Tree {
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly defaultLeft: Uint8Array;
  readonly feature: Int32Array;
  /** float32, as xgboost compares. */
  readonly threshold: Float32Array;
  readonly leaf: Float64Array;
  readonly cover: Float64Array;
  readonly depth: number;
  /** The internal nodes, in node order: bit j of a row's pattern is whether it goes left at splits[j]. */
  readonly splits: Int32Array;
  /** The distinct features split on, and (when the tree has at most TABLE_MAX_SPLITS splits) their contributions per pattern. */
  readonly features: Int32Array;
  table: Float64Array | null;
}

/**
 * A tree's SHAP values depend on the row only through the side it takes at each split, so a
 * tree with at most this many splits has them computed once per pattern at load (2^splits
 * patterns; 8 for today's depth-2 trees) and a row adds its pattern's row of the table: the
 * same numbers as walking the tree for the row, ~30 times faster. Deeper trees are walked.
 */
const TABLE_MAX_SPLITS = 10;

function compileTree(json: TreeJson): { tree: Tree; mean: number } {
  const n = json.left.length;
  const left = Int32Array.from(json.left);
  const right = Int32Array.from(json.right);
  const cover = Float64Array.from(json.cover);
  const leaf = Float64Array.from(json.leaf);
  // Children come after their parent (checked by the schema): means from the last node back, depths forward.
  const mean = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    const l = left[i] as number;
    const r = right[i] as number;
    mean[i] = l === -1 ? (leaf[i] as number) : ((mean[l] as number) * (cover[l] as number) + (mean[r] as number) * (cover[r] as number)) / (cover[i] as number);
  }
  const depths = new Int32Array(n);
  let depth = 0;
  const splits: number[] = [];
  for (let i = 0; i < n; i++) {
    const l = left[i] as number;
    if (l === -1) continue;
    splits.push(i);
    depths[l] = depths[right[i] as number] = (depths[i] as number) + 1;
    depth = Math.max(depth, (depths[i] as number) + 1);
  }
  const tree: Tree = {
    left,
    right,
    defaultLeft: Uint8Array.from(json.defaultLeft, (b) => (b ? 1 : 0)),
    feature: Int32Array.from(json.feature),
    threshold: Float32Array.from(json.threshold),
    leaf,
    cover,
    depth,
    splits: Int32Array.from(splits),
    features: Int32Array.from(new Set(splits.map((i) => json.feature[i] as number))),
    table: null,
  };
  return { tree, mean: mean[0] as number };
}

/** Which side the row at `x[offset…]` takes at each split of `t`, as `goesLeft[node]` (1: left). */
function patternOf(t: Tree, x: Float32Array, offset: number, goesLeft: Uint8Array): void {
  for (let j = 0; j < t.splits.length; j++) {
    const node = t.splits[j] as number;
    const v = x[offset + (t.feature[node] as number)] as number;
    // xgboost's rule: left when x < threshold in float32; a missing value (NaN) goes the default way.
    const left = Number.isNaN(v) ? t.defaultLeft[node] === 1 : v < (t.threshold[node] as number);
    goesLeft[node] = left ? 1 : 0;
  }
}

/**
 * The path of Algorithm 2, one segment per recursion level in one buffer (xgboost's layout):
 * a call at unique depth d works on the d + 1 elements from `base`, its children from base + d + 1.
 */
class PathBuffer {
  readonly feature: Int32Array;
  readonly zero: Float64Array;
  readonly one: Float64Array;
  readonly weight: Float64Array;

  constructor(maxDepth: number) {
    const d = maxDepth + 2;
    const size = ((d + 1) * (d + 2)) / 2 + d + 1;
    this.feature = new Int32Array(size);
    this.zero = new Float64Array(size);
    this.one = new Float64Array(size);
    this.weight = new Float64Array(size);
  }

  extend(base: number, depth: number, zero: number, one: number, feature: number): void {
    const w = this.weight;
    this.feature[base + depth] = feature;
    this.zero[base + depth] = zero;
    this.one[base + depth] = one;
    w[base + depth] = depth === 0 ? 1 : 0;
    for (let i = depth - 1; i >= 0; i--) {
      w[base + i + 1] = (w[base + i + 1] as number) + (one * (w[base + i] as number) * (i + 1)) / (depth + 1);
      w[base + i] = (zero * (w[base + i] as number) * (depth - i)) / (depth + 1);
    }
  }

  unwind(base: number, depth: number, index: number): void {
    const w = this.weight;
    const one = this.one[base + index] as number;
    const zero = this.zero[base + index] as number;
    let next = w[base + depth] as number;
    for (let i = depth - 1; i >= 0; i--) {
      if (one !== 0) {
        const tmp = w[base + i] as number;
        w[base + i] = (next * (depth + 1)) / ((i + 1) * one);
        next = tmp - ((w[base + i] as number) * zero * (depth - i)) / (depth + 1);
      } else {
        w[base + i] = ((w[base + i] as number) * (depth + 1)) / (zero * (depth - i));
      }
    }
    for (let i = index; i < depth; i++) {
      this.feature[base + i] = this.feature[base + i + 1] as number;
      this.zero[base + i] = this.zero[base + i + 1] as number;
      this.one[base + i] = this.one[base + i + 1] as number;
    }
  }

  /** The total weight of the path with element `index` unwound, without unwinding it. */
  unwoundSum(base: number, depth: number, index: number): number {
    const w = this.weight;
    const one = this.one[base + index] as number;
    const zero = this.zero[base + index] as number;
    let next = w[base + depth] as number;
    let total = 0;
    for (let i = depth - 1; i >= 0; i--) {
      if (one !== 0) {
        const tmp = (next * (depth + 1)) / ((i + 1) * one);
        total += tmp;
        next = (w[base + i] as number) - (tmp * zero * (depth - i)) / (depth + 1);
      } else if (zero !== 0) {
        total += (w[base + i] as number) / zero / ((depth - i) / (depth + 1));
      }
    }
    return total;
  }

  /** Element by element: copyWithin's call costs more than these few elements (it made a row ~25 times slower). */
  copy(from: number, to: number, count: number): void {
    for (let i = 0; i < count; i++) {
      this.feature[to + i] = this.feature[from + i] as number;
      this.zero[to + i] = this.zero[from + i] as number;
      this.one[to + i] = this.one[from + i] as number;
      this.weight[to + i] = this.weight[from + i] as number;
    }
  }
}

/** Algorithm 2's RECURSE for the row whose side at each split is `goesLeft[node]`. */
function treeShap(t: Tree, goesLeft: Uint8Array, phi: Float64Array, p: PathBuffer, node: number, depth: number, parentBase: number, zero: number, one: number, feature: number): void {
  const base = parentBase + depth + 1;
  p.copy(parentBase, base, depth + 1);
  p.extend(base, depth, zero, one, feature);
  const left = t.left[node] as number;
  if (left === -1) {
    const value = t.leaf[node] as number;
    for (let i = 1; i <= depth; i++) {
      const w = p.unwoundSum(base, depth, i);
      const f = p.feature[base + i] as number;
      phi[f] = (phi[f] as number) + w * ((p.one[base + i] as number) - (p.zero[base + i] as number)) * value;
    }
    return;
  }
  const right = t.right[node] as number;
  const split = t.feature[node] as number;
  const hot = goesLeft[node] === 1 ? left : right;
  const cold = hot === left ? right : left;
  const cover = t.cover[node] as number;
  let incomingZero = 1;
  let incomingOne = 1;
  // A feature already split on above: undo that split, to redo it here.
  let index = 0;
  while (index <= depth && p.feature[base + index] !== split) index++;
  if (index <= depth) {
    incomingZero = p.zero[base + index] as number;
    incomingOne = p.one[base + index] as number;
    p.unwind(base, depth, index);
    depth--;
  }
  treeShap(t, goesLeft, phi, p, hot, depth + 1, base, ((t.cover[hot] as number) / cover) * incomingZero, incomingOne, split);
  treeShap(t, goesLeft, phi, p, cold, depth + 1, base, ((t.cover[cold] as number) / cover) * incomingZero, 0, split);
}

/**
 * The tabled trees laid end to end for the row loop (one pass over a few flat arrays rather than
 * an object per tree: ~2 times faster): tree t's splits are splitStart[t] to splitStart[t + 1],
 * its features featureStart[t] to featureStart[t] + width[t], and its table's row for pattern p
 * starts at tableStart[t] + p × width[t].
 */
interface TableForest {
  readonly count: number;
  readonly splitStart: Int32Array;
  readonly splitFeature: Int32Array;
  readonly splitThreshold: Float32Array;
  readonly splitDefaultLeft: Uint8Array;
  readonly featureStart: Int32Array;
  readonly width: Int32Array;
  readonly features: Int32Array;
  readonly tableStart: Int32Array;
  readonly table: Float64Array;
}

function layOut(trees: readonly Tree[]): TableForest {
  const count = trees.length;
  const sizes = (f: (t: Tree) => number) => {
    const starts = new Int32Array(count + 1);
    trees.forEach((t, i) => (starts[i + 1] = (starts[i] as number) + f(t)));
    return starts;
  };
  const splitStart = sizes((t) => t.splits.length);
  const featureStart = sizes((t) => t.features.length);
  const tableStart = sizes((t) => t.table?.length ?? 0);
  const forest: TableForest = {
    count,
    splitStart,
    splitFeature: new Int32Array(splitStart[count] as number),
    splitThreshold: new Float32Array(splitStart[count] as number),
    splitDefaultLeft: new Uint8Array(splitStart[count] as number),
    featureStart,
    width: Int32Array.from(trees, (t) => t.features.length),
    features: new Int32Array(featureStart[count] as number),
    tableStart,
    table: new Float64Array(tableStart[count] as number),
  };
  trees.forEach((t, i) => {
    t.splits.forEach((node, j) => {
      const at = (splitStart[i] as number) + j;
      forest.splitFeature[at] = t.feature[node] as number;
      forest.splitThreshold[at] = t.threshold[node] as number;
      forest.splitDefaultLeft[at] = t.defaultLeft[node] as number;
    });
    forest.features.set(t.features, featureStart[i]);
    forest.table.set(t.table as Float64Array, tableStart[i]);
  });
  return forest;
}

/** The booster's trees, and xgboost's pred_contribs for one encoded row. */
export class TreeShap {
  /** Trees with a table (today all of them), and those walked row by row. */
  private readonly tabled: TableForest;
  private readonly walked: readonly Tree[];
  private readonly path: PathBuffer;
  private readonly goesLeft: Uint8Array;
  /** baseMargin plus every tree's cover-weighted mean: xgboost's bias column. */
  readonly bias: number;

  /** `tableMaxSplits`: see TABLE_MAX_SPLITS (tests set 0 to check the walk against the tables). */
  constructor(
    file: Pick<ExplainerFile, 'trees' | 'baseMargin'>,
    readonly featureCount: number,
    tableMaxSplits = TABLE_MAX_SPLITS,
  ) {
    const compiled = file.trees.map(compileTree);
    const trees = compiled.map((c) => c.tree);
    this.bias = compiled.reduce((sum, c) => sum + c.mean, file.baseMargin);
    this.path = new PathBuffer(Math.max(0, ...trees.map((t) => t.depth)));
    this.goesLeft = new Uint8Array(Math.max(...trees.map((t) => t.left.length)));
    const scratch = new Float64Array(featureCount);
    for (const t of trees) {
      const k = t.splits.length;
      if (k > tableMaxSplits) continue;
      const width = t.features.length;
      const table = new Float64Array((1 << k) * width);
      for (let pattern = 0; pattern < 1 << k; pattern++) {
        for (let j = 0; j < k; j++) this.goesLeft[t.splits[j] as number] = (pattern >> j) & 1;
        scratch.fill(0);
        treeShap(t, this.goesLeft, scratch, this.path, 0, 0, 0, 1, 1, -1);
        for (let f = 0; f < width; f++) table[pattern * width + f] = scratch[t.features[f] as number] as number;
      }
      t.table = table;
    }
    this.tabled = layOut(trees.filter((t) => t.table !== null));
    this.walked = trees.filter((t) => t.table === null);
  }

  /** featureCount contributions, then the bias: the row at `offset` (in rows) of `x`. */
  contributions(x: Float32Array, offset = 0): Float64Array {
    const phi = new Float64Array(this.featureCount + 1);
    const start = offset * this.featureCount;
    const f = this.tabled;
    for (let t = 0; t < f.count; t++) {
      const first = f.splitStart[t] as number;
      const end = f.splitStart[t + 1] as number;
      let pattern = 0;
      for (let j = first; j < end; j++) {
        const v = x[start + (f.splitFeature[j] as number)] as number;
        // xgboost's rule: left when x < threshold in float32; a missing value (NaN) goes the default way.
        if (v < (f.splitThreshold[j] as number) || (v !== v && f.splitDefaultLeft[j] === 1)) pattern |= 1 << (j - first);
      }
      const width = f.width[t] as number;
      const row = (f.tableStart[t] as number) + pattern * width;
      const features = f.featureStart[t] as number;
      for (let k = 0; k < width; k++) {
        const i = f.features[features + k] as number;
        phi[i] = (phi[i] as number) + (f.table[row + k] as number);
      }
    }
    for (const t of this.walked) {
      patternOf(t, x, start, this.goesLeft);
      treeShap(t, this.goesLeft, phi, this.path, 0, 0, 0, 1, 1, -1);
    }
    phi[this.featureCount] = this.bias;
    return phi;
  }
}

export interface RiskDriverShape {
  /** An input column (Contract), or a derived feature's name (TotalCharges/tenure). */
  readonly name: string;
  readonly fields: readonly string[];
  readonly contribution: number;
}

export interface ExplanationShape {
  readonly baseLogOdds: number;
  readonly logOdds: number;
  /** By |contribution| descending, ties by name in code point order (PaymentMethod before gender). */
  readonly drivers: readonly RiskDriverShape[];
}

interface DriverGroup {
  readonly name: string;
  readonly fields: readonly string[];
}

/**
 * Drivers from the feature spec: one-hot and identity features add into their column's driver; a
 * ratio is its own driver under its feature name, reading its numerator and denominator.
 */
export function driverGroups(spec: FeatureSpec): { groups: DriverGroup[]; driverOf: Int32Array } {
  const groups: DriverGroup[] = [];
  const byName = new Map<string, number>();
  const driverOf = new Int32Array(spec.features.length);
  spec.features.forEach((f, i) => {
    const name = f.transform === 'ratio' ? f.name : f.column;
    let g = byName.get(name);
    if (g !== undefined && f.transform === 'ratio') throw new BundleError(`feature ${f.name} (a ratio) has the name of another risk driver: each driver needs its own name`);
    if (g === undefined) {
      g = groups.push({ name, fields: featureColumns(f) }) - 1;
      byName.set(name, g);
    } else if (groups[g]?.fields.length !== 1) {
      throw new BundleError(`feature ${f.name} reads column ${name}, which is also the name of a ratio feature: each driver needs its own name`);
    }
    driverOf[i] = g;
  });
  return { groups, driverOf };
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

export interface ExplainerReport {
  readonly method: string;
  readonly trees: number;
  readonly referenceCount: number;
  readonly tolerance: number;
  /** Largest |Δ| between a recomputed reference contribution and xgboost's, in log-odds. */
  readonly maxAbsDiff: number;
  readonly fileSha256: string;
}

/** A verified explainer: the trees, the driver grouping and the encoder of one model. */
export class Explainer {
  private readonly groups: readonly DriverGroup[];
  private readonly driverOf: Int32Array;

  constructor(
    private readonly shap: TreeShap,
    private readonly encoder: FeatureEncoder,
    spec: FeatureSpec,
    readonly report: ExplainerReport,
  ) {
    ({ groups: this.groups, driverOf: this.driverOf } = driverGroups(spec));
  }

  /** How many drivers every explanation has. */
  get driverCount(): number {
    return this.groups.length;
  }

  /** The explanation of one customer (a record of the contract, as scored). */
  explain(row: EncoderRow): ExplanationShape {
    const phi = this.shap.contributions(this.encoder.encode([row]));
    const sums = new Float64Array(this.groups.length);
    for (let i = 0; i < this.driverOf.length; i++) {
      const g = this.driverOf[i] as number;
      sums[g] = (sums[g] as number) + (phi[i] as number);
    }
    const baseLogOdds = this.shap.bias;
    let logOdds = baseLogOdds;
    const drivers = this.groups.map((g, i): RiskDriverShape => {
      logOdds += sums[i] as number;
      return { name: g.name, fields: g.fields, contribution: sums[i] as number };
    });
    drivers.sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { baseLogOdds, logOdds, drivers };
  }
}


/**
 * Accepts a bundle's explainer (read, its sha256 checked and parsed by bundle/load.ts) only when
 * it fits the bundle and reproduces xgboost: every reference contribution within
 * explainer.tolerance, and sigmoid(Σ) of each reference case its parity probability within the
 * parity tolerance. Run once the model's contract, ONNX graph and parity have been accepted
 * (ChurnModel.create), so those faults are named as such rather than as an explainer mismatch.
 */
export function verifyExplainer(bundle: { readonly manifest: Manifest; readonly parity: ParityFile; readonly origin: string }, file: ExplainerFile): Explainer {
  const { manifest, parity, origin } = bundle;
  const entry = manifest.explainer;
  if (!entry) throw new BundleError(`the manifest in ${origin} names no explainer`);
  const where = `${entry.file} in ${origin}`;
  const { features } = manifest.featureSpec;
  const mismatch: string[] = [];
  if (file.featureCount !== features.length) mismatch.push(`featureCount ${file.featureCount}, but the feature spec has ${features.length} features`);
  if (file.trees.length !== entry.trees) mismatch.push(`${file.trees.length} trees, but the manifest says ${entry.trees}`);
  if (file.reference.parityCases.length !== entry.referenceCount) mismatch.push(`${file.reference.parityCases.length} reference cases, but the manifest says ${entry.referenceCount}`);
  const outside = file.reference.parityCases.find((c) => c >= parity.cases.length);
  if (outside !== undefined) mismatch.push(`reference parity case ${outside}, but ${manifest.parity.file} has ${parity.cases.length} cases`);
  if (mismatch.length > 0) throw new BundleError(`${where} does not fit its bundle: ${mismatch.join('; ')}`);

  const encoder = compileEncoder(manifest.featureSpec);
  const shap = new TreeShap(file, file.featureCount);
  const probabilityTolerance = Math.min(parity.tolerance, manifest.parity.tolerance);
  let maxAbsDiff = 0;
  file.reference.parityCases.forEach((c, k) => {
    const parityCase = parity.cases[c] as ParityFile['cases'][number];
    let got: Float64Array;
    try {
      got = shap.contributions(encoder.encode([parityCase.input]));
    } catch (err) {
      throw new BundleError(`${where}: parity case ${c} cannot be encoded for the explainer: ${describeError(err)}`, { cause: err });
    }
    const want = file.reference.contributions[k] as number[];
    for (let i = 0; i < got.length; i++) {
      const d = Math.abs((got[i] as number) - (want[i] as number));
      if (!(d <= entry.tolerance)) {
        const what = i === file.featureCount ? 'the bias' : `feature ${i} (${features[i]?.name})`;
        throw new BundleError(
          `explainer check failed for ${where}: reference case ${k} (parity case ${c}), ${what}: recomputed from the trees ${got[i]}, xgboost's ${want[i]} ` +
            `(|Δ| ${d} > tolerance ${entry.tolerance})`,
        );
      }
      maxAbsDiff = Math.max(maxAbsDiff, d);
    }
    const p = sigmoid(got.reduce((s, v) => s + v, 0));
    const dp = Math.abs(p - parityCase.probability);
    if (!(dp <= probabilityTolerance)) {
      throw new BundleError(
        `explainer check failed for ${where}: reference case ${k} (parity case ${c}): sigmoid of its contributions is ${p}, ` +
          `but the parity probability is ${parityCase.probability} (|Δp| ${dp} > ${probabilityTolerance}): the trees are not the model's`,
      );
    }
  });
  return new Explainer(shap, encoder, manifest.featureSpec, {
    method: file.method,
    trees: file.trees.length,
    referenceCount: file.reference.parityCases.length,
    tolerance: entry.tolerance,
    maxAbsDiff,
    fileSha256: entry.sha256,
  });
}
