/**
 * Numeric inputs outside what the model saw in training. The contract accepts tenure up to
 * 1,200 months and charges up to float32's limit, far beyond the data set; the model still
 * answers, by extrapolation, and the caller should know. GraphQL answers it as
 * Prediction.outsideTrainingRange (schema/training-range.ts), REST as outside_training_range
 * (rest/predict.ts); both read this.
 */
import type { Manifest } from '../bundle/manifest.js';
import type { ColumnName, CustomerRecord } from '../contract.js';

export interface OutsideTrainingRange {
  readonly column: ColumnName;
  readonly value: number;
  readonly observedMin: number;
  readonly observedMax: number;
}

interface Range {
  readonly column: ColumnName;
  readonly observedMin: number;
  readonly observedMax: number;
}

/** The manifest's columns that record a training range, in data set order, kept per manifest (REST asks on every answer). */
const rangesByManifest = new WeakMap<Manifest, readonly Range[]>();

function rangesOf(manifest: Manifest): readonly Range[] {
  let ranges = rangesByManifest.get(manifest);
  if (!ranges) {
    ranges = manifest.featureSpec.columns.flatMap(({ name, observedMin, observedMax }) =>
      // The bundle's columns are the contract's (model/contract-check.ts refuses any other at load).
      observedMin === undefined || observedMax === undefined ? [] : [{ column: name as ColumnName, observedMin, observedMax }],
    );
    rangesByManifest.set(manifest, ranges);
  }
  return ranges;
}

const NONE: readonly OutsideTrainingRange[] = [];

/**
 * The columns of `manifest` (the one of the model that scored `record`) that record a
 * training range and whose value in `record` lies outside it, in data set order. A value
 * equal to an edge is inside; a null (TotalCharges: not yet billed) has no value to compare
 * and is never listed.
 */
export function outsideTrainingRange(manifest: Manifest, record: CustomerRecord): readonly OutsideTrainingRange[] {
  let notes: OutsideTrainingRange[] | null = null;
  const values: Readonly<Record<string, unknown>> = record;
  for (const range of rangesOf(manifest)) {
    const value = values[range.column];
    if (typeof value !== 'number' || (value >= range.observedMin && value <= range.observedMax)) continue;
    (notes ??= []).push({ ...range, value });
  }
  return notes ?? NONE;
}
