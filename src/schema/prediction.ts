/**
 * Prediction, RiskLevel, and the predict / predictBatch mutations that return them.
 */
import { forEachInChunks, handledInChunks } from '../chunked.js';
import { noteScored, stopIfAbandoned } from '../request-state.js';
import { GatewayError } from '../errors.js';
import type { CustomerRequest, Prediction } from '../prediction.js';
import { builder } from './builder.js';
import { CustomerInput, customerFromInput } from './customer-input.js';
import { badUserInput, gatewayFailure, type InputIssue } from './errors.js';
import { Explanation, driversTopProblems, explainAhead, explanationOf, inputRefusal } from './explanation.js';
import { TrainingRangeNote, outsideTrainingRange } from './training-range.js';
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
    modelRunId: t.string({
      description:
        'MLflow run that trained the model that computed this prediction (that model\'s ModelInfo.runId). A version number alone can ' +
        'name two models: the packaged bundle\'s version (from the registry training used) and the version MLflow resolves MODEL_URI ' +
        'to, which replaces it once MLflow answers, or versions of two registered models; the run names one.',
      // Computed only when selected: the scoring path does none of this work.
      resolve: (p) => p.model.lineage.runId,
    }),
    outsideTrainingRange: t.field({
      type: [TrainingRangeNote],
      description:
        'The numeric inputs outside the range of their column in the data the model was trained on (ModelInfo.features observedMin to ' +
        'observedMax, of the model that computed this prediction), in data set order; empty when every one is inside. The probability ' +
        'of such a customer is an extrapolation: treat it with caution. A null totalCharges (not yet billed) is never listed.',
      // Computed only when selected: the scoring path does none of this work.
      resolve: (p) => outsideTrainingRange(p.model, p.record),
    }),
    explanation: t.field({
      type: Explanation,
      nullable: true,
      description:
        "Why the model gives this customer this risk: its risk drivers (SHAP values in log-odds, by input field) from the model that " +
        'computed this prediction. Null when that model version carries no explainer (ModelInfo.explainer is null: versions trained ' +
        'before explainers were added to the bundle). Computed only when selected.',
      // Computed only when selected: the scoring path does none of this work.
      resolve: (p) => explanationOf(p),
    }),
  }),
});

/**
 * Counts `rows` against the request's MAX_BATCH, across all its fields: aliases cannot
 * multiply the limit. (Mutation fields run one after another, so the count is exact.)
 */
function reserveRows(ctx: GraphQLContext, rows: number, path: string): void {
  const before = ctx.request.rows ?? 0;
  if (before + rows > ctx.maxBatch) {
    const others = before > 0 ? ` (with the ${before} of this request's earlier fields, ${before + rows})` : '';
    throw badUserInput([{ path: [path], message: `has ${rows} ${rows === 1 ? 'row' : 'rows'}${others}; at most ${ctx.maxBatch} are allowed per request (MAX_BATCH)` }]);
  }
  ctx.request.rows = before + rows;
}

/**
 * The access line's modelVersion: every model that scored one of the request's fields, in the
 * order they did, comma-separated. Each field takes the model serving when it starts, so fields
 * on either side of a promotion (or a reloadModel field between them) are scored by two models,
 * and the line named only the last. (Versions are digits or run-<id>: never a comma.)
 */
function withVersion(logged: string | null, version: string): string {
  if (logged === null || logged === version) return version;
  return logged.split(',').includes(version) ? logged : `${logged},${version}`;
}

async function score(ctx: GraphQLContext, customers: CustomerRequest[]): Promise<Prediction[]> {
  stopIfAbandoned(ctx.request, 'scoring');
  try {
    const predictions = await ctx.predictor.predict(customers);
    noteScored(ctx.request, predictions);
    const version = predictions[0]?.modelVersion;
    if (version !== undefined) ctx.request.modelVersion = withVersion(ctx.request.modelVersion, version);
    return predictions;
  } catch (err) {
    if (err instanceof GatewayError) {
      // At warn, as REST's (app.ts answerError): the outage itself is logged once at error.
      ctx.request.log.warn({ err, code: err.code }, 'prediction failed');
      throw gatewayFailure(err, ctx.request.id);
    }
    throw err;
  }
}

builder.mutationField('predict', (t) =>
  t.field({
    type: PredictionType,
    description:
      'Predicts churn for one customer. Errors, by extensions.code: BAD_USER_INPUT (HTTP 400) when the customer breaks a rule, with ' +
      'extensions.issues [{ path, message }] from the argument (e.g. ["customer", "tenure"]) and extensions.issueCount, or when a ' +
      'variable does not fit CustomerInput (one error per problem, its path from the variable, e.g. ["c", "tenure"]), or when ' +
      'explanation { drivers(top:) } of any predict or predictBatch field of the request is outside 1 to the number of risk drivers (path ["top"], listed before the customer\'s problems, before anything is scored); ' +
      'MODEL_NOT_READY or INFERENCE_FAILED (HTTP 503, with extensions.requestId to quote) when no model can answer.',
    args: { customer: t.arg({ type: CustomerInput, required: true, description: 'The customer to score.' }) },
    resolve: async (_root, { customer }, ctx, info) => {
      reserveRows(ctx, 1, 'customer');
      const tops = driversTopProblems(info, ctx);
      const issues: InputIssue[] = tops === null ? [] : [...tops.issues];
      const request = customerFromInput(customer, ['customer'], issues);
      if (issues.length > 0) throw inputRefusal(info, issues, tops);
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
      'batch is rejected and the bad rows are named by index and field (the first 100 problems in extensions.issues, the total in ' +
      'extensions.issueCount). At most MAX_BATCH rows (default 10,000), counted over all predict and predictBatch fields of the request ' +
      '(BAD_USER_INPUT at path ["customers"] beyond). Errors as for predict, with the row index in the path: ["customers", 3, "tenure"].',
    args: { customers: t.arg({ type: [CustomerInput], required: true, description: 'The customers to score.' }) },
    resolve: async (_root, { customers }, ctx, info) => {
      reserveRows(ctx, customers.length, 'customers');
      const tops = driversTopProblems(info, ctx);
      const issues: InputIssue[] = tops === null ? [] : [...tops.issues];
      const requests: CustomerRequest[] = [];
      const check = (i: number): boolean => {
        requests.push(customerFromInput(customers[i] as (typeof customers)[number], ['customers', i], issues));
        return true;
      };
      // A large batch is checked a chunk at a time, so other callers are not held behind it.
      if (handledInChunks(customers.length)) await forEachInChunks(customers.length, check, () => stopIfAbandoned(ctx.request, 'checking'));
      else for (let i = 0; i < customers.length; i++) check(i);
      if (issues.length > 0) throw inputRefusal(info, issues, tops);
      const predictions = await score(ctx, requests);
      await explainAhead(info, ctx, predictions);
      return predictions;
    },
  }),
);
