/**
 * Which offers /ui tries for a customer (ui/src/app/retention-offers.ts): the page scores each
 * and shows those the model scores lower (test/ui.test.ts shows that in a browser, on real
 * answers). These pin the rules: what counts as an offer, for whom.
 */
import { describe, expect, it } from 'vitest';
import type { CustomerInput } from '../src/generated/graphql.js';
import { ADD_ON_FIELDS, DEFAULT_CUSTOMER, EXAMPLES } from '../ui/src/app/customer-fields.js';
import { offerText, offersFor } from '../ui/src/app/retention-offers.js';

const tried = (customer: CustomerInput) => offersFor(customer).map((o) => `${o.field}=${o.value}`);

describe('offersFor', () => {
  it('tries longer contracts, automatic payment and each protective add-on missing (in the form’s order), for a month-to-month customer paying by check', () => {
    expect(tried(DEFAULT_CUSTOMER)).toEqual([
      'contract=ONE_YEAR',
      'contract=TWO_YEAR',
      'paymentMethod=BANK_TRANSFER_AUTOMATIC',
      'paymentMethod=CREDIT_CARD_AUTOMATIC',
      'onlineSecurity=YES',
      'onlineBackup=YES',
      'deviceProtection=YES',
      'techSupport=YES',
    ]);
  });

  it('changes exactly the one field of each offer, leaves the customer id out (RetentionOffers selects none), and never changes the customer it was given', () => {
    const customer: CustomerInput = { ...DEFAULT_CUSTOMER, customerId: '7590-VHVEG' };
    const offers = offersFor(customer);
    expect(offers).toHaveLength(8); // the first test lists them
    const fields = Object.keys(customer).filter((k) => k !== 'customerId');
    for (const offer of offers) {
      // Not even as null: the request carries no id at all.
      expect(Object.keys(offer.customer).sort()).toEqual([...fields].sort());
      const changed = fields.filter((k) => customer[k as keyof CustomerInput] !== offer.customer[k as keyof CustomerInput]);
      expect(changed).toEqual([offer.field]);
      expect(offer.customer[offer.field]).toBe(offer.value);
    }
    expect(customer).toEqual({ ...DEFAULT_CUSTOMER, customerId: '7590-VHVEG' });
  });

  it('offers no shorter contract, no other automatic payment, and no add-on the customer has', () => {
    expect(tried({ ...DEFAULT_CUSTOMER, contract: 'ONE_YEAR', paymentMethod: 'CREDIT_CARD_AUTOMATIC', onlineSecurity: 'YES', techSupport: 'YES' })).toEqual([
      'contract=TWO_YEAR',
      'onlineBackup=YES',
      'deviceProtection=YES',
    ]);
    // Mailed check is a check too; streaming is no protective add-on.
    expect(tried({ ...DEFAULT_CUSTOMER, contract: 'TWO_YEAR', paymentMethod: 'MAILED_CHECK' })).toContain('paymentMethod=BANK_TRANSFER_AUTOMATIC');
    expect(tried({ ...DEFAULT_CUSTOMER, streamingTV: 'NO' }).filter((o) => o.startsWith('streaming'))).toEqual([]);
  });

  it('offers no add-on to a customer without internet service, and nothing to the low-risk example, who has it all', () => {
    const offline: CustomerInput = { ...DEFAULT_CUSTOMER, internetService: 'NO', ...Object.fromEntries(ADD_ON_FIELDS.map((f) => [f, 'NO_INTERNET_SERVICE'])) };
    expect(tried(offline)).toEqual(['contract=ONE_YEAR', 'contract=TWO_YEAR', 'paymentMethod=BANK_TRANSFER_AUTOMATIC', 'paymentMethod=CREDIT_CARD_AUTOMATIC']);
    expect(tried(EXAMPLES[1]?.customer as CustomerInput)).toEqual([]);
  });

  it('words an offer in the form’s labels', () => {
    expect(offersFor(DEFAULT_CUSTOMER).map(offerText)).toEqual([
      'Contract: One year',
      'Contract: Two year',
      'Payment method: Bank transfer (automatic)',
      'Payment method: Credit card (automatic)',
      'Online security: Yes (included)',
      'Online backup: Yes (included)',
      'Device protection: Yes (included)',
      'Tech support: Yes (included)',
    ]);
  });
});
