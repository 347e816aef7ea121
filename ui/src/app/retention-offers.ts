/**
 * "Offers the model scores lower", under the form's risk drivers: the customer scored again with
 * one change a retention team can offer, for each such change, and the ones that lower the score.
 *
 * Which changes are offers is this page's decision, not the model's: the model would also score a
 * customer lower on paper bills, without streaming, or older, and none of those is something to
 * offer. The list is kept to what a retention team offers: a longer contract, automatic payment,
 * and a protective add-on (online security, tech support, online backup, device protection)
 * included. Everything else stays as the customer has it, the charges too: an add-on is scored as
 * given at no extra charge, since a higher monthly charge would be another change.
 *
 * What a lower score means, and what it does not: the model learned from customers who had a
 * two-year contract, not from customers moved to one. It says where a conversation may pay off,
 * not what an offer will do; the page says so.
 */
import type { AddOn, Contract, CustomerInput, PaymentMethod, RetentionOffersMutation } from '../../../src/generated/graphql.js';
import { ALL_FIELDS, type FieldName } from './customer-fields.js';
import { h } from './dom.js';
import { fieldLabel } from './form-words.js';
import { agreeingDigits } from './panels.js';

/** One change to a customer that a retention team can offer. */
export interface Offer {
  readonly field: OfferField;
  readonly value: string;
  /** The customer with this change alone. */
  readonly customer: CustomerInput;
}

type OfferField = 'contract' | 'paymentMethod' | (typeof PROTECTIVE_ADD_ONS)[number];

/** Contracts by length: an offer is a longer one than the customer has. */
const CONTRACTS_BY_LENGTH: readonly Contract[] = ['MONTH_TO_MONTH', 'ONE_YEAR', 'TWO_YEAR'];
const AUTOMATIC_PAYMENTS: readonly PaymentMethod[] = ['BANK_TRANSFER_AUTOMATIC', 'CREDIT_CARD_AUTOMATIC'];
/** Add-ons a retention team includes to keep a customer; streaming is entertainment, not a reason to stay on a line. */
const PROTECTIVE_ADD_ONS = ['onlineSecurity', 'techSupport', 'onlineBackup', 'deviceProtection'] as const satisfies readonly FieldName[];
const INCLUDED: AddOn = 'YES';

/** The least an offer must lower the churn probability by to be shown: one percentage point. Less is no reason to call anyone. */
export const OFFER_MIN_DROP = 0.01;

/**
 * Every offer this customer does not have yet, in the order the form lists the fields: longer
 * contracts, the automatic payment methods (for a customer paying by check), each protective
 * add-on the customer has not got (for a customer with internet service: without it, the add-ons
 * are not for sale).
 */
export function offersFor(customer: CustomerInput): Offer[] {
  const offers: Offer[] = [];
  const add = (field: OfferField, value: string) => offers.push({ field, value, customer: { ...customer, [field]: value } });
  for (const contract of CONTRACTS_BY_LENGTH.slice(CONTRACTS_BY_LENGTH.indexOf(customer.contract) + 1)) add('contract', contract);
  if (!AUTOMATIC_PAYMENTS.includes(customer.paymentMethod)) for (const method of AUTOMATIC_PAYMENTS) add('paymentMethod', method);
  for (const field of PROTECTIVE_ADD_ONS) if (customer[field] === 'NO') add(field, INCLUDED);
  return offers;
}

const OPTION_LABELS = new Map<string, Readonly<Record<string, string>>>(ALL_FIELDS.flatMap((f) => (f.kind === 'choice' ? [[f.name, f.options] as const] : [])));

/** An offer in the form's words: "Contract: Two year", "Tech support: Yes (included)". */
export function offerText(offer: Pick<Offer, 'field' | 'value'>): string {
  const value = OPTION_LABELS.get(offer.field)?.[offer.value] ?? offer.value;
  return `${fieldLabel(offer.field)}: ${value}${offer.value === INCLUDED ? ' (included)' : ''}`;
}

/** The prediction the offers are compared with. */
export interface ScoredCustomer {
  readonly churnProbability: number;
  readonly willChurn: boolean;
  readonly threshold: number;
  readonly modelVersion: string;
  readonly modelRunId: string;
}

export type OffersOutcome =
  | { readonly kind: 'scored'; readonly scores: RetentionOffersMutation['predictBatch'] }
  | { readonly kind: 'failed'; readonly message: string; readonly requestId: string | null };

