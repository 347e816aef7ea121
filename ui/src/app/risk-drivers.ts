/**
 * A prediction's risk drivers (Prediction.explanation: SHAP values in log-odds, by input field)
 * in the form's words, and the form's "Why this score" panel. A driver is named by its data set
 * column (Contract, tenure) or, for a feature the model derives from several columns, by the
 * model's name of it (TotalCharges/tenure, with `fields` [TotalCharges, tenure]); the labels and
 * the values' words are the form's (customer-fields.ts), the column names the contract's.
 */
import { CUSTOMER_FIELDS } from '../../../src/contract.js';
import type { CustomerInput, PredictMutation } from '../../../src/generated/graphql.js';
import { ALL_FIELDS, YES_NO, type FieldName, type FieldSpec } from './customer-fields.js';
import { h } from './dom.js';
import { fieldLabel, inSentence } from './form-words.js';
import { markSectionStale } from './panels.js';

/** What every operation that explains asks of a driver. */
export interface RiskDriver {
  readonly name: string;
  readonly fields: readonly string[];
  readonly contribution: number;
}

/** Drivers the form shows; the rest are in the analysts' table under them. */
export const DRIVERS_SHOWN = 5;

/** The reasons /ui/batch gives a customer: at most this many drivers that raise the risk. */
export const REASONS_SHOWN = 3;

/**
 * The least a driver must raise the risk by to be given as a reason on /ui/batch: 0.05 log-odds,
 * about one percentage point of churn probability for a customer near 50 % (p(1 − p) × 0.05) and
 * less further from it. Below it a value moves the score by noise: on the full data set every
 * driver above 0 made Gender a "main reason" for 399 customers at a median of +0.0055, and a
 * retention team would act on a reason it is given.
 */
export const REASON_MIN_CONTRIBUTION = 0.05;

const FIELD_OF_COLUMN = new Map<string, FieldName>(CUSTOMER_FIELDS.map((f) => [f.column, f.field]));
const SPEC = new Map<FieldName, FieldSpec>(ALL_FIELDS.map((f) => [f.name, f]));

/**
 * The words of a feature the model derives from several fields, by the model's name of it; the
 * columns it reads are added from the gateway's answer (its `fields`), in the form's labels.
 */
const DERIVED_WORDS: Readonly<Record<string, string>> = { 'TotalCharges/tenure': 'Average monthly charge so far' };

/** A driver read as numerator ÷ denominator: its name is its two fields with a slash between (TotalCharges/tenure). */
export const ratioOf = (d: RiskDriver): readonly [string, string] | null => {
  const [top, bottom] = d.fields;
  return d.fields.length === 2 && top !== undefined && bottom !== undefined && d.name === `${top}/${bottom}` ? [top, bottom] : null;
};

const labelOfColumn = (column: string): string => {
  const field = FIELD_OF_COLUMN.get(column);
  return field ? fieldLabel(field) : column;
};

/**
 * An amount as a bill writes it, in cents (70.10, where String gives 70.1, for 70.10 typed or a
 * file's cell); every digit of one with fractions of a cent, which rounding would misstate.
 */
function moneyText(amount: number): string {
  const cents = amount * 100;
  return Math.abs(cents - Math.round(cents)) < 1e-6 ? amount.toFixed(2) : String(amount);
}

/** A field's value as the form words it: its option's label, Yes/No, the number (an amount in cents); an empty total is "not yet billed". */
function formValue(field: FieldName, customer: CustomerInput): string {
  const value = customer[field];
  const spec = SPEC.get(field);
  if (value === null || value === undefined) return 'empty (not yet billed)';
  if (spec?.kind === 'choice') return spec.options[String(value)] ?? String(value);
  if (spec?.kind === 'yesNo') return YES_NO[String(value) as 'true' | 'false'];
  if (spec?.kind === 'money' && typeof value === 'number') return moneyText(value);
  return String(value);
}

const numberOf = (customer: CustomerInput, column: string): number | null => {
  const field = FIELD_OF_COLUMN.get(column);
  const value = field ? customer[field] : null;
  return typeof value === 'number' ? value : null;
};

/**
 * A ratio driver's value for this customer, to the cent: "74.40"; when the denominator is 0 (a
 * customer in their first month) there is none, which says so rather than showing the model's
 * stand-in number.
 */
export function ratioValue(customer: CustomerInput, [top, bottom]: readonly [string, string], bottomWords: string): string {
  const [n, d] = [numberOf(customer, top), numberOf(customer, bottom)];
  if (d === 0) return `none yet (${bottomWords} 0)`;
  return n === null || d === null ? 'unknown' : (n / d).toFixed(2);
}

/** A driver as the form says it: its label, and this customer's value of it. */
export function driverInFormWords(d: RiskDriver, customer: CustomerInput): { label: string; value: string } {
  const field = FIELD_OF_COLUMN.get(d.name);
  if (field) return { label: fieldLabel(field), value: formValue(field, customer) };
  const ratio = ratioOf(d);
  if (ratio) {
    const [top, bottom] = ratio.map((c) => inSentence(labelOfColumn(c))) as [string, string];
    const words = DERIVED_WORDS[d.name];
    const formula = `${top} ÷ ${bottom}`;
    return { label: words ? `${words} (${formula})` : formula, value: ratioValue(customer, ratio, bottom) };
  }
  // A derived feature this page has no words for: the model's name, and the values it reads.
  return {
    label: d.name,
    value: d.fields.map((c) => {
      const f = FIELD_OF_COLUMN.get(c);
      return `${inSentence(labelOfColumn(c))} ${f ? formValue(f, customer) : '?'}`;
    }).join(', '),
  };
}

