/**
 * "Offers the model scores lower", under the form's risk drivers: the customer scored again with
 * one change a retention team can offer, for each such change, and the ones that lower the score.
 *
 * Which changes are offers is this page's decision, not the model's: the model also scores a
 * customer lower on paper bills (10 points for the form's starting customer) or without streaming,
 * and neither is something to offer. The list is kept to what a retention team offers: a longer contract, automatic payment,
 * and a protective add-on (online security, tech support, online backup, device protection)
 * included. Everything else stays as the customer has it, the charges too: an add-on is scored as
 * given at no extra charge, since a higher monthly charge would be another change.
 *
 * What a lower score means, and what it does not: the model learned from customers who had a
 * two-year contract, not from customers moved to one. It says where a conversation may pay off,
 * not what an offer will do; the page says so.
 */
import type { AddOn, Contract, CustomerInput, PaymentMethod, RetentionOffersMutation } from '../../../src/generated/graphql.js';
import { ADD_ON_FIELDS } from './customer-fields.js';
import { h } from './dom.js';
import { fieldLabel, valueLabel } from './form-words.js';
import { agreeingDigits, markSectionStale } from './panels.js';

/** Add-ons a retention team includes to keep a customer; streaming is entertainment, not a reason to stay on a line. */
const PROTECTIVE_ADD_ONS = ADD_ON_FIELDS.filter((f) => !f.startsWith('streaming'));

type OfferField = 'contract' | 'paymentMethod' | (typeof ADD_ON_FIELDS)[number];

/** One change to a customer that a retention team can offer. */
export interface Offer {
  readonly field: OfferField;
  readonly value: string;
  /**
   * The customer with this change alone, without its customerId: RetentionOffers selects none (a
   * score is matched to its offer by position), and an id of up to 256 characters, sent again with
   * every offer, only made the requests longer.
   */
  readonly customer: CustomerInput;
}

/** Contracts by length: an offer is a longer one than the customer has. */
const CONTRACTS_BY_LENGTH: readonly Contract[] = ['MONTH_TO_MONTH', 'ONE_YEAR', 'TWO_YEAR'];
const AUTOMATIC_PAYMENTS: readonly PaymentMethod[] = ['BANK_TRANSFER_AUTOMATIC', 'CREDIT_CARD_AUTOMATIC'];
const INCLUDED: AddOn = 'YES';

/**
 * The least an offer must lower the churn probability by to be shown, one percentage point (less
 * is no reason to call anyone), unless it takes the customer under the threshold.
 */
const OFFER_MIN_DROP = 0.01;

/**
 * Every offer this customer does not have yet: longer contracts, then the automatic payment
 * methods (for a customer paying by check), then each protective add-on the customer has not got,
 * in the form's order (for a customer with internet service: without it, the add-ons are not for
 * sale). Equal scores are listed in this order.
 */
export function offersFor(customer: CustomerInput): Offer[] {
  const offers: Offer[] = [];
  const withoutId: CustomerInput = { ...customer };
  delete withoutId.customerId;
  const add = (field: OfferField, value: string) => offers.push({ field, value, customer: { ...withoutId, [field]: value } });
  for (const contract of CONTRACTS_BY_LENGTH.slice(CONTRACTS_BY_LENGTH.indexOf(customer.contract) + 1)) add('contract', contract);
  if (!AUTOMATIC_PAYMENTS.includes(customer.paymentMethod)) for (const method of AUTOMATIC_PAYMENTS) add('paymentMethod', method);
  for (const field of PROTECTIVE_ADD_ONS) if (customer[field] === 'NO') add(field, INCLUDED);
  return offers;
}

/** An offer in the form's words: "Contract: Two year", "Tech support: Yes (included)". */
export const offerText = (offer: Pick<Offer, 'field' | 'value'>): string =>
  `${fieldLabel(offer.field)}: ${valueLabel(offer.field, offer.value)}${offer.value === INCLUDED ? ' (included)' : ''}`;

/** The prediction the offers are compared with. */
export interface ScoredCustomer {
  readonly churnProbability: number;
  readonly willChurn: boolean;
  readonly threshold: number;
  readonly modelVersion: string;
  readonly modelRunId: string;
}

type OfferScore = RetentionOffersMutation['predictBatch'][number];

export type OffersOutcome =
  | { readonly kind: 'scored'; readonly scores: readonly OfferScore[] }
  | { readonly kind: 'failed'; readonly message: string; readonly requestId: string | null };

const HEADING_ID = 'offers-title';
const section = (...children: (Node | string)[]) =>
  h('section', { class: 'offers', 'aria-labelledby': HEADING_ID, 'data-testid': 'offers' }, h('h3', { id: HEADING_ID }, 'Offers the model scores lower'), ...children);
const statusLine = (text: string) => section(h('p', { class: 'muted', 'data-testid': 'offers-status' }, text));

const NOTE =
  'This customer scored again with one change at a time, everything else as it is (the charges too: an add-on as if included at no extra charge); ' +
  'those that lower the score by less than a percentage point, and do not take it under the threshold, are left out. ' +
  'The model learned from customers who had these, not from customers moved to them: a lower score says where a conversation may pay off, not what an offer will do.';

/** The percentages of an offer's line, as the person reads and subtracts them. */
interface LineNumbers {
  readonly probability: string;
  readonly points: string;
  /** Said after the numbers: under the threshold, or still at it when the rounding shows them equal. */
  readonly threshold: string | null;
}

/**
 * An offer's numbers at one count of decimals for the whole list: the fewest at which every listed
 * probability and the customer's agree with their decisions against the threshold, as the result
 * card shows them (never "37.5% … under the 37.5% threshold"). The points are the difference of
 * the rounded figures shown, so they add up for a person doing the sum.
 */
