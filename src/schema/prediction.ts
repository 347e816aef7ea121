/**
 * Prediction, RiskLevel, and the predict / predictBatch mutations that return them.
 */
import { GatewayError } from '../errors.js';
import type { CustomerRequest, Prediction } from '../prediction.js';
import { builder } from './builder.js';
import { CustomerInput, customerFromInput } from './customer-input.js';
import { badUserInput, gatewayFailure, type InputIssue } from './errors.js';
import type { GraphQLContext } from './builder.js';

export const RiskLevel = builder.enumType('RiskLevel', {
  description:
    'Risk band of a churn probability p, from the model bundle\'s riskBands (see ModelInfo.riskBands): ' +
    'LOW when p < mediumFrom; MEDIUM when mediumFrom ≤ p < threshold; HIGH when p ≥ threshold (exactly when willChurn is true).',
  values: {
    LOW: { description: 'p < riskBands.mediumFrom.' },
    MEDIUM: { description: 'riskBands.mediumFrom ≤ p < threshold.' },
    HIGH: { description: 'p ≥ threshold: the model predicts churn.' },
  },
});

export const PredictionType = builder.objectRef<Prediction>('Prediction').implement({
  description: 'The churn prediction for one customer.',
  fields: (t) => ({
    customerId: t.exposeString('customerId', { nullable: true, description: 'The customerId sent with the customer, if any.' }),
    churnProbability: t.exposeFloat('churnProbability', { description: 'Probability that the customer churns, from 0 to 1.' }),
    willChurn: t.exposeBoolean('willChurn', { description: 'churnProbability ≥ threshold.' }),
    riskLevel: t.field({ type: RiskLevel, resolve: (p) => p.riskLevel, description: 'Risk band; see RiskLevel.' }),
    threshold: t.exposeFloat('threshold', { description: 'Decision threshold of the model that computed this prediction, chosen on validation data at training time.' }),
    modelVersion: t.exposeString('modelVersion', { description: 'Version of the model that computed this prediction (registry version, or run-<id> when unregistered).' }),
  }),
});

async function score(ctx: GraphQLContext, customers: CustomerRequest[]): Promise<Prediction[]> {
  ctx.request.rows = customers.length;
  try {
    const predictions = await ctx.predictor.predict(customers);
    ctx.request.modelVersion = predictions[0]?.modelVersion ?? ctx.request.modelVersion;
    return predictions;
  } catch (err) {
    if (err instanceof GatewayError) {
      ctx.request.log.error({ err, code: err.code }, 'prediction failed');
      throw gatewayFailure(err, ctx.request.id);
    }
    throw err;
  }
}

builder.mutationField('predict', (t) =>
  t.field({
    type: PredictionType,
    description: 'Predicts churn for one customer.',
    args: { customer: t.arg({ type: CustomerInput, required: true, description: 'The customer to score.' }) },
    resolve: async (_root, { customer }, ctx) => {
      const issues: InputIssue[] = [];
      const request = customerFromInput(customer, ['customer'], issues);
      if (issues.length > 0) throw badUserInput(issues);
      const [prediction] = await score(ctx, [request]);
      return prediction as Prediction;
    },
  }),
);

builder.mutationField('predictBatch', (t) =>
  t.field({
    type: [PredictionType],
    description:
      'Predicts churn for many customers with one model; results come back in input order. If any row is invalid the whole ' +
      'batch is rejected and every bad row index and field is named. At most MAX_BATCH rows (default 10,000).',
    args: { customers: t.arg({ type: [CustomerInput], required: true, description: 'The customers to score.' }) },
    resolve: async (_root, { customers }, ctx) => {
      if (customers.length > ctx.maxBatch) {
        throw badUserInput([{ path: ['customers'], message: `has ${customers.length} rows; at most ${ctx.maxBatch} are allowed per request (MAX_BATCH)` }]);
      }
      const issues: InputIssue[] = [];
      const requests = customers.map((c, i) => customerFromInput(c, ['customers', i], issues));
      if (issues.length > 0) throw badUserInput(issues);
      return score(ctx, requests);
    },
  }),
);