const HEADING_ID = 'offers-title';
const heading = () => h('h3', { id: HEADING_ID }, 'Offers the model scores lower');
const section = (...children: (Node | string)[]) => h('section', { class: 'offers', 'aria-labelledby': HEADING_ID, 'data-testid': 'offers' }, heading(), ...children);
const note = (text: string, testId: string) => h('p', { class: 'muted', 'data-testid': testId }, text);

const NOTE =
  'This customer scored again with one change at a time, everything else as it is (the charges too: an add-on as if included at no extra charge). ' +
  'The model learned from customers who had these, not from customers moved to them: a lower score says where a conversation may pay off, not what an offer will do.';

/** While the offers are being scored. */
export function renderOffersPending(target: HTMLElement): void {
  target.replaceChildren(section(note('Scoring the offers…', 'offers-status')));
}

/**
 * The offers that lower the customer's churn probability by OFFER_MIN_DROP or more, lowest score
 * first, each with its probability, how many points lower, and whether it takes the customer under
 * the threshold; a line instead when there is nothing to try, none lowers the score enough, the
 * offers could not be scored, or another model scored them than the customer.
 */
export function renderOffers(target: HTMLElement, offers: readonly Offer[], scored: ScoredCustomer, outcome: OffersOutcome | null): void {
  if (offers.length === 0) {
    target.replaceChildren(section(note('Nothing to try: this customer already has a two-year contract, pays automatically, and has every protective add-on (or no internet service to add them to).', 'offers-status')));
    return;
  }
  if (outcome === null) return renderOffersPending(target);
  if (outcome.kind === 'failed') {
    target.replaceChildren(
      section(
        h('p', { class: 'problem', 'data-testid': 'offers-status' }, `The offers could not be scored: ${outcome.message}`),
        outcome.requestId ? h('p', { class: 'request-id' }, 'Request id: ', h('code', {}, outcome.requestId)) : '',
      ),
    );
    return;
  }
  const { scores } = outcome;
  if (scores.length !== offers.length || scores.some((s) => s.modelVersion !== scored.modelVersion || s.modelRunId !== scored.modelRunId)) {
    target.replaceChildren(section(note('Another model answered while the offers were scored, so they cannot be compared with this prediction: predict again.', 'offers-status')));
    return;
  }
  const lower = offers
    .map((offer, i) => ({ offer, score: scores[i] as (typeof scores)[number] }))
    .filter(({ score }) => scored.churnProbability - score.churnProbability >= OFFER_MIN_DROP)
    .sort((a, b) => a.score.churnProbability - b.score.churnProbability);
  if (lower.length === 0) {
    target.replaceChildren(section(note(`None of the ${offers.length} offers tried (${offers.map(offerText).join('; ')}) lowers this customer’s score by a percentage point or more.`, 'offers-status')));
    return;
  }
  const items = lower.map(({ offer, score }) => {
    const points = ((scored.churnProbability - score.churnProbability) * 100).toFixed(1);
    const crossed = scored.willChurn && !score.willChurn;
    // At the decimals where probability and threshold agree with the decision, as the result card shows them (never "37.5% … under the 37.5% threshold").
    const digits = agreeingDigits(score.churnProbability, scored.threshold, score.willChurn) ?? 1;
    const shown = (p: number) => `${(p * 100).toFixed(digits)}%`;
    return h(
      'li',
      { class: 'offer', 'data-testid': 'offer', 'data-offer': `${offer.field}=${offer.value}` },
      h('span', { class: 'offer-text' }, offerText(offer)),
      ` → ${shown(score.churnProbability)} (${points} points lower)`,
      crossed ? h('strong', { class: 'offer-crossed' }, `, under the ${shown(scored.threshold)} threshold`) : '',
    );
  });
  target.replaceChildren(section(note(NOTE, 'offers-note'), h('ol', { class: 'offer-list' }, ...items)));
}

/** Once the form changes after a prediction, its offers say they are for the values before (once; no-op without offers listed). */
export function markOffersStale(target: HTMLElement): void {
  const shown = target.querySelector('.offers');
  if (!shown?.querySelector('.offer-list') || shown.classList.contains('stale')) return;
  shown.classList.add('stale');
  shown.querySelector('h3')?.after(h('p', { class: 'stale-note', 'data-testid': 'offers-stale-note' }, 'These offers are for the values before your last change.'));
}
