/**
 * Turns the form's raw strings into a CustomerInput, or says what is wrong with which
 * field. The rules mirror the gateway's (src/customer-rules.ts) so people see mistakes
 * before a request; the gateway stays the authority and its BAD_USER_INPUT issues are
 * shown the same way.
 */
import { CUSTOMER_ID_MAX_LENGTH, MAX_CHARGE, customerIdFits } from '../../../src/contract.js';
import type { CustomerInput } from '../../../src/generated/graphql.js';
import { underflows } from '../../../src/number-text.js';
import { ADD_ON_FIELDS, ALL_FIELDS, type FieldName } from './customer-fields.js';

export type RawValues = Readonly<Record<FieldName, string>>;
/** A control of the form: a CustomerInput field, the customer id included. */
export type FormFieldName = FieldName | 'customerId';
export type FieldIssues = Partial<Record<FormFieldName, string>>;

export type Parsed = { ok: true; customer: CustomerInput } | { ok: false; issues: FieldIssues };


/** Digits with at most one decimal point (and an optional exponent): no separators, no hex. */
const PLAIN_NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i;

/** null for an empty field, NaN for text that is not a plain number or that would read as 0 without being zero (1e-400). */
function parseNumber(raw: string): number | null {
  const text = raw.trim();
  if (text === '') return null;
  const n = PLAIN_NUMBER.test(text) && !underflows(text) ? Number(text) : Number.NaN;
  return Number.isFinite(n) ? n : Number.NaN;
}

/**
 * A decimal comma is refused rather than read: "1,234" may mean 1.234 or 1234, and
 * guessing either would predict for a customer nobody entered.
 */
function amountIssue(text: string): string {
  if (text.includes(',')) return `Enter an amount with a point for decimals (74.40, not 74,40) and no separators; got ${text}.`;
  // Not a number at all ($74.40, 74.40 EUR, 7 4, 74.4.0): "0 or more" would not say what is wrong.
  if (!PLAIN_NUMBER.test(text)) return `Enter a plain amount with a point for decimals (74.40): no currency, spaces or other characters; got ${text}.`;
  if (underflows(text)) return `${text} is too small to tell from 0: enter 0, or a larger amount.`;
  if (Number(text) > MAX_CHARGE) return `Enter an amount from 0 to ${MAX_CHARGE}; got ${text}.`;
  return `Enter an amount of 0 or more; got ${text}.`;
}

export function parseCustomer(raw: RawValues, customerId: string): Parsed {
  const issues: FieldIssues = {};
  const values: Record<string, unknown> = {};
  for (const field of ALL_FIELDS) {
    const text = raw[field.name];
    switch (field.kind) {
      case 'choice':
        if (!(text in field.options)) issues[field.name] = `Choose one of: ${Object.values(field.options).join(', ')}.`;
        values[field.name] = text;
        break;
      case 'yesNo':
        if (text !== 'true' && text !== 'false') issues[field.name] = 'Choose Yes or No.';
        values[field.name] = text === 'true';
        break;
      case 'integer': {
        const n = parseNumber(text);
        if (n === null || !Number.isInteger(n) || n < field.min || n > field.max) {
          issues[field.name] = `Enter a whole number from ${field.min} to ${field.max}${text.trim() ? `; got ${text.trim()}` : ''}.`;
        }
        values[field.name] = n;
        break;
      }
      case 'money': {
        const n = parseNumber(text);
        if (n === null && !field.optional) issues[field.name] = 'Enter an amount, 0 or more.';
        else if (n !== null && (Number.isNaN(n) || n < 0 || n > MAX_CHARGE)) issues[field.name] = amountIssue(text.trim());
        values[field.name] = n;
        break;
      }
    }
  }
  // Not yet billed is a tenure-0 customer's state; the gateway refuses an empty total after that.
  if (!issues.totalCharges && !issues.tenure && values['totalCharges'] === null && values['tenure'] !== 0) {
    issues.totalCharges = 'Leave this empty only for a customer not yet billed (tenure 0); enter the total billed so far.';
  }
  const phone = values['phoneService'] === true;
  if (!issues.multipleLines && !issues.phoneService && phone === (values['multipleLines'] === 'NO_PHONE_SERVICE')) {
    issues.multipleLines = phone ? 'With phone service, choose Yes or No (not "No phone service").' : 'Without phone service, this must be "No phone service".';
  }
  const hasInternet = values['internetService'] !== 'NO';
  if (!issues.internetService) {
    for (const name of ADD_ON_FIELDS) {
      if (!issues[name] && hasInternet === (values[name] === 'NO_INTERNET_SERVICE')) {
        issues[name] = hasInternet ? 'With internet service, choose Yes or No (not "No internet service").' : 'Without internet service, this must be "No internet service".';
      }
    }
  }
  const id = customerId.trim();
  // Counted as the gateway counts (code points: an emoji is one character).
  if (!customerIdFits(id)) issues.customerId = `Enter at most ${CUSTOMER_ID_MAX_LENGTH} characters; got ${[...id].length}.`;
  if (Object.keys(issues).length > 0) return { ok: false, issues };
  return { ok: true, customer: { ...(values as Omit<CustomerInput, 'customerId'>), customerId: id === '' ? null : id } };
}
