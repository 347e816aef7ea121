/**
 * Scores a checked customer file through the ScoreFile operation (schema/operations: predictBatch
 * with each customer's risk drivers, by the model that scored it), in as
 * few requests as this gateway's limits allow: at most MAX_BATCH rows and BODY_LIMIT_BYTES bytes
 * each (both stated by the page's HTML, from the gateway's configuration), sent one after another.
 * Every row of a file is scored by one model: when two requests name different models (a
 * promotion between them: another version, or another MLflow run under the same version number,
 * as when MLflow's version 2 replaces the packaged bundle's), the file is scored again from the
 * start, never shown mixed.
 * The rows the gateway refuses (its cross-field rules) come back as issues with the row's index
 * in the request, mapped here to the file's line and column.
 * A request the gateway answers 503 because it is busy (OVERLOADED: other files' risk drivers,
 * or other uploads' request bodies, fill its budget) or still starting (MODEL_NOT_READY) is sent again after its Retry-After, for
 * up to MAX_PASSING_WAIT_MS, so that two analysts scoring at once both get their files scored.
 * Each run takes an AbortSignal: once aborted (another file chosen, Cancel), its request in
 * flight is aborted, its wait ends, and none of its requests is sent again.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { CUSTOMER_FIELDS, MAX_LISTED_ISSUES } from '../../../src/contract.js';
import { RetentionOffersDocument, ScoreFileDocument, type RetentionOffersMutation, type ScoreFileMutation } from '../../../src/generated/graphql.js';
import { inFormWords } from '../app/form-words.js';
import { offersFor, offersLowering, type Offer, type OfferOutcome } from '../app/retention-offers.js';
import { execute, notReady, STARTING, type GraphQLErrorBody, type OperationResult } from '../app/gateway-client.js';
import { splitIntoRequests, type Limits, type Span } from '../app/request-split.js';
import { datasetSpellings, type CustomerFile, type FileProblem } from './customer-file.js';

export type Prediction = ScoreFileMutation['predictBatch'][number];

/** A model as the file page names it: its version, and its MLflow run when the version alone would not tell two apart. */
interface ModelIdentity {
  readonly version: string;
  readonly runId: string;
}

const modelOf = (p: Prediction): ModelIdentity => ({ version: p.modelVersion, runId: p.modelRunId });
const sameModel = (a: ModelIdentity, b: ModelIdentity) => a.version === b.version && a.runId === b.runId;

/** Two models in words: by version, or, when both carry the same version number, by version and run. */
function namesOf(a: ModelIdentity, b: ModelIdentity): { from: string; to: string } {
  return a.version === b.version ? { from: `${a.version} (run ${a.runId})`, to: `${b.version} (run ${b.runId})` } : { from: a.version, to: b.version };
}

export interface ScoreProgress {
  /** The request being sent (1-based) and how many there are. */
  readonly request: number;
  readonly requests: number;
  /** The attempt (1-based): after a promotion between requests, the file is scored again. */
  readonly attempt: number;
  /** Set when this attempt starts over because the model changed. */
  readonly modelChanged?: { readonly from: string; readonly to: string };
  /** Set while the request waits to be sent again: the gateway was busy or starting. */
  readonly waiting?: Waiting;
}

/** Why a request waits to be sent again, and for how many seconds. */
export interface Waiting {
  readonly why: Passing;
  readonly seconds: number;
}

/**
 * The gateway's 503s that pass by themselves, so that the same request succeeds once repeated:
 * 'busy', OVERLOADED (other requests' risk drivers fill its budget, src/schema/explanation.ts, or
 * their request bodies do, src/http.ts, refused before GraphQL runs);
 * 'starting', MODEL_NOT_READY (no model loaded yet).
 */
export type Passing = 'busy' | 'starting';

