/**
 * Turns customers into the model's float32 input, driven only by the bundle's feature
 * spec. Each row is encoded on its own, so a customer gets the same vector alone or in
 * a batch (the bug of the old prototype was one-hot encoding that depended on the batch).
 */
import type { EncodedFeature, FeatureSpec } from '../bundle/manifest.js';
import { BundleError } from '../errors.js';

/** A customer as the encoder reads it: data set column → value. */
export type EncoderRow = Readonly<Record<string, string | number | null | undefined>>;

export interface FeatureEncoder {
  /** Number of features per row (the ONNX input's second dimension). */
  readonly width: number;
  readonly names: readonly string[];
  /** Writes `rows` into `out`, which holds at least rows.length × width values. */
  encodeInto(rows: readonly EncoderRow[], out: Float32Array): void;
  encode(rows: readonly EncoderRow[]): Float32Array;
}

/** The slow path of a numeric read, outside the generated code: null → nullAs, else a TypeError. */
const numberOf: NumberOf = (v, column, nullAs, feature) => {
  if (typeof v === 'number') return v;
  if (v === null && nullAs !== undefined) return nullAs;
  // Unreachable for validated input: the contract check guarantees every column is present.
  throw new TypeError(`feature ${feature}: column ${column} is ${v === null ? 'null' : typeof v}, expected a number`);
};

type Kernel = (rows: readonly EncoderRow[], out: Float32Array, k: number) => void;
type NumberOf = (v: unknown, column: string, nullAs: number | undefined, feature: string) => number;
type GeneratedKernel = (rows: readonly EncoderRow[], out: Float32Array, k: number, numberOf: NumberOf, c: readonly unknown[]) => void;

/**
 * Compiles the spec into one straight-line function per bundle: property reads by literal
 * name (monomorphic inline caches instead of a megamorphic keyed load per feature), no
 * call per feature. Names and values enter the source only as JSON string literals; every
 * other spec value (numbers, feature names for messages) is read from the constant array `c`.
 */
function compileKernel(features: readonly EncodedFeature[]): Kernel {
  const c: unknown[] = [];
  const constant = (v: unknown): string => `c[${c.push(v) - 1}]`;
  const read = (column: string): string => `row[${JSON.stringify(column)}]`;
  const num = (column: string, nullAs: number | undefined, feature: string): string =>
    `((v = ${read(column)}), typeof v === "number" ? v : numberOf(v, ${constant(column)}, ${constant(nullAs)}, ${constant(feature)}))`;
  const lines = features.map((f) => {
    switch (f.transform) {
      case 'identity':
        return `out[k++] = ${num(f.column, f.nullAs, f.name)};`;
      case 'onehot': {
        const value = JSON.stringify(f.value);
        // String(v) === value, without the conversion when v is already a string.
        return `v = ${read(f.column)}; out[k++] = (typeof v === "string" ? v === ${value} : String(v) === ${value}) ? 1 : 0;`;
      }
      case 'ratio':
        return `d = ${num(f.denominator, undefined, f.name)}; out[k++] = d === 0 ? ${constant(f.zeroDenominatorAs)} : ${num(f.numerator, f.nullAs, f.name)} / d;`;
    }
  });
  const source = `"use strict"; let v, d; for (let i = 0; i < rows.length; i++) { const row = rows[i];\n${lines.join('\n')}\n}`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated on purpose (above): spec strings enter only as JSON literals
  const kernel = new Function('rows', 'out', 'k', 'numberOf', 'c', source) as GeneratedKernel;
  return (rows, out, k) => kernel(rows, out, k, numberOf, c);
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
  const kernel = compileKernel(spec.features);
  const width = spec.features.length;
  const encodeInto = (rows: readonly EncoderRow[], out: Float32Array): void => kernel(rows, out, 0);
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
