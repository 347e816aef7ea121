/**
 * Entry point of /ui: mounts the customer form, predicts through the Predict operation
 * and shows the serving model through ModelInfo. Bundled by ui/src/build.ts.
 */
import { ModelInfoDocument, PredictDocument, RetentionOffersDocument, type CustomerInput, type PredictMutation, type RetentionOffersMutation } from '../../../src/generated/graphql.js';
import { DEFAULT_CUSTOMER } from './customer-fields.js';
import { createCustomerForm } from './customer-form.js';
import { byId, h } from './dom.js';
import { rememberForm, rememberedForm } from './form-memory.js';
import { inFormWords } from './form-words.js';
import { execute, notReady, STARTING, type GraphQLErrorBody } from './gateway-client.js';
import { placeErrors } from './gateway-issues.js';
import { markStale, renderMessage, renderModelInfo, renderPrediction } from './panels.js';
import { pageLimits, splitIntoRequests } from './request-split.js';
import { markOffersStale, offersFor, renderOffers, type Offer, type OffersOutcome } from './retention-offers.js';
import { markDriversStale, renderDrivers } from './risk-drivers.js';
import { parseCustomer } from './validate.js';

const result = byId('result');
/**
 * "Why this score", under the result: outside its live region, so a prediction is announced by
 * its probability and verdict, and the drivers are read when a person moves to them.
 */
const drivers = h('div', { id: 'drivers' });
/** "Offers the model scores lower", under the drivers (and outside the live region, like them). */
const offers = h('div', { id: 'offers' });
result.after(drivers, offers);
const modelPanel = byId('model-panel');
/**
 * The panel is a page of facts to read when wanted, not a live region: as one, screen readers
 * read all of it at page load and again at every reload. What changes meaningfully, another
 * model, is said in one line by the polite status line above it.
 */
const modelStatus = byId('model-status');

/** Counts the person's edits to the form: a result computed for an earlier count is stale. */
let edits = 0;
/**
 * The model the panel shows (modelVersion and run); null until ModelInfo has answered. Both: a
 * version number alone can name two models (the packaged bundle's and MLflow's of that number).
 */
let panelModel: { readonly version: string; readonly runId: string } | null = null;
const isPanelModel = (version: string, runId: string) => panelModel !== null && panelModel.version === version && panelModel.runId === runId;

/**
 * Until the panel has shown a model, it asks again after MODEL_NOT_READY or no answer, waiting
 * longer each time (afterwards, each prediction naming another model asks again).
 */
const PANEL_RETRY_FIRST_MS = 2_000;
const PANEL_RETRY_MAX_MS = 30_000;
let panelRetryMs = PANEL_RETRY_FIRST_MS;
let panelRetry: ReturnType<typeof setTimeout> | undefined;

/** Shows the serving model; asked again when a prediction names another model (a promotion). */
async function loadModelInfo(): Promise<void> {
  clearTimeout(panelRetry);
  const answer = await execute(ModelInfoDocument, {});
  if (answer.ok) {
    panelRetryMs = PANEL_RETRY_FIRST_MS;
    const shown = panelModel;
    const { modelVersion: version, runId } = answer.data.modelInfo;
    panelModel = { version, runId };
    renderModelInfo(modelPanel, answer.data.modelInfo);
    if (shown !== null && !isPanelModel(shown.version, shown.runId)) modelStatus.textContent = `Model changed to version ${version}${shown.version === version ? ` (run ${runId})` : ''}.`;
    return;
  }
  const starting = notReady(answer.errors);
  if (panelModel === null && (starting || answer.status === null)) {
    panelRetry = setTimeout(() => void loadModelInfo(), panelRetryMs);
    panelRetryMs = Math.min(panelRetryMs * 2, PANEL_RETRY_MAX_MS);
  }
  if (starting) {
    const said = answer.errors.map((e) => e.message).join(' ');
    renderMessage(modelPanel, `${STARTING} This panel fills in once it is.`, 'info', { original: said });
  } else {
    renderMessage(modelPanel, `Model information is unavailable: ${answer.errors.map((e) => e.message).join(' ')}`, 'error', { requestId: answer.requestId });
    // Asked again because a prediction named another model: the panel no longer shows the model
    // serving, and it is no live region, so say so. (panelModel stays: the next prediction asks again.)
    if (panelModel !== null) modelStatus.textContent = 'A prediction came from another model, and its information could not be loaded: see the Model panel.';
  }
}

/** The prediction card in view, where a long form would otherwise leave it above the screen. */
const revealResult = () => result.closest('section')?.scrollIntoView({ block: 'nearest' });

/**
 * Server issues go next to their field; anything else is shown in the result area. Both in
 * the form's words, with the gateway's own wording kept beside them.
 */