/**
 * The longest the page waits, in all, to send one request again while the gateway is busy or
 * starting (each wait as its Retry-After says) before it says the file was not scored: a
 * 10,000-row request holds the budget of risk drivers for a few seconds on a busy gateway, and a
 * gateway loading a model from MLflow answers within half a minute.
 */
export const MAX_PASSING_WAIT_MS = 30_000;

/** Resolves after `ms`, or as soon as `cancel` is aborted. */
function pause(ms: number, cancel: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      cancel.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    cancel.addEventListener('abort', done);
  });
}

const passingOf = (answer: OperationResult<unknown>): Passing | null => {
  if (answer.ok || answer.status !== 503 || answer.errors.length === 0) return null;
  if (notReady(answer.errors)) return 'starting';
  return answer.errors.every((e) => e.extensions?.code === 'OVERLOADED') ? 'busy' : null;
};

/**
 * execute, sent again after each Retry-After while the gateway answers that it is busy or
 * starting, as long as the waits add up to MAX_PASSING_WAIT_MS at most; `waiting` is told of each
 * wait. The last answer, with why it is a 503 that would have passed (`gaveUp`), when it is one.
 */
async function executePatiently<T, V>(
  document: TypedDocumentNode<T, V>,
  variables: V,
  cancel: AbortSignal,
  waiting: (w: Waiting) => void,
): Promise<{ answer: OperationResult<T>; gaveUp: Passing | null }> {
  let waited = 0;
  for (;;) {
    const answer = await execute(document, variables, cancel);
    const why = passingOf(answer);
    if (why === null || cancel.aborted) return { answer, gaveUp: null };
    // Only as the gateway says: without a Retry-After, nothing says that waiting would cure it.
    const seconds = answer.ok ? null : answer.retryAfterSeconds;
    if (seconds === null || waited + seconds * 1000 > MAX_PASSING_WAIT_MS) return { answer, gaveUp: why };
    waiting({ why, seconds });
    await pause(seconds * 1000, cancel);
    if (cancel.aborted) return { answer, gaveUp: null };
    waited += seconds * 1000;
  }
}

/** Why a file or its offers were not scored when the gateway stayed busy or kept starting, in the analyst's words: a clause the caller begins and ends a sentence with. */
function gaveUpReason(why: Passing): string {
  const waited = `${MAX_PASSING_WAIT_MS / 1000} s`;
  return why === 'starting' ? `${STARTING.replace(/^The /, 'the ').replace(/\.$/, '')}, after ${waited} of trying again` : `the gateway was busy with other requests for ${waited} of trying again`;
}

export type ScoreResult =
  /** One prediction per row of the file, in its order, all by the model of `modelVersion` and `modelRunId` (its MLflow run). */
  | { kind: 'scored'; predictions: readonly Prediction[]; modelVersion: string; modelRunId: string; threshold: number; requests: number; attempts: number }
  /** The gateway refused rows: the first of them (as many as it lists) and how many there are. */
  | { kind: 'refused'; problems: readonly FileProblem[]; count: number }
  /**
   * The gateway did not score the file (unreachable, still starting, busy, failed): why, and the
   * gateway's own message when the page reworded it (`original`: not for what the page says itself).
   */
  | { kind: 'failed'; message: string; original?: string; requestId: string | null }
  /** The run was aborted (another file chosen, Cancel): nothing to show. */
  | { kind: 'cancelled' }
  /** The model changed during every attempt. */
  | { kind: 'unsettled'; versions: readonly string[]; attempts: number };

/** Attempts before the page gives up on a model that keeps changing. */
export const MAX_ATTEMPTS = 3;

const FIELD_BY_NAME = new Map<string, (typeof CUSTOMER_FIELDS)[number]>(CUSTOMER_FIELDS.map((f) => [f.field, f]));

