/**
 * Explanation, RiskDriver and ExplainerInfo: a prediction's risk drivers (SHAP values of the
 * model that computed it, grouped by input field; src/model/explainer.ts), computed only when
 * `explanation` is selected, and what modelInfo tells auditors about the explainer.
 */
import { BREAK, GraphQLIncludeDirective, GraphQLInt, GraphQLSkipDirective, Kind, getDirectiveValues, valueFromAST, visit, type FieldNode, type GraphQLError, type GraphQLResolveInfo, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import type { ColumnName } from '../contract.js';
import { graphqlNaming } from '../customer-rules.js';
import type { ExplainerReport, ExplanationShape, RiskDriverShape } from '../model/explainer.js';
import type { Prediction } from '../prediction.js';
import { stopIfAbandoned } from '../request-state.js';
import { builder, type GraphQLContext } from './builder.js';
import { OverloadedError, TRANSIENT_RETRY_AFTER_SECONDS } from '../errors.js';
import { InFlightBudget } from '../in-flight-budget.js';
import { badUserInput, gatewayFailure, type InputIssue } from './errors.js';
import { grouped } from './stated-values.js';

/**
 * What selecting explanation costs, as measured on the bundled model (README.md, "explanation";
 * docs/model-bundle.md, "Cost, by tree depth"), stated in the schema so a client can choose
 * drivers(top:); test/one-source.test.ts checks README.md gives the same figures.
 */
export const EXPLANATION_COST = { microsPerRow: '16–19', batchRows: 10_000, answerMB: 18, waitS: 0.6, waitTop3S: 0.1 } as const;

/**
 * Explanations computed in one go before the event loop gets a turn: ~1 ms of work (12-20 µs
 * a row). A 10,000-row predictBatch selecting explanation held the event loop ~320 ms computing
 * them as its rows were resolved; explainAhead computes them a chunk at a time instead. One
 * chunk's rows of all drivers are also what a request may have explained whatever else is being
 * explained (DriverBudget counts them but never refuses them).
 */
export const EXPLAIN_CHUNK_ROWS = 64;

/** EXPLANATION_COST in words, for Prediction.explanation. */
export const EXPLANATION_COST_TEXT =
  `Computed only when selected, at about ${EXPLANATION_COST.microsPerRow} µs per row (the bundled model's depth-2 trees). For a ` +
  `${grouped(EXPLANATION_COST.batchRows)}-row predictBatch, all drivers make an answer of about ${EXPLANATION_COST.answerMB} MB and delay ` +
  `other callers by up to about ${EXPLANATION_COST.waitS} s (about ${EXPLANATION_COST.waitTop3S} s with drivers(top: 3)): ask for top ` +
  'when the largest drivers are enough. A request writes at most MAX_BATCH × ModelInfo.explainer.drivers risk drivers (all drivers of one ' +
  'explanation for a full batch), counted over its predict and predictBatch fields and their aliases: rows × the drivers of each ' +
  'explanation selected (top, else all; 1 for an explanation without drivers). A field that goes over is refused before it is scored: ' +
  'BAD_USER_INPUT at path ["explanation"], located at its explanation fields. The same allowance bounds the risk drivers being explained at ' +
  'once across requests, each held until its answer is written: a field that does not fit is refused before it is scored with OVERLOADED ' +
  `(HTTP 503, Retry-After: ${TRANSIENT_RETRY_AFTER_SECONDS}), except that a request's first ${EXPLAIN_CHUNK_ROWS} rows of all drivers are never refused.`;

/**
 * The CustomerInput names of a driver's columns. A driver's `fields` is one array per driver of a
 * model, shared by every explanation it gives, so each is mapped once.
 */
const inputFieldNames = new WeakMap<readonly string[], readonly string[]>();

function inputFieldsOf(columns: readonly string[]): readonly string[] {
  let names = inputFieldNames.get(columns);
  if (names === undefined) {
    // The bundle's columns are the contract's (model/contract-check.ts refuses any other at load).
    names = columns.map((c) => graphqlNaming.field(c as ColumnName));
    inputFieldNames.set(columns, names);
  }
  return names;
}

export const RiskDriver = builder.objectRef<RiskDriverShape>('RiskDriver').implement({
  description:
    "One input's share of the customer's churn risk: its SHAP value in log-odds (the model's log-odds moves by this much because of this " +
    "customer's value of it, against the model's average), the one-hot positions of a categorical field added together.",
  fields: (t) => ({
    name: t.exposeString('name', {
      description:
        'An input field, named as its data set column (Contract, tenure; ModelInfo.features.name), or a feature the model derives from ' +
        'several fields, named as the model names it (TotalCharges/tenure; ModelInfo.encodedFeatures.name). inputFields has the CustomerInput names.',
    }),
    fields: t.exposeStringList('fields', {
      description: 'The data set columns it reads: [name] for an input field; the numerator and denominator of TotalCharges/tenure.',
    }),
    inputFields: t.stringList({
      description:
        'The CustomerInput fields it reads, one per entry of fields and in the same order, named as the customer is sent and as ' +
        'outsideTrainingRange.field and extensions.issues name them: [contract] for Contract; [totalCharges, tenure] for TotalCharges/tenure.',
      resolve: (d) => inputFieldsOf(d.fields),
    }),
    contribution: t.exposeFloat('contribution', {
      description: "SHAP value in log-odds: > 0 raises this customer's churn risk, < 0 lowers it; the contributions of all drivers add up to logOdds − baseLogOdds.",
    }),
  }),
});

/** A drivers(top:) the request asks for, and the drivers field that asks (the error's location). */
interface AskedTop {
  readonly top: number;
  readonly node: FieldNode;
}

/**
 * One response key of `explanation` in a predict or predictBatch field: the fields GraphQL merges
 * into it (one explanation per row in the answer), and the response keys of `drivers` under them,
 * each with its top (undefined: all), each a list of drivers per row in the answer.
 */
interface SelectedExplanation {
  readonly nodes: FieldNode[];
  readonly drivers: Map<string, number | undefined>;
}

const responseKey = (f: FieldNode): string => (f.alias ?? f.name).value;

/**
 * The `top` of every `drivers` field selected under `explanation` in the given predict or
 * predictBatch fields (aliases, fragments and @skip / @include as the request resolves them), and
 * the explanations the answer will hold per row, by response key (fields of one key merged, as
 * graphql-js and graphql-jit answer them).
 */
function walkSelection(info: GraphQLResolveInfo, fields: readonly FieldNode[] = info.fieldNodes): { explanations: Map<string, SelectedExplanation>; tops: AskedTop[] } {
  const tops: AskedTop[] = [];
  const explanations = new Map<string, SelectedExplanation>();
  const included = (node: Parameters<typeof getDirectiveValues>[1]): boolean =>
    getDirectiveValues(GraphQLSkipDirective, node, info.variableValues)?.['if'] !== true &&
    getDirectiveValues(GraphQLIncludeDirective, node, info.variableValues)?.['if'] !== false;
  // `into` is null at the prediction's level, else the explanation whose selection this is.
  const walk = (set: SelectionSetNode | undefined, into: SelectedExplanation | null): void => {
    for (const s of set?.selections ?? []) {
      if (!included(s)) continue;
      if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet, into);
      else if (s.kind === Kind.FRAGMENT_SPREAD) walk(info.fragments[s.name.value]?.selectionSet, into);
      else if (into === null && s.name.value === 'explanation') {
        const key = responseKey(s);
        let e = explanations.get(key);
        if (e === undefined) explanations.set(key, (e = { nodes: [], drivers: new Map() }));
        e.nodes.push(s);
        walk(s.selectionSet, e);
      } else if (into !== null && s.name.value === 'drivers') {
        const arg = s.arguments?.find((a) => a.name.value === 'top');
        const top: unknown = arg ? valueFromAST(arg.value, GraphQLInt, info.variableValues) : undefined;
        if (typeof top === 'number') tops.push({ top, node: s });
        // Fields of one response key have the same arguments (validation: OverlappingFieldsCanBeMerged).
        into.drivers.set(responseKey(s), typeof top === 'number' ? top : undefined);
      }
    }
  };
  for (const field of fields) walk(field.selectionSet, null);
  return { explanations, tops };
}