function lineNumbers(scored: ScoredCustomer, listed: readonly OfferScore[]): (score: OfferScore) => LineNumbers {
  const digitsOf = (p: number, willChurn: boolean) => agreeingDigits(p, scored.threshold, willChurn) ?? 1;
  const digits = Math.max(digitsOf(scored.churnProbability, scored.willChurn), ...listed.map((s) => digitsOf(s.churnProbability, s.willChurn)));
  const rounded = (p: number) => Number((p * 100).toFixed(digits));
  const threshold = `${rounded(scored.threshold).toFixed(digits)}%`;
  return (score) => ({
    probability: `${rounded(score.churnProbability).toFixed(digits)}%`,
    points: (rounded(scored.churnProbability) - rounded(score.churnProbability)).toFixed(digits),
    threshold: scored.willChurn && !score.willChurn ? `under the ${threshold} threshold` : score.willChurn && rounded(score.churnProbability) === rounded(scored.threshold) ? `still at the ${threshold} threshold` : null,
  });
}

/** A score of an offer: the churn probability and decision the customer has with it. */
export interface OfferOutcome {
  readonly churnProbability: number;
  readonly willChurn: boolean;
}

/**
 * The offers worth a retention team's call, with their scores, lowest first (the order of `offers`
 * among equals): those that lower the churn probability by OFFER_MIN_DROP or more, or take the
 * customer under the threshold. `scores[i]` is the score of `offers[i]`.
 */
export function offersLowering<S extends OfferOutcome>(offers: readonly Offer[], scores: readonly S[], customer: OfferOutcome): { offer: Offer; score: S }[] {
  return offers
    .map((offer, i) => ({ offer, score: scores[i] as S }))
    .filter(({ score }) => customer.churnProbability - score.churnProbability >= OFFER_MIN_DROP || (customer.willChurn && !score.willChurn))
    .sort((a, b) => a.score.churnProbability - b.score.churnProbability);
}

/** While the offers are being scored. */
function renderOffersPending(target: HTMLElement): void {
  const pending = statusLine('Scoring the offers…');
  pending.setAttribute('aria-busy', 'true');
  target.replaceChildren(pending);
}

/**
 * The offers that lower the customer's churn probability by OFFER_MIN_DROP or more, or take it
 * under the threshold, lowest score first, each with its probability, how many points lower, and
 * where it stands against the threshold; a line instead when there is nothing to try, none lowers
 * the score enough, the offers could not be scored, or another model scored them than the customer.
 */
export function renderOffers(target: HTMLElement, offers: readonly Offer[], scored: ScoredCustomer, outcome: OffersOutcome | null): void {
  if (offers.length === 0) {
    target.replaceChildren(statusLine('Nothing to try: this customer already has a two-year contract, pays automatically, and has every protective add-on (or no internet service to add them to).'));
    return;
  }
  if (outcome === null) return renderOffersPending(target);
  if (outcome.kind === 'failed') {
    const failed = section(h('p', { class: 'problem', 'data-testid': 'offers-status' }, `The offers could not be scored: ${outcome.message}`));
    if (outcome.requestId) failed.append(h('p', { class: 'request-id' }, 'Request id: ', h('code', {}, outcome.requestId)));
    target.replaceChildren(failed);
    return;
  }
  const { scores } = outcome;
  if (scores.length !== offers.length) {
    target.replaceChildren(section(h('p', { class: 'problem', 'data-testid': 'offers-status' }, `The offers could not be scored: the gateway answered ${scores.length} scores for ${offers.length} offers.`)));
    return;
  }
  if (scores.some((s) => s.modelVersion !== scored.modelVersion || s.modelRunId !== scored.modelRunId)) {
    target.replaceChildren(statusLine('Another model answered while the offers were scored, so they cannot be compared with this prediction: predict again.'));
    return;
  }
  const lower = offersLowering(offers, scores, scored);
  if (lower.length === 0) {
    const tried = offers.map(offerText).join('; ');
    target.replaceChildren(
      statusLine(
        offers.length === 1
          ? `The one offer tried (${tried}) does not lower this customer’s score by a percentage point or more.`
          : `None of the ${offers.length} offers tried (${tried}) lowers this customer’s score by a percentage point or more.`,
      ),
    );
    return;
  }
  const numbers = lineNumbers(scored, lower.map((l) => l.score));
  const items = lower.map(({ offer, score }) => {
    const { probability, points, threshold } = numbers(score);
    return h(
      'li',
      { class: 'offer', 'data-testid': 'offer', 'data-offer': `${offer.field}=${offer.value}` },
      h('span', { class: 'offer-text' }, offerText(offer)),
      `, scored ${probability} (${points} points lower)`,
      threshold ? ', ' : '',
      threshold ? h('strong', { class: score.willChurn ? 'offer-still' : 'offer-crossed' }, threshold) : '',
    );
  });
  target.replaceChildren(section(h('p', { class: 'muted', 'data-testid': 'offers-note' }, NOTE), h('ol', { class: 'offer-list' }, ...items)));
}

/**
 * Once the form changes after a prediction, its offers, or the line saying why there are none,
 * say they are for the values before (once; not while they are still being scored: the answer is
 * marked when it arrives).
 */
export function markOffersStale(target: HTMLElement): void {
  const offers = target.querySelector('.offers');
  if (offers && offers.getAttribute('aria-busy') !== 'true') markSectionStale(offers, 'These offers are for the values before your last change.', 'offers-stale-note');
}