/** A gateway issue about a row of a request, named by the file's line, column and value, in the form's words. */
function problemOfIssue(file: CustomerFile, offset: number, path: readonly (string | number)[], message: string): FileProblem {
  const index = path[1];
  const row = typeof index === 'number' ? file.rows[offset + index] : undefined;
  const name = path[path.length - 1];
  const field = typeof name === 'string' ? FIELD_BY_NAME.get(name) : undefined;
  const reworded = field ? inFormWords(message, field.field, datasetSpellings) : inFormWords(message);
  const at = field ? file.columnIndex.get(field.column) : undefined;
  return {
    line: row?.line ?? null,
    column: row && field ? field.column : null,
    value: row && at !== undefined ? (row.cells[at] ?? null) : null,
    message: reworded,
    ...(reworded === message ? {} : { original: message }),
  };
}

/** The problems of a refused request, if it was refused for its rows (BAD_USER_INPUT with issues); null otherwise. */
function rowProblems(file: CustomerFile, offset: number, errors: readonly GraphQLErrorBody[]): { problems: FileProblem[]; count: number } | null {
  if (errors.length === 0 || !errors.every((e) => e.extensions?.code === 'BAD_USER_INPUT')) return null;
  const problems: FileProblem[] = [];
  let count = 0;
  for (const error of errors) {
    const issues = error.extensions?.issues ?? [];
    if (issues.length === 0) {
      // About no one field (graphql-js's "Too many errors" after 50 of them): said as it is.
      const message = inFormWords(error.message);
      problems.push({ line: null, column: null, value: null, message, ...(message === error.message ? {} : { original: error.message }) });
      count++;
      continue;
    }
    // One rule error lists up to MAX_LISTED_ISSUES with the total; graphql-js's type errors are one error per problem.
    count += error.extensions?.issueCount ?? issues.length;
    for (const issue of issues) problems.push(problemOfIssue(file, offset, issue.path, issue.message));
  }
  return { problems, count };
}

/**
 * Scores every row of `file`. `progress` is told of each request before it is sent. A request
 * the gateway refuses for its rows does not stop the others being checked, so the count of
 * problems is the file's; no result is given then, though the gateway scored the requests it did
 * not refuse (they are predictions on its /metrics), so the page says no results are shown, not
 * that nothing was scored.
 */
export async function scoreFile(file: CustomerFile, limits: Limits, progress: (p: ScoreProgress) => void, cancel: AbortSignal): Promise<ScoreResult> {
  const customers = file.rows.map((r) => r.customer);
  const split = splitIntoRequests(customers, limits, ScoreFileDocument);
  if ('tooLarge' in split) {
    const line = file.rows[split.tooLarge]?.line;
    const message = `line ${line}'s customer alone makes a request larger than this gateway reads (BODY_LIMIT_BYTES, ${limits.bodyLimitBytes} bytes)`;
    return { kind: 'failed', message, requestId: null };
  }
  const { spans } = split;
  const versions: string[] = [];
  let changed: { from: string; to: string } | undefined;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const predictions: Prediction[] = [];
    const problems: FileProblem[] = [];
    let problemCount = 0;
    let model: ModelIdentity | null = null;
    let mixed = false;
    for (let s = 0; s < spans.length && !mixed; s++) {
      const [start, end] = spans[s] as Span;
      const at = { request: s + 1, requests: spans.length, attempt, ...(changed && s === 0 ? { modelChanged: changed } : {}) };
      progress(at);
      const { answer, gaveUp } = await executePatiently(ScoreFileDocument, { customers: customers.slice(start, end) }, cancel, (waiting) => progress({ ...at, waiting }));
      if (cancel.aborted) return { kind: 'cancelled' };
      if (!answer.ok) {
        const said = answer.errors.map((e) => e.message).join(' ');
        // The gateway's words when it answered; the page's own (unreachable, no answer in time) otherwise.
        const original = answer.status === null ? undefined : said;
        if (gaveUp) return { kind: 'failed', message: `${gaveUpReason(gaveUp)}. Choose the file again in a minute.`, original, requestId: gaveUp === 'starting' ? null : answer.requestId };
        const refused = rowProblems(file, start, answer.errors);
        if (!refused) return { kind: 'failed', message: inFormWords(said), original, requestId: answer.requestId };
        problemCount += refused.count;
        for (const p of refused.problems) if (problems.length < MAX_LISTED_ISSUES) problems.push(p);
        continue;
      }
      if (problemCount > 0) continue; // the file is refused: only its problems are counted now
      const batch = answer.data.predictBatch;
      if (batch.length !== end - start) {
        const message = `the gateway answered ${batch.length} predictions for ${end - start} customers`;
        return { kind: 'failed', message, requestId: null };
      }
      for (const p of batch) {
        model ??= modelOf(p);
        if (!sameModel(model, modelOf(p))) {
          changed = namesOf(model, modelOf(p));
          mixed = true;
          break;
        }
        predictions.push(p);
      }
    }
    if (problemCount > 0) return { kind: 'refused', problems, count: problemCount };
    if (mixed && changed) {
      versions.push(changed.from, changed.to);
      continue;
    }
    const first = predictions[0] as Prediction;
    return { kind: 'scored', predictions, modelVersion: first.modelVersion, modelRunId: first.modelRunId, threshold: first.threshold, requests: spans.length, attempts: attempt };
  }
  return { kind: 'unsettled', versions: [...new Set(versions)], attempts: MAX_ATTEMPTS };
}