/** The fields that score (predict, predictBatch) among the operation's root fields, as the request resolves its fragments and conditions. */
function scoringFields(info: GraphQLResolveInfo): FieldNode[] {
  const fields: FieldNode[] = [];
  const walk = (set: SelectionSetNode | undefined): void => {
    for (const s of set?.selections ?? []) {
      if (getDirectiveValues(GraphQLSkipDirective, s, info.variableValues)?.['if'] === true) continue;
      if (getDirectiveValues(GraphQLIncludeDirective, s, info.variableValues)?.['if'] === false) continue;
      if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet);
      else if (s.kind === Kind.FRAGMENT_SPREAD) walk(info.fragments[s.name.value]?.selectionSet);
      else if (s.name.value === 'predict' || s.name.value === 'predictBatch') fields.push(s);
    }
  };
  walk(info.operation.selectionSet);
  return fields;
}

/** What an operation may ask of explanations: found once per parsed document (below). */
interface MayAsk {
  /** A drivers(top:) somewhere. */
  readonly top: boolean;
  /** An explanation field somewhere. */
  readonly explanation: boolean;
}

/**
 * What the operation may ask of explanations at all, once per parsed document (its AST nodes
 * are kept with the document by Yoga's parse cache and the compiled path): the walk above reads
 * variables, so it runs per request, but only for the documents that need it. A fragment spread
 * may hold either: the walk resolves it.
 */
