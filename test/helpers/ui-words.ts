/**
 * The words the UI shows for a risk level and for a customer's values, written out here rather
 * than read from the UI's own tables (ui/src/app/panels.ts RISK_LABEL, customer-fields.ts), so that
 * a wrong word there fails the browser tests instead of agreeing with itself: the data set's
 * spellings (the contract's), but for a customer without internet service, whose service the
 * form calls "No internet service"; an amount in cents as a bill writes it (42.3 as 42.30), one
 * with fractions of a cent as sent.
 */
import { CONTRACT_ENUMS, CUSTOMER_FIELDS } from '../../src/contract.js';
import type { CustomerInput, RiskLevel } from '../../src/generated/graphql.js';

export const RISK_WORDS: Readonly<Record<RiskLevel, string>> = { HIGH: 'High risk', MEDIUM: 'Medium risk', LOW: 'Low risk' };

/** How the form and /ui/batch show `customer`'s value of `field` (not for a null total: each says that its own way). */
export function valueWords(field: keyof CustomerInput, customer: CustomerInput): string {
  const spec = CUSTOMER_FIELDS.find((f) => f.field === field);
  const value = customer[field];
  if (!spec) throw new Error(`${field} is no contract field`);
  switch (spec.kind) {
    case 'enum': {
      if (field === 'internetService' && value === 'NO') return 'No internet service';
      const words = (CONTRACT_ENUMS[spec.enumName] as Readonly<Record<string, string>>)[String(value)];
      if (words === undefined) throw new Error(`${String(value)} is no value of ${field}`);
      return words;
    }
    case 'yesNo':
    case 'flag01':
      return value ? 'Yes' : 'No';
    case 'money':
      return /^\d+(\.\d{1,2})?$/.test(String(value)) ? (value as number).toFixed(2) : String(value);
    case 'months':
      return String(value);
  }
}