/** Whether a driver raises or lowers the risk, in words (the bars' colour only repeats it). */
export const effectText = (contribution: number): string => (contribution > 0 ? 'raises risk' : contribution < 0 ? 'lowers risk' : 'no effect');

/** The drivers that raise the risk most, by REASON_MIN_CONTRIBUTION or more, largest first (the gateway orders them by size, either sign). */
export const raisingDrivers = <D extends RiskDriver>(drivers: readonly D[], n = REASONS_SHOWN): D[] =>
  drivers.filter((d) => d.contribution >= REASON_MIN_CONTRIBUTION).slice(0, n);

/** A SHAP value as analysts read it: signed, in log-odds; three decimals, or two significant digits for a tiny one (not +0.000). */
const logOdds = (x: number) => {
  const size = Math.abs(x);
  return `${x > 0 ? '+' : x < 0 ? '−' : ''}${size !== 0 && size < 0.0005 ? size.toExponential(1) : size.toFixed(3)}`;
};

type Explanation = NonNullable<PredictMutation['predict']['explanation']>;

/**
 * "Why this score": the DRIVERS_SHOWN largest drivers, each with the customer's value, whether it
 * raises or lowers the risk, and a bar for its size against the largest; the SHAP values of every
 * driver in a table folded under them. Without an explanation (a model version that carries no
 * explainer), one line saying so.
 */
export function renderDrivers(target: HTMLElement, explanation: Explanation | null, customer: CustomerInput, modelVersion: string): void {
  const heading = h('h3', { id: 'drivers-title' }, 'Why this score');
  if (explanation === null) {
    target.replaceChildren(
      h('section', { class: 'drivers', 'aria-labelledby': 'drivers-title', 'data-testid': 'drivers' }, heading, h('p', { class: 'muted', 'data-testid': 'no-explainer' }, `Model version ${modelVersion} carries no explainer, so it cannot say which of this customer’s values drive the score.`)),
    );
    return;
  }
  const shown = explanation.drivers.slice(0, DRIVERS_SHOWN);
  const largest = Math.max(0, ...shown.map((d) => Math.abs(d.contribution)));
  const items = shown.map((d) => {
    const { label, value } = driverInFormWords(d, customer);
    const effect = effectText(d.contribution);
    const direction = d.contribution > 0 ? 'raises' : d.contribution < 0 ? 'lowers' : 'none';
    const fill = h('span', { class: 'driver-fill' });
    fill.style.width = `${largest > 0 ? (Math.abs(d.contribution) / largest) * 100 : 0}%`;
    // The SHAP value as the bar's tooltip, not the item's: a title on the <li> became its accessible
    // name, so screen readers announced "SHAP value +0.927 log-odds" in place of the driver's words.
    return h(
      'li',
      { class: `driver driver-${direction}`, 'data-testid': 'driver', 'data-driver': d.name },
      h('span', { class: 'driver-text' }, h('span', { class: 'driver-label' }, label), ': ', h('span', { class: 'driver-value', 'data-testid': 'driver-value' }, value), ' — ', h('strong', { class: 'driver-effect', 'data-testid': 'driver-effect' }, effect)),
      h('span', { class: 'driver-bar', 'aria-hidden': 'true', title: `SHAP value ${logOdds(d.contribution)} log-odds` }, fill),
    );
  });
  const rows = explanation.drivers.map((d) => {
    const { label, value } = driverInFormWords(d, customer);
    return h('tr', {}, h('th', { scope: 'row' }, label), h('td', { class: 'text' }, value), h('td', {}, logOdds(d.contribution)));
  });
  target.replaceChildren(
    h(
      'section',
      { class: 'drivers', 'aria-labelledby': 'drivers-title', 'data-testid': 'drivers' },
      heading,
      h(
        'p',
        { class: 'muted', 'data-testid': 'drivers-note' },
        `The model’s own account of this prediction: how far each of this customer’s values moves the risk up or down from the model’s average customer, largest first. The churn probability is the model’s; the drivers explain it and do not change it.`,
      ),
      h('ol', { class: 'driver-list' }, ...items),
      h(
        'details',
        { class: 'shap' },
        h('summary', {}, `SHAP values of all ${explanation.drivers.length} drivers (log-odds, for analysts)`),
        h(
          'p',
          {},
          `The model’s average customer is at ${logOdds(explanation.baseLogOdds)} log-odds; this customer at ${logOdds(explanation.logOdds)}, the average plus every value below. Above 0 raises the risk, below 0 lowers it.`,
        ),
        h(
          'table',
          { class: 'metrics shap-table' },
          h('caption', {}, 'Risk drivers by size'),
          h('thead', {}, h('tr', {}, ...['Driver', 'Customer’s value', 'SHAP value'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, ...rows),
        ),
      ),
    ),
  );
}

/**
 * Once the form changes after a prediction, its drivers say they are for the values before (once;
 * no-op without drivers, and under the line saying the model has none, which stays true).
 */
export function markDriversStale(target: HTMLElement): void {
  const section = target.querySelector('.drivers');
  if (section?.querySelector('.driver-list')) markSectionStale(section, 'These drivers are for the values before your last change.', 'drivers-stale-note');
}