const mayAskOf = new WeakMap<OperationDefinitionNode, MayAsk>();

function mayAsk(info: GraphQLResolveInfo): MayAsk {
  const key = info.operation;
  let found = mayAskOf.get(key);
  if (found === undefined) {
    let top = false;
    let explanation = false;
    visit(key, {
      FragmentSpread() {
        top = explanation = true;
        return BREAK;
      },
      Field(node) {
        if (node.name.value === 'explanation') explanation = true;
        else if (node.name.value === 'drivers' && node.arguments?.some((a) => a.name.value === 'top')) top = true;
        return top && explanation ? BREAK : undefined;
      },
    });
    found = { top, explanation };
    mayAskOf.set(key, found);
  }
  return found;
}

const topIssue = (top: number, count: number): InputIssue => ({
  path: ['top'],
  message: `must be from 1 to ${count} (the number of risk drivers); got ${top}`,
});

/** The drivers(top:) of a request that are outside 1..N, and the drivers fields that ask for them. */
export interface TopProblems {
  readonly issues: readonly InputIssue[];
  readonly nodes: readonly FieldNode[];
}

/**
 * The request's drivers(top:) outside 1..N, found before anything is scored, so the field refuses
 * them with its customers' problems in one BAD_USER_INPUT for the request (inputRefusal), rather
 * than one error per row of a batch after scoring it. Every predict and predictBatch field of the
 * operation is checked by the first one to run, so an earlier field is not scored (and then
 * thrown away) for a later field's top, and every bad top in the document is named at once.
 * N is the serving model's; the `drivers` resolver checks again against the model that scored.
 */
export function driversTopProblems(info: GraphQLResolveInfo, ctx: GraphQLContext): TopProblems | null {
  if (!mayAsk(info).top) return null;
  const { tops } = walkSelection(info, scoringFields(info));
  if (tops.length === 0) return null;
  let count: number | undefined;
  try {
    count = ctx.predictor.model.explainer?.driverCount;
  } catch {
    return null; // no model yet: scoring answers MODEL_NOT_READY
  }
  // Without an explainer every explanation is null, and only the lower bound is known: a
  // document that asks for top 0 is refused today rather than once a model with one is served.
  // One problem per drivers(top:) written in the document: a fragment spread in two fields is one.
  const bad = [...new Map(tops.filter(({ top }) => top < 1 || (count !== undefined && top > count)).map((t) => [t.node, t])).values()];
  if (bad.length === 0) return null;
  return {
    issues: bad.map(({ top }): InputIssue =>
      count === undefined ? { path: ['top'], message: `must be at least 1; got ${top} (this model has no explainer: its explanations are null)` } : topIssue(top, count),
    ),
    nodes: bad.map((b) => b.node),
  };
}

