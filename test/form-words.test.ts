/**
 * The UI's rewriting of gateway messages into the form's words (ui/src/app/form-words.ts), on
 * messages of the shapes graphql-js and the gateway write. The browser tests (ui.test.ts) show
 * it on real answers; these pin the cases a real answer rarely carries.
 */
import { describe, expect, it } from 'vitest';
import { inFormWords } from '../ui/src/app/form-words.js';

describe('inFormWords', () => {
  it('quotes a value it relabels, but not one the message already quotes', () => {
    expect(inFormWords('contract must be MONTH_TO_MONTH', 'contract')).toBe('Contract must be "Month-to-month"');
    expect(inFormWords('Did you mean the enum value "TWO_YEAR"?', 'contract')).toBe('Did you mean the enum value "Two year"?');
  });

  it('in a message about no one field, relabels only names on a path: a bare word may be English', () => {
    expect(inFormWords('the model does not match the gateway contract')).toBe('the model does not match the gateway contract');
    expect(inFormWords('Variable "$customer" got invalid value "X" at "customer.contract"')).toBe('Variable "$customer" got invalid value "X" at "Contract"');
  });

  it("names a field by its label without the label's parenthetical, which the sentence says itself", () => {
    expect(inFormWords('tenure must be an integer number of months from 0 to 1200; got 5000', 'tenure')).toBe('Tenure must be an integer number of months from 0 to 1200; got 5000');
    expect(inFormWords('Variable "$customer" got invalid value "x" at "customer.seniorCitizen"')).toBe('Variable "$customer" got invalid value "x" at "Senior citizen"');
  });

  it('reads a value as one of the field named last', () => {
    expect(inFormWords('multipleLines must be NO_PHONE_SERVICE exactly when phoneService is false', 'multipleLines')).toBe(
      'Multiple lines must be "No phone service" exactly when Phone service is "No"',
    );
  });
});
