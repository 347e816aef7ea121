/**
 * TrainingRangeNote: a numeric input outside what the model saw in training. The contract
 * accepts tenure up to 1,200 months and charges up to float32's limit, far beyond the data
 * set; the model still answers, by extrapolation, and the caller should know. Each input is
 * compared with its own column's range, the only ranges a bundle records: a combination of
 * in-range inputs the model never saw (TotalCharges/tenure of 8000 at tenure 1) is not noted,
 * and the schema, README.md and docs/ui.md say so rather than read an empty list as "inside".
 */
import type { ColumnName, CustomerRecord } from '../contract.js';
import { graphqlNaming } from '../customer-rules.js';
import type { ChurnModel } from '../model/churn-model.js';
import { builder } from './builder.js';

export interface TrainingRangeNoteShape {
  readonly field: string;
  readonly value: number;
  readonly observedMin: number;
  readonly observedMax: number;
}

export const TrainingRangeNote = builder.objectRef<TrainingRangeNoteShape>('TrainingRangeNote').implement({
  description: 'A numeric input outside the range of its column in the data the model was trained on.',
  fields: (t) => ({
    field: t.exposeString('field', { description: 'The CustomerInput field, e.g. tenure.' }),
    value: t.exposeFloat('value', { description: 'The value sent.' }),
    observedMin: t.exposeFloat('observedMin', {
      description:
        'Smallest value of the column in the training data (ModelInfo.features.observedMin of the model that computed the prediction; ' +
        'for a nullable column it includes the value a null is encoded as).',
    }),
    observedMax: t.exposeFloat('observedMax', { description: 'Largest value of the column in the training data (ModelInfo.features.observedMax of the model that computed the prediction).' }),
  }),
});

/**
 * The columns of `model`'s manifest that record a training range and whose value in `record`
 * lies outside it, in data set order. A null (TotalCharges: not yet billed) has no value to
 * compare and is never listed.
 */
export function outsideTrainingRange(model: ChurnModel, record: CustomerRecord): TrainingRangeNoteShape[] {
  const notes: TrainingRangeNoteShape[] = [];
  const values: Readonly<Record<string, unknown>> = record;
  for (const { name, observedMin, observedMax } of model.manifest.featureSpec.columns) {
    if (observedMin === undefined || observedMax === undefined) continue;
    const value = values[name];
    if (typeof value !== 'number' || (value >= observedMin && value <= observedMax)) continue;
    // The bundle's columns are the contract's (model/contract-check.ts refuses any other at load).
    notes.push({ field: graphqlNaming.field(name as ColumnName), value, observedMin, observedMax });
  }
  return notes;
}