/**
 * The field's refusal of `issues` (the top problems first, then its customers'): located at the
 * drivers fields that ask for a bad top (not at the predict field that found them: it may be
 * another), and at the field itself when its customers have problems too.
 */
export function inputRefusal(info: GraphQLResolveInfo, issues: readonly InputIssue[], tops: TopProblems | null): GraphQLError {
  const refusal = badUserInput(issues);
  if (tops === null) return refusal;
  const nodes = issues.length > tops.issues.length ? [...info.fieldNodes, ...tops.nodes] : tops.nodes;
  return createGraphQLError(refusal.message, { nodes, extensions: refusal.extensions });
}

/**
 * Risk drivers one row's explanations write: for each explanation of the answer, the drivers of
 * each of its drivers lists (top, else all), or 1 for an explanation that lists none.
 */
function driversPerRow(explanations: ReadonlyMap<string, SelectedExplanation>, count: number): number {
  let perRow = 0;
  for (const e of explanations.values()) {
    if (e.drivers.size === 0) perRow += 1;
    // A top outside 1..count is refused before this (driversTopProblems).
    for (const top of e.drivers.values()) perRow += top !== undefined && top >= 1 && top <= count ? top : count;
  }
  return perRow;
}

/**
 * Risk drivers being explained at once, across requests: each request takes what reserveDrivers
 * counts for its fields, as each field starts, and gives it back once its answer is written or
 * its connection closed, and its work has ended (app.ts, with its share of the body budget). The
 * allowance per request bounded one request, not several: five concurrent 10,000-row requests,
 * each with one explanation of all drivers (24.9 MB answers), peaked at 1.05 GB of RSS, past the
 * task's 1 GiB, and held GET / ~6 s. The capacity is the per-request allowance (MAX_BATCH × the
 * serving model's drivers: one full explanation of a full batch), so no other number is kept; a
 * request's first EXPLAIN_CHUNK_ROWS rows of all drivers (one chunk: what is explained in one go)
 * are counted but never refused, as http.ts BodyBudget never refuses a body's first
 * SMALL_BODY_BYTES, so a single customer's explanation or a small batch is never answered 503
 * because a large batch is being explained.
 */
export class DriverBudget extends InFlightBudget {}

/** MAX_BATCH × the serving model's risk drivers: the drivers allowed per request, and the DriverBudget's capacity (0 for a model without an explainer). */
export const driverCapacity = (maxBatch: number, driverCount: number): number => maxBatch * driverCount;

/**
 * Takes the request's risk drivers so far (`total`: its fields' up to this one) from the budget
 * of drivers in flight, or refuses the field with OVERLOADED (HTTP 503, Retry-After) before it
 * is scored. The request holds the most any of its runs counted: a compiled run whose errors
 * Yoga's run repeats counts the same fields again, and holds them once.
 */
function holdDrivers(ctx: GraphQLContext, total: number, count: number, nodes: readonly FieldNode[]): void {
  const more = total - ctx.request.driversHeld;
  if (more <= 0) return;
  const capacity = driverCapacity(ctx.maxBatch, count);
  const small = EXPLAIN_CHUNK_ROWS * count;
  if (ctx.drivers.take(more, capacity, total <= small)) {
    ctx.request.driversHeld = total;
    return;
  }
  const inUse = ctx.drivers.inUse;
  ctx.request.log.warn({ code: 'OVERLOADED', driversInFlight: inUse, capacity, asked: more }, 'explanation refused: too many risk drivers being explained at once');
  const message =
    `${inUse} risk drivers are being explained now, of at most ${capacity} at once (MAX_BATCH ${ctx.maxBatch} × the model's ${count} drivers: ` +
    `one full explanation of a full batch), and this field's ${more} do not fit. Retry after ${TRANSIENT_RETRY_AFTER_SECONDS} s, or ask for ` +
    `drivers(top: n) or fewer rows: a request of at most ${small} risk drivers (${EXPLAIN_CHUNK_ROWS} rows of all drivers) is never refused`;
  throw gatewayFailure(new OverloadedError(message), ctx.request.id, nodes);
}