/** A customer's best offer: the one the model scores lowest, among those worth a call (offersLowering). */
export interface BestOffer {
  readonly offer: Offer;
  readonly churnProbability: number;
  readonly willChurn: boolean;
}

/**
 * A row's best offer; or, for a customer likely to churn, that none is worth a call or that there
 * is nothing to try (a two-year contract, automatic payment and every protective add-on); null for
 * a customer not likely to churn.
 */
export type RowOffer = BestOffer | 'none-lowers' | 'nothing-to-try' | null;

/**
 * A row's best offer that keeps the customer's contract (automatic payment, an add-on): the same
 * as its RowOffer when that is no contract change; 'none-keeping-lowers' when none of those lowers
 * the score enough (though a longer contract may); 'only-contract' when a longer contract is all
 * there is to try. On the data set every best offer is a two-year contract, which many customers
 * will not sign; this one varies from customer to customer (docs/ui.md, "Score a file", has the counts).
 */
export type KeepingContractOffer = BestOffer | 'none-keeping-lowers' | 'nothing-to-try' | 'only-contract' | null;

export type OffersResult =
  /** Per row of the file, its RowOffer and its KeepingContractOffer. */
  | { kind: 'scored'; best: readonly RowOffer[]; keepingContract: readonly KeepingContractOffer[]; customers: number; offers: number; nothingToTry: number; requests: number }
  /** Not scored (unreachable, refused, another model answered): why, in a sentence, and the request id when the gateway failed. */
  | { kind: 'failed'; message: string; requestId: string | null };

/** The run was aborted while its offers were scored (another file chosen, Cancel). */
export interface Cancelled {
  readonly kind: 'cancelled';
}

/** An offer lowering the score (offersLowering) as a row's best. */
const bestOf = ({ offer, score }: { offer: Offer; score: OfferOutcome }): BestOffer => ({ offer, churnProbability: score.churnProbability, willChurn: score.willChurn });

/** Whether an offer leaves the customer's contract as it is. */
const keepsContract = (offer: Offer): boolean => offer.field !== 'contract';

/**
 * The best offer of each customer likely to churn (the form's offers, ui/src/app/retention-offers.ts),
 * and the best that keeps the customer's contract, from the same scores: scored through the
 * RetentionOffers operation within the gateway's limits, by the model that scored the file
 * (`predictions`); another model answering is a failure here, not a reason to score the file
 * again: the file's own scores stand. `progress` is told of each request before it is sent.
 */
