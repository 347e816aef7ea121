/** The prediction result and the model panel, rendered from the typed operation results. */
import type { ModelInfoQuery, PredictMutation, RiskLevel } from '../../../src/generated/graphql.js';
import { h } from './dom.js';
import { fieldLabel } from './form-words.js';

export const percent = (p: number) => `${(p * 100).toFixed(1)}%`;

/**
 * The fewest decimals (at least 1) at which the shown probability and threshold agree with the
 * decision (37.49% < 37.50%, never 37.5% < 37.5%); null when no rounding does (a probability
 * exactly at the threshold the gateway still called below).
 */
export function agreeingDigits(p: number, threshold: number, willChurn: boolean): number | null {
  for (let digits = 1; digits <= 12; digits++) {
    const [shownP, shownT] = [p, threshold].map((x) => Number((x * 100).toFixed(digits))) as [number, number];
    if (willChurn ? shownP >= shownT : shownP < shownT) return digits;
  }
  return null;
}

/** "p ≥ threshold" or "p < threshold" at those decimals; in words when there are none. */
function verdictText(p: number, threshold: number, willChurn: boolean, digits: number | null): string {
  const outcome = willChurn ? 'likely to churn' : 'not likely to churn';
  if (digits === null) return `${percent(p)}, at the threshold ${percent(threshold)} → ${outcome}`;
  return `${(p * 100).toFixed(digits)}% ${willChurn ? '≥' : '<'} threshold ${(threshold * 100).toFixed(digits)}% → ${outcome}`;
}

/** Shown over a result once the form no longer holds the customer it was computed for. */
export const STALE_NOTE = 'This result is for the values before your last change: predict again to update it.';

type RangeNote = PredictMutation['predict']['outsideTrainingRange'][number];

/** One input the model never saw the like of in training, in the form's words. */
export const rangeNoteText = ({ field, value, observedMin, observedMax }: RangeNote): string =>
  `${fieldLabel(field)} ${value} is outside what the model was trained on (${observedMin}–${observedMax}): treat this probability with caution.`;

/** The inputs outside the model's training ranges, or nothing when every one is inside. */
function rangeNotice(notes: readonly RangeNote[]): HTMLElement | null {
  if (notes.length === 0) return null;
  return h('div', { class: 'notice range-notice', role: 'note', 'data-testid': 'range-notice' }, ...notes.map((note) => h('p', {}, rangeNoteText(note))));
}

export const RISK_LABEL: Record<RiskLevel, string> = { HIGH: 'High risk', MEDIUM: 'Medium risk', LOW: 'Low risk' };

/**
 * The prediction card. `stale`: the form changed after the request was sent, so the card says
 * the result is for the values before (markStale does the same for a card already shown).
 */
export function renderPrediction(target: HTMLElement, prediction: PredictMutation['predict'], stale = false): void {
  const { churnProbability: p, threshold, willChurn, riskLevel, modelVersion, customerId } = prediction;
  const fill = h('div', { class: 'gauge-fill' });
  fill.style.width = percent(p);
  const mark = h('div', { class: 'gauge-threshold', title: `threshold ${percent(threshold)}` });
  mark.style.left = percent(threshold);
  const digits = agreeingDigits(p, threshold, willChurn);
  const verdict = verdictText(p, threshold, willChurn, digits);
  // The headline and the gauge's name at the verdict's decimals, so no one reads or hears numbers that contradict it.
  const shown = (x: number) => `${(x * 100).toFixed(digits ?? 1)}%`;
  target.replaceChildren(
    h(
      'div',
      { class: `result risk-${riskLevel.toLowerCase()}`, 'data-risk': riskLevel },
      // The headline at the verdict's decimals: 37.47% beside "Medium risk", not 37.5%, which reads as high.
      h('p', { class: 'probability' }, h('span', { class: 'big', 'data-testid': 'probability' }, shown(p)), ' churn probability'),
      h('div', { class: 'gauge', role: 'img', 'aria-label': `Churn probability ${shown(p)}; threshold ${shown(threshold)}` }, fill, mark),
      h('p', { class: 'risk-badge', 'data-testid': 'risk-level' }, RISK_LABEL[riskLevel]),
      h('p', { class: 'verdict', 'data-testid': 'verdict' }, verdict),
      rangeNotice(prediction.outsideTrainingRange),
      h('p', { class: 'meta' }, 'Model version ', h('strong', { 'data-testid': 'model-version' }, modelVersion), customerId ? ` · customer ${customerId}` : ''),
    ),
  );
  if (stale) markStale(target);
}

/**
 * Marks a shown prediction card as no longer matching the form (once; no-op without a card).
 * The note is the one node added to the result's live region, which is not atomic, so a screen
 * reader hears the note alone; a new result or message replaces the region's content and is
 * heard whole. (With aria-atomic, the first edit after a result had the whole card read again.)
 */
export function markStale(target: HTMLElement): void {
  const card = target.querySelector('.result');
  if (!card || card.classList.contains('stale')) return;
  card.classList.add('stale');
  card.prepend(h('p', { class: 'stale-note', 'data-testid': 'stale-note' }, STALE_NOTE));
}

/** A section under the result that no longer matches the form: its note under its heading (once). */
export function markSectionStale(section: Element, note: string, testId: string): void {
  if (section.classList.contains('stale')) return;
  section.classList.add('stale');
  section.querySelector('h3')?.after(h('p', { class: 'stale-note', 'data-testid': testId }, note));
}