/**
 * Counts the risk drivers the field's explanations write (rows × driversPerRow) against the
 * request's allowance, across all its fields (GraphQLContext.explainedDrivers), and refuses the
 * field before it is scored when they go over: MAX_BATCH × the serving model's drivers, every
 * driver of one explanation of a full batch (what README.md measures). MAX_BATCH bounds the rows
 * however many aliases ask for them; without this, aliases multiplied the explanations: one
 * request of 10,000 rows and 6 explanations made a 146 MB answer, past 1 GB of RSS, and held the
 * event loop 12 s. Located at the field's explanation fields (errors show their line and column).
 * Within the allowance, they are taken from the drivers in flight across requests (DriverBudget).
 */
export function reserveDrivers(info: GraphQLResolveInfo, ctx: GraphQLContext, rows: number): void {
  if (!mayAsk(info).explanation) return;
  let count: number | undefined;
  try {
    count = ctx.predictor.model.explainer?.driverCount;
  } catch {
    return; // no model yet: scoring answers MODEL_NOT_READY
  }
  if (count === undefined) return; // no explainer: every explanation is null
  const { explanations } = walkSelection(info);
  if (explanations.size === 0) return;
  const perRow = driversPerRow(explanations, count);
  const asked = rows * perRow;
  const before = ctx.explainedDrivers ?? 0;
  const allowed = driverCapacity(ctx.maxBatch, count);
  const nodes = [...explanations.values()].flatMap((e) => e.nodes);
  if (before + asked <= allowed) {
    holdDrivers(ctx, before + asked, count, nodes);
    ctx.explainedDrivers = before + asked;
    return;
  }
  const selections = explanations.size === 1 ? 'one explanation' : `${explanations.size} explanations (aliases)`;
  const others = before > 0 ? ` (with the ${before} of this request's earlier fields, ${before + asked})` : '';
  const message =
    `${rows} ${rows === 1 ? 'row' : 'rows'} × ${perRow} risk drivers a row, from ${selections}, make ${asked}${others}; at most ${allowed} are ` +
    `allowed per request (MAX_BATCH ${ctx.maxBatch} × the model's ${count} drivers: all drivers of one explanation for a full batch). ` +
    'Select explanation once, not under several aliases; ask for drivers(top: n); or send fewer rows';
  const refusal = badUserInput([{ path: ['explanation'], message }]);
  throw createGraphQLError(refusal.message, { nodes, extensions: refusal.extensions });
}

export const Explanation = builder.objectRef<ExplanationShape>('Explanation').implement({
  description:
    "Why the model gives this customer this churn risk: the customer's risk drivers, exact SHAP values (path-dependent TreeSHAP, the values " +
    "xgboost's pred_contribs gives) of the model that computed the prediction, in log-odds, grouped by input field. The probability and " +
    'the decision are the model\'s own; the explanation only accounts for them.',
  fields: (t) => ({
    baseLogOdds: t.exposeFloat('baseLogOdds', {
      description:
        "The model's log-odds before any of this customer's values count; the same for every customer of a model. It is xgboost's " +
        "bias term: the model's starting log-odds (its base score, which training shifts by −log(scale_pos_weight) when it corrects " +
        'for the class weighting) plus the cover-weighted mean of each tree.',
    }),
    logOdds: t.exposeFloat('logOdds', {
      description:
        "baseLogOdds + every driver's contribution: the model's log-odds for this customer. sigmoid(logOdds) = 1 / (1 + e^−logOdds) is " +
        'churnProbability to within 1e-5.',
    }),
    drivers: t.field({
      type: [RiskDriver],
      description:
        'The risk drivers, by |contribution| descending (ties by name, in code point order: PaymentMethod before gender): every input field of the model, and each feature it derives ' +
        'from several (ModelInfo.explainer.drivers of them in all).',
      args: {
        top: t.arg.int({
          description:
            'Only the first top drivers (the largest by |contribution|); omitted or null: all of them. From 1 to the number of drivers, ' +
            'else BAD_USER_INPUT naming top and the range. Ask for it when the largest are enough: on a large predictBatch, all drivers ' +
            'make a large answer and delay other callers (see Prediction.explanation).',
        }),
      },
      resolve: (e, { top }) => {
        if (top === null || top === undefined) return e.drivers;
        if (top < 1 || top > e.drivers.length) throw badUserInput([topIssue(top, e.drivers.length)]);
        return e.drivers.slice(0, top);
      },
    }),
  }),
});