function showServerErrors(errors: readonly GraphQLErrorBody[], requestId: string | null): void {
  if (notReady(errors)) {
    // Nothing was judged: marks left from an earlier attempt are for values since changed.
    form.showIssues({});
    // Not a failure to quote to support: it passes by itself.
    renderMessage(result, `${STARTING} Predict again in a few seconds.`, 'error', { original: errors.map((e) => e.message).join(' ') });
    return;
  }
  const { issues, wording, general } = placeErrors(errors);
  form.showIssues(issues, wording);
  const marked = 'The gateway rejected the customer; see the marked fields.';
  const said = general.join(' ');
  if (general.length === 0) renderMessage(result, marked, 'error');
  // After the marked fields, when there are any: what names none of them.
  else renderMessage(result, Object.keys(issues).length > 0 ? `${marked} ${inFormWords(said)}` : inFormWords(said), 'error', { original: said, requestId });
}

/** Counts the predictions shown: offers scored for an earlier one are dropped when they arrive. */
let predictionsShown = 0;

/**
 * The offers' scores, in as few requests as the gateway's MAX_BATCH and BODY_LIMIT_BYTES allow (as
 * the page states them; all in one when it states none), one after another, as /ui/batch sends a
 * file: a customer's 8 offers in one body are over a BODY_LIMIT_BYTES of 2,048.
 */
async function scoreEach(tried: readonly Offer[]): Promise<OffersOutcome> {
  const customers = tried.map((o) => o.customer);
  const limits = pageLimits() ?? { maxBatch: customers.length, bodyLimitBytes: Number.POSITIVE_INFINITY };
  const split = splitIntoRequests(customers, limits, RetentionOffersDocument);
  if ('tooLarge' in split) {
    return { kind: 'failed', message: `the customer with one offer alone makes a request larger than this gateway reads (BODY_LIMIT_BYTES, ${limits.bodyLimitBytes.toLocaleString('en-US')} bytes).`, requestId: null };
  }
  const scores: RetentionOffersMutation['predictBatch'] = [];
  for (const [start, end] of split.spans) {
    const answer = await execute(RetentionOffersDocument, { customers: customers.slice(start, end) });
    if (!answer.ok) return { kind: 'failed', message: answer.errors.map((e) => e.message).join(' '), requestId: answer.requestId };
    scores.push(...answer.data.predictBatch);
  }
  return { kind: 'scored', scores };
}

/**
 * Scores the offers for the customer of the prediction shown, after it (the form is usable
 * meanwhile): another request, so the prediction is never held up by them.
 */
async function scoreOffers(customer: CustomerInput, prediction: PredictMutation['predict'], editsAtPredict: number): Promise<void> {
  const predictionNow = ++predictionsShown;
  const tried = offersFor(customer);
  renderOffers(offers, tried, prediction, null);
  if (tried.length === 0) return;
  const outcome = await scoreEach(tried);
  if (predictionNow !== predictionsShown) return;
  renderOffers(offers, tried, prediction, outcome);
  if (edits !== editsAtPredict) markOffersStale(offers);
}

/** No prediction shown: neither drivers nor offers, and offers still on their way are dropped. */
function clearBelowResult(): void {
  predictionsShown++;
  drivers.replaceChildren();
  offers.replaceChildren();
}

async function predict(customer: CustomerInput): Promise<void> {
  form.setBusy(true);
  renderMessage(result, 'Predicting…', 'info');
  clearBelowResult();
  revealResult();
  const asked = edits;
  try {
    const answer = await execute(PredictDocument, { customer });
    if (answer.ok) {
      form.showIssues({});
      renderPrediction(result, answer.data.predict, edits !== asked);
      renderDrivers(drivers, answer.data.predict.explanation, customer, answer.data.predict.modelVersion);
      if (edits !== asked) markDriversStale(drivers);
      void scoreOffers(customer, answer.data.predict, asked);
      if (!isPanelModel(answer.data.predict.modelVersion, answer.data.predict.modelRunId)) void loadModelInfo();
    } else showServerErrors(answer.errors, answer.requestId);
  } finally {
    form.setBusy(false);
  }
}

function submit(): void {
  const { raw, customerId } = form.read();
  const parsed = parseCustomer(raw, customerId);
  if (!parsed.ok) {
    form.showIssues(parsed.issues);
    renderMessage(result, 'No prediction: fix the marked fields first.', 'error');
    clearBelowResult();
    return;
  }
  void predict(parsed.customer);
}

const form = createCustomerForm(submit, (customer) => {
  form.fill(customer);
  rememberForm(form.read());
  void predict(customer);
});
form.fill(DEFAULT_CUSTOMER);
// The customer this tab had before a reload or a visit to GraphiQL, as it was typed.
const remembered = rememberedForm();
if (remembered) form.restore(remembered);
// Typing or choosing (not the examples' fill, which predicts what it fills) changes the customer.
for (const type of ['input', 'change']) {
  form.element.addEventListener(type, () => {
    edits++;
    markStale(result);
    markDriversStale(drivers);
    markOffersStale(offers);
    rememberForm(form.read());
  });
}
byId('form-root').replaceChildren(form.element);
renderMessage(result, 'Fill in the customer and choose “Predict churn”, or try an example.', 'info');

void loadModelInfo();