/**
 * The gateway's message as it sent it, folded away under the page's rewording of it: what
 * support matches against the gateway's logs and documentation.
 */
export function gatewayWording(original: string): HTMLDetailsElement {
  return h('details', { class: 'gateway-wording' }, h('summary', {}, 'Message as the gateway sent it'), h('code', {}, original));
}

export interface MessageSources {
  /** The gateway's wording of the message, kept when the page reworded it. */
  readonly original?: string;
  /** The id the gateway logged a failed request under, for the person to quote to support. */
  readonly requestId?: string | null;
}

export function renderMessage(target: HTMLElement, message: string, kind: 'info' | 'error', { original, requestId }: MessageSources = {}): void {
  target.replaceChildren(
    h('p', { class: kind === 'error' ? 'problem' : 'muted' }, message),
    requestId ? h('p', { class: 'request-id' }, 'Request id: ', h('code', { 'data-testid': 'request-id' }, requestId)) : '',
    original !== undefined && original !== message ? gatewayWording(original) : '',
  );
}

/**
 * How the pages name a model's MLflow run (the form's model panel, the file page's summary): this
 * term, and the whole id as code, since the id is what MLflow and the gateway's logs find a run by.
 */
export const RUN_ID_TERM = 'Run id';
export const runIdCode = (runId: string, testId?: string): HTMLElement => h('code', { 'data-testid': testId }, runId);

function row(term: string, ...value: (Node | string)[]): HTMLElement[] {
  return [h('dt', {}, term), h('dd', {}, ...value)];
}

const dateTime = (iso: string) => {
  const date = new Date(iso);
  const text = Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return h('time', { datetime: iso }, text);
};

/** Shown first; the rest sit behind "All metrics". */
const KEY_METRICS = ['test_roc_auc', 'test_pr_auc', 'test_f1', 'test_precision', 'test_recall', 'test_accuracy'];

type Metric = ModelInfoQuery['modelInfo']['metrics'][number];

/** Four decimals, or two significant digits for tiny values (a parity difference of 4e-7 is not 0.0000). */
const formatMetric = (value: number) => (Number.isInteger(value) ? String(value) : Math.abs(value) < 0.001 ? value.toExponential(1) : value.toFixed(4));

/** Rows of a metrics table: a metric's key and its value as shown. */
type MetricRow = readonly [string, string];

const metricTable = (caption: string, rows: readonly MetricRow[]) =>
  h(
    'table',
    { class: 'metrics' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Metric'), h('th', { scope: 'col' }, 'Value'))),
    h('tbody', {}, ...rows.map(([key, value]) => h('tr', {}, h('th', { scope: 'row' }, key), h('td', {}, value)))),
  );

/**
 * The key metrics, with the test ROC AUC's 95% interval under it when the run logged one:
 * one test split measures the AUC only to about ±0.02, which a reader comparing models
 * should see beside the number.
 */
function keyMetricRows(metrics: readonly Metric[]): MetricRow[] {
  const value = (key: string) => metrics.find((m) => m.key === key)?.value;
  const rows: MetricRow[] = [];
  for (const key of KEY_METRICS) {
    const v = value(key);
    if (v === undefined) continue;
    rows.push([key, formatMetric(v)]);
    const [low, high] = [value(`${key}_ci95_low`), value(`${key}_ci95_high`)];
    if (low !== undefined && high !== undefined) rows.push([`${key} 95% interval`, `${formatMetric(low)} – ${formatMetric(high)}`]);
  }
  return rows;
}

export function renderModelInfo(target: HTMLElement, info: ModelInfoQuery['modelInfo']): void {
  const key = keyMetricRows(info.metrics);
  const all = info.metrics.map((m): MetricRow => [m.key, formatMetric(m.value)]);
  const metrics = h(
    'div',
    {},
    metricTable(key.length > 0 ? 'Key metrics (test split)' : 'Evaluation metrics', key.length > 0 ? key : all),
    key.length > 0 ? h('details', {}, h('summary', {}, `All ${info.metrics.length} metrics`), metricTable('All metrics', all)) : '',
  );
  target.replaceChildren(
    info.notice ? h('p', { class: 'notice', role: 'note' }, info.notice) : '',
    h(
      'dl',
      { class: 'facts' },
      ...row('Model', info.name),
      // Predictions carry modelVersion: the registry version, or run-<id> when unregistered.
      ...row('Version', info.version ?? 'unregistered', info.alias ? ` @${info.alias}` : '', info.modelVersion === info.version ? '' : ` (${info.modelVersion})`),
      ...row('Source', info.source === 'MLFLOW' ? 'MLflow registry' : 'Bundled with the gateway'),
      ...row(RUN_ID_TERM, runIdCode(info.runId, 'run-id')),
      ...row('Experiment', `${info.experimentName} (id ${info.experimentId})`),
      ...row('Trained at', dateTime(info.trainedAt)),
      ...row('Loaded at', dateTime(info.loadedAt)),
      ...row('Threshold', percent(info.threshold), h('span', { class: 'muted' }, ` — ${info.thresholdRule}`)),
      ...row('Risk bands', `medium from ${percent(info.riskBands.mediumFrom)}, high from ${percent(info.riskBands.highFrom)}`),
    ),
    info.metrics.length > 0 ? metrics : h('p', { class: 'muted' }, 'No metrics were logged for this run.'),
  );
}