export async function scoreBestOffers(
  file: CustomerFile,
  predictions: readonly Prediction[],
  limits: Limits,
  progress: (request: number, requests: number, waiting?: Waiting) => void,
  cancel: AbortSignal,
): Promise<OffersResult | Cancelled> {
  const tried: { row: number; offer: Offer }[] = [];
  const best: RowOffer[] = file.rows.map(() => null);
  const keepingContract: KeepingContractOffer[] = file.rows.map(() => null);
  file.rows.forEach((row, i) => {
    if (!(predictions[i] as Prediction).willChurn) return;
    const offers = offersFor(row.customer);
    best[i] = offers.length === 0 ? 'nothing-to-try' : 'none-lowers';
    keepingContract[i] = offers.length === 0 ? 'nothing-to-try' : offers.some(keepsContract) ? 'none-keeping-lowers' : 'only-contract';
    for (const offer of offers) tried.push({ row: i, offer });
  });
  const split = splitIntoRequests(tried.map((t) => t.offer.customer), limits, RetentionOffersDocument);
  // Defensive: an offer changes one enum value of a row the file's own requests carried, and this operation's request is smaller than ScoreFile's.
  if ('tooLarge' in split) {
    const line = file.rows[(tried[split.tooLarge] as (typeof tried)[number]).row]?.line;
    return { kind: 'failed', message: `an offer for line ${line}'s customer alone makes a request larger than this gateway reads (BODY_LIMIT_BYTES, ${limits.bodyLimitBytes} bytes)`, requestId: null };
  }
  const model = modelOf(predictions[0] as Prediction);
  const scores: RetentionOffersMutation['predictBatch'] = [];
  for (const [s, [start, end]] of split.spans.entries()) {
    progress(s + 1, split.spans.length);
    const { answer, gaveUp } = await executePatiently(RetentionOffersDocument, { customers: tried.slice(start, end).map((t) => t.offer.customer) }, cancel, (waiting) =>
      progress(s + 1, split.spans.length, waiting),
    );
    if (cancel.aborted) return { kind: 'cancelled' };
    if (!answer.ok) {
      if (gaveUp) return { kind: 'failed', message: gaveUpReason(gaveUp), requestId: gaveUp === 'starting' ? null : answer.requestId };
      return { kind: 'failed', message: inFormWords(answer.errors.map((e) => e.message).join(' ')), requestId: answer.requestId };
    }
    if (answer.data.predictBatch.length !== end - start) return { kind: 'failed', message: `the gateway answered ${answer.data.predictBatch.length} scores for ${end - start} offers`, requestId: null };
    const other = answer.data.predictBatch.find((p) => !sameModel(model, { version: p.modelVersion, runId: p.modelRunId }));
    if (other) {
      const { from, to } = namesOf(model, { version: other.modelVersion, runId: other.modelRunId });
      return { kind: 'failed', message: `the model changed from version ${from} to version ${to} while the offers were scored, and the file was scored by version ${from}`, requestId: null };
    }
    scores.push(...answer.data.predictBatch);
  }
  // `tried` holds each customer's offers together, rows in the file's order, as `scores` does.
  let at = 0;
  while (at < tried.length) {
    const row = (tried[at] as (typeof tried)[number]).row;
    let end = at;
    while (end < tried.length && (tried[end] as (typeof tried)[number]).row === row) end++;
    const lowering = offersLowering(tried.slice(at, end).map((t) => t.offer), scores.slice(at, end), predictions[row] as Prediction);
    const [first] = lowering;
    if (first) best[row] = bestOf(first);
    const kept = lowering.find((l) => keepsContract(l.offer));
    if (kept) keepingContract[row] = bestOf(kept);
    at = end;
  }
  return { kind: 'scored', best, keepingContract, customers: new Set(tried.map((t) => t.row)).size, offers: tried.length, nothingToTry: best.filter((b) => b === 'nothing-to-try').length, requests: split.spans.length };
}
