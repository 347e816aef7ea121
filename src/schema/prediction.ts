/**
 * Prediction, RiskLevel, and the predict / predictBatch mutations that return them.
 */
import { forEachInChunks, handledInChunks } from '../chunked.js';
import { MAX_LISTED_ISSUES } from '../contract.js';
import { noteScored, stopIfAbandoned } from '../request-state.js';
import { GatewayError, TRANSIENT_RETRY_AFTER_SECONDS } from '../errors.js';
import type { CustomerRequest, Prediction } from '../prediction.js';
import { builder } from './builder.js';
import { CustomerInput, customerFromInput } from './customer-input.js';
import { badUserInput, gatewayFailure, type InputIssue } from './errors.js';
import { EXPLANATION_COST_TEXT, Explanation, driversTopProblems, explainAhead, explanationOf, inputRefusal, reserveDrivers } from './explanation.js';
import { CONFIG_DEFAULTS, grouped } from './stated-values.js';
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
    modelVersion: t.exposeString('modelVersion', {
      description:
        'Version of the model that computed this prediction: its registry version, or run- followed by its MLflow run id when it has ' +
        'none (never registered, or loaded by a runs:/ URI). The same as that model\'s ModelInfo.modelVersion.',
    }),
    modelRunId: t.string({
      description:
        'MLflow run id of the model that computed this prediction (its ModelInfo.runId). Unlike modelVersion it names one model: the ' +
        'same version number can belong to the packaged bundle and to another model MLflow serves, or to two registered models. Keep it for audit.',
      // Computed only when selected: the scoring path does none of this work.
      resolve: (p) => p.model.lineage.runId,
    }),
    outsideTrainingRange: t.field({
      type: [TrainingRangeNote],
      description:
        'The numeric inputs outside the range of their column in the data the model was trained on (ModelInfo.features observedMin to ' +
        'observedMax, of the model that computed this prediction), in data set order; empty when every input is inside its own range. The ' +
        'probability of a customer listed here is an extrapolation: treat it with caution. Inputs are checked one at a time, never in ' +
        'combination, so an empty list does not mean the customer is like those the model was trained on: a totalCharges far from tenure × ' +
        'monthlyCharges (8000 at tenure 1) lists nothing, although the TotalCharges/tenure the model reads (a risk driver, see explanation) ' +
        'is then far beyond any in training. A null totalCharges (not yet billed) is never listed, and ' +
        "totalCharges' observedMin is the 0 a null is encoded as (Feature.observedMin), so no total from 0 up is listed as too small.",
      // Computed only when selected: the scoring path does none of this work.
      resolve: (p) => outsideTrainingRange(p.model, p.record),
    }),
    explanation: t.field({
      type: Explanation,
      nullable: true,
      description:
        "Why the model gives this customer this risk: its risk drivers (SHAP values in log-odds, by input field) from the model that " +
        'computed this prediction. Null when that model version carries no explainer (ModelInfo.explainer is null: versions trained ' +
        `before explainers were added to the bundle).\n${EXPLANATION_COST_TEXT}`,
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

async function score(ctx: GraphQLContext, customers: CustomerRequest[]): Promise<Prediction[]> {
  stopIfAbandoned(ctx.request, 'scoring');
  try {
    const predictions = await ctx.predictor.predict(customers);
    // Each field takes the model serving when it starts, so fields on either side of a promotion
    // (or of a reloadModel field between them) are scored by two models: the tally names each.
    noteScored(ctx.request, predictions);
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

/** What a mutation field after a failed one throws on the compiled path: never answered (graphql-endpoint answers the first failure). */
class EarlierFieldFailed extends Error {
  constructor() {
    super('not run: an earlier field of the mutation failed');
    this.name = 'EarlierFieldFailed';
  }
}

/**
 * Runs a mutation field's resolver unless an earlier root field of the operation failed.
 * graphql-js runs a mutation's fields in turn and stops at the first that fails (each is
 * non-null: the answer is data null and that field's error), so it never meets the flag;
 * graphql-jit runs the later fields too, which scored customers whose predictions nobody
 * gets, and counted their rows and models on the request.
 */
async function unlessEarlierFieldFailed<T>(ctx: GraphQLContext, resolve: () => Promise<T>): Promise<T> {
  if (ctx.rootFieldFailed) throw new EarlierFieldFailed();
  try {
    return await resolve();
  } catch (err) {
    ctx.rootFieldFailed = true;
    throw err;
  }
}

builder.mutationField('predict', (t) =>
  t.field({
    type: PredictionType,
    description: [
      // No blank lines: a field's description is indented in the SDL, and a blank line would carry the indentation.
      'Predicts churn for one customer. Errors, by extensions.code:',
      `- BAD_USER_INPUT (HTTP 400), one error naming every problem in extensions.issues [{ path, message }] by argument path (the first ${MAX_LISTED_ISSUES}; ` +
        'extensions.issueCount gives the total): the customer breaks a rule (["customer", "tenure"]); a drivers(top:) of any predict or predictBatch field ' +
        'of the request is outside 1 to the number of risk drivers (["top"], listed first; nothing is scored); or the request\'s fields together ' +
        'ask for more than MAX_BATCH rows (["customer"]; see predictBatch), or their explanations for more risk drivers than a request may write ' +
        '(["explanation"]; see Prediction.explanation).',
      `- BAD_USER_INPUT (HTTP 400) from graphql-js when a variable does not fit CustomerInput (a wrong type, a missing or unknown field): ` +
        'one error per problem, its variable path (["c", "tenure"]) only in its one extensions.issues entry, no issueCount; at most 50, ' +
        'then a 51st "Too many errors" with empty issues. The rules are checked only once the variables fit.',
      '- GRAPHQL_VALIDATION_FAILED (HTTP 400): a customer written in the document (not in a variable) that does not fit CustomerInput, ' +
        'named by argument path in extensions.issues (["customer", "tenure"]); a variable with a default sent null inside it where null is ' +
        'not taken ({ tenure: $t } with $t: Int = 5) is BAD_USER_INPUT instead, named the same way, with extensions.issueCount.',
      `- MODEL_NOT_READY or INFERENCE_FAILED (HTTP 503, Retry-After: ${TRANSIENT_RETRY_AFTER_SECONDS}, extensions.requestId to quote): no model can answer now.`,
      `- OVERLOADED (HTTP 503, Retry-After: ${TRANSIENT_RETRY_AFTER_SECONDS}, extensions.requestId): the risk drivers other requests are having explained ` +
        'leave too few for this field\'s explanations (at most MAX_BATCH × ModelInfo.explainer.drivers at once, across requests), refused before it is ' +
        'scored; the message names those in flight and the capacity. Repeat it after Retry-After, or ask for drivers(top:) or fewer rows ' +
        '(see Prediction.explanation: a small explanation is never refused).',
      '- Some refusals are application/problem+json, not GraphQL errors: see Mutation.',
    ].join('\n'),
    args: { customer: t.arg({ type: CustomerInput, required: true, description: 'The customer to score.' }) },
    resolve: (_root, { customer }, ctx, info) =>
      unlessEarlierFieldFailed(ctx, async () => {
        reserveRows(ctx, 1, 'customer');
        const tops = driversTopProblems(info, ctx);
        // A bad top is refused below; the drivers are counted with good ones.
        if (tops === null) reserveDrivers(info, ctx, 1);
        const issues: InputIssue[] = tops === null ? [] : [...tops.issues];
        const request = customerFromInput(customer, ['customer'], issues);
        if (issues.length > 0) throw inputRefusal(info, issues, tops);
        const [prediction] = await score(ctx, [request]);
        return prediction as Prediction;
      }),
  }),
);

builder.mutationField('predictBatch', (t) =>
  t.field({
    type: [PredictionType],
    description: [
      'Predicts churn for many customers with one model; results come back in input order.',
      `- At most MAX_BATCH rows per request (default ${grouped(CONFIG_DEFAULTS.MAX_BATCH)}; GET /openapi.json states this gateway's value as ` +
        "PredictRequest's maxItems), counted over the request's predict and predictBatch fields in order. The field that goes over is " +
        'refused with BAD_USER_INPUT at path ["customers"] (["customer"] for predict), and the response\'s data is then null: the ' +
        'fields before it were scored, but their results are not returned.',
      `- One invalid row rejects the whole batch; the rows are named by index and field (["customers", 3, "tenure"]), the first ${MAX_LISTED_ISSUES} ` +
        'problems in extensions.issues, the total in extensions.issueCount.',
      '- Errors as for predict otherwise; a variable\'s type errors are named by variable path (["cs", 3, "tenure"]), at most 50.',
    ].join('\n'),
    args: { customers: t.arg({ type: [CustomerInput], required: true, description: 'The customers to score.' }) },
    resolve: (_root, { customers }, ctx, info) =>
      unlessEarlierFieldFailed(ctx, async () => {
        reserveRows(ctx, customers.length, 'customers');
        const tops = driversTopProblems(info, ctx);
        // A bad top is refused below; the drivers are counted with good ones.
        if (tops === null) reserveDrivers(info, ctx, customers.length);
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
      }),
  }),
);
