/** TrainingRangeNote: GraphQL's form of a numeric input outside its training range (model/training-range.ts). */
import type { CustomerRecord } from '../contract.js';
import { graphqlNaming } from '../customer-rules.js';
import type { ChurnModel } from '../model/churn-model.js';
import { outsideTrainingRange } from '../model/training-range.js';
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
    observedMin: t.exposeFloat('observedMin', { description: 'Smallest value of the column in the training data (ModelInfo.features.observedMin of the model that computed the prediction).' }),
    observedMax: t.exposeFloat('observedMax', { description: 'Largest value of the column in the training data (ModelInfo.features.observedMax of the model that computed the prediction).' }),
  }),
});

/** The notes for a row, named as CustomerInput's fields (the model that scored it decides the ranges). */
export function trainingRangeNotes(model: ChurnModel, record: CustomerRecord): TrainingRangeNoteShape[] {
  return outsideTrainingRange(model.manifest, record).map(({ column, value, observedMin, observedMax }) => ({ field: graphqlNaming.field(column), value, observedMin, observedMax }));
}