/** Explanations computed by explainAhead, read by the explanation field. */
const explained = new WeakMap<Prediction, ExplanationShape>();

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * For a batch larger than one chunk whose selection asks for explanation: computes every row's
 * explanation before the rows are resolved, giving the event loop a turn after every
 * EXPLAIN_CHUNK_ROWS rows (and stopping when the caller left), so the field then resolves
 * synchronously: resolvers returning a promise per row made a 10,000-row batch twice as slow.
 */
export async function explainAhead(info: GraphQLResolveInfo, ctx: GraphQLContext, predictions: readonly Prediction[]): Promise<void> {
  if (predictions.length <= EXPLAIN_CHUNK_ROWS || walkSelection(info).explanations.size === 0) return;
  for (let i = 0; i < predictions.length; i++) {
    const p = predictions[i] as Prediction;
    const explainer = p.model.explainer;
    if (explainer === null) return; // one model scores a whole batch: none of its rows has one
    explained.set(p, explainer.explain(p.record));
    if ((i + 1) % EXPLAIN_CHUNK_ROWS === 0 && i + 1 < predictions.length) {
      await immediate();
      stopIfAbandoned(ctx.request, 'explaining');
    }
  }
}

/** The explanation of `p` by the model that computed it (null when that model has none). */
export function explanationOf(p: Prediction): ExplanationShape | null {
  const explainer = p.model.explainer;
  if (explainer === null) return null;
  return explained.get(p) ?? explainer.explain(p.record);
}

export const ExplainerInfo = builder.objectRef<ExplainerReport & { readonly drivers: number }>('ExplainerInfo').implement({
  description:
    "The explainer behind Prediction.explanation: the booster's trees from the bundle's explainer file, accepted at load only after this " +
    "gateway recomputed xgboost's own SHAP values for the reference cases within tolerance, and sigmoid of each case's values matched its " +
    'parity probability.',
  fields: (t) => ({
    method: t.exposeString('method', { description: 'How the values are computed, as the bundle names it (path-dependent TreeSHAP, as xgboost pred_contribs).' }),
    trees: t.exposeInt('trees', { description: 'Trees of the booster (one per boosting round).' }),
    drivers: t.exposeInt('drivers', { description: 'Risk drivers of every explanation: the input fields the model reads, and each feature it derives from several.' }),
    referenceCount: t.exposeInt('referenceCount', { description: "Parity cases whose SHAP values (xgboost's pred_contribs) this gateway recomputed at load." }),
    tolerance: t.exposeFloat('tolerance', { description: "Largest |Δ| allowed between a recomputed value and xgboost's, in log-odds (the manifest's explainer.tolerance)." }),
    maxAbsDiff: t.exposeFloat('maxAbsDiff', { description: 'Largest |Δ| this gateway measured at load, in log-odds.' }),
    fileSha256: t.exposeString('fileSha256', { description: "sha256 of the explainer file bytes this gateway loaded: the model is refused unless it equals the manifest's explainer.sha256." }),
  }),
});
