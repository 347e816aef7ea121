/**
 * The Pothos schema builder and the GraphQL context type. Defines no types itself.
 */
import SchemaBuilder from '@pothos/core';
import type { Predictor } from '../prediction.js';
import type { RequestState } from '../request-state.js';
import type { ModelAdmin } from '../model/model-admin.js';

export interface GraphQLContext {
  readonly predictor: Predictor;
  readonly admin: ModelAdmin;
  readonly maxBatch: number;
  readonly request: RequestState;
}

export interface GatewayTypes {
  Context: GraphQLContext;
  DefaultFieldNullability: false;
}

export const builder = new SchemaBuilder<GatewayTypes>({ defaultFieldNullability: false });

builder.queryType({ description: 'Read-only questions about the gateway and its model.' });
builder.mutationType({ description: 'Predictions (mutations because each is a logged, metered act of scoring) and model administration.' });
