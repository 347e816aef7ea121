/**
 * Turns customers into the model's float32 input, driven only by the bundle's feature
 * spec. Each row is encoded on its own, so a customer gets the same vector alone or in
 * a batch (the bug of the old prototype was one-hot encoding that depended on the batch).
 */
import type { EncodedFeature, FeatureSpec } from '../bundle/manifest.js';
import { BundleError } from '../errors.js';

/** A customer as the encoder reads it: data set column → value. */
export type EncoderRow = Readonly<Record<string, string | number | null | undefined>>;

type Step = (row: EncoderRow) => number;

export interface FeatureEncoder {
  /** Number of features per row (the ONNX input's second dimension). */
  readonly width: number;
  readonly names: readonly string[];
  /** Writes `rows` into `out` from row `offset` on; `out` holds at least (offset + rows.length) × width values. */
  encodeInto(rows: readonly EncoderRow[], out: Float32Array, offset?: number): void;
  encode(rows: readonly EncoderRow[]): Float32Array;
}

function numberOf(row: EncoderRow, column: string, nullAs: number | undefined, feature: string): number {
  const v = row[column];
  if (typeof v === 'number') return v;
  if (v === null && nullAs !== undefined) return nullAs;
  // Unreachable for validated input: the contract check guarantees every column is present.
  throw new TypeError(`feature ${feature}: column ${column} is ${v === null ? 'null' : typeof v}, expected a number`);
}

function compileStep(f: EncodedFeature): Step {
  switch (f.transform) {
    case 'identity':
      return (row) => numberOf(row, f.column, f.nullAs, f.name);
    case 'onehot': {
      const { column, value } = f;
      return (row) => (String(row[column]) === value ? 1 : 0);
    }
    case 'ratio':
      return (row) => {
        const d = numberOf(row, f.denominator, undefined, f.name);
        return d === 0 ? f.zeroDenominatorAs : numberOf(row, f.numerator, f.nullAs, f.name) / d;
      };
  }
}

export function featureColumns(f: EncodedFeature): string[] {
  return f.transform === 'ratio' ? [f.numerator, f.denominator] : [f.column];
}

export function compileEncoder(spec: FeatureSpec): FeatureEncoder {
  const known = new Set(spec.columns.map((c) => c.name));
  for (const f of spec.features) {
    const missing = featureColumns(f).filter((c) => !known.has(c));
    if (missing.length > 0) throw new BundleError(`feature ${f.name} reads unknown column(s) ${missing.join(', ')}`);
  }
  const steps = spec.features.map(compileStep);
  const width = steps.length;
  const encodeInto = (rows: readonly EncoderRow[], out: Float32Array, offset = 0): void => {
    let k = offset * width;
    for (const row of rows) {
      for (let j = 0; j < width; j++) out[k++] = (steps[j] as Step)(row);
    }
  };
  return {
    width,
    names: spec.features.map((f) => f.name),
    encodeInto,
    encode(rows) {
      const out = new Float32Array(rows.length * width);
      encodeInto(rows, out);
      return out;
    },
  };
}
