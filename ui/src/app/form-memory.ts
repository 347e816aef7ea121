/**
 * The form's values, kept in this tab's sessionStorage as they are typed: a reload, Back from
 * GraphiQL or the "Predict" link finds the customer as it was left, not the default one (the
 * form is built by script, so the browser's own form restoration never applied). Only this
 * tab's storage, gone when the tab closes.
 */
import { ALL_FIELDS } from './customer-fields.js';
import type { FormValues } from './customer-form.js';
import type { RawValues } from './validate.js';

const KEY = 'churn-ui:customer-form';

/** Keeps the values; storage that is off or full leaves the form working, just not kept. */
export function rememberForm(values: FormValues): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(values));
  } catch {
    /* nothing to keep them in */
  }
}

/**
 * The values kept by this tab, or null. What is read back is checked as any input is: an
 * entry of another shape (an older page, another script on this origin) is ignored, never filled in.
 */
export function rememberedForm(): FormValues | null {
  let stored: unknown;
  try {
    stored = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
  } catch {
    return null;
  }
  if (typeof stored !== 'object' || stored === null) return null;
  const { raw, customerId } = stored as Record<string, unknown>;
  if (typeof customerId !== 'string' || typeof raw !== 'object' || raw === null) return null;
  const fields = raw as Record<string, unknown>;
  if (!ALL_FIELDS.every((f) => typeof fields[f.name] === 'string')) return null;
  return { raw: Object.fromEntries(ALL_FIELDS.map((f) => [f.name, fields[f.name]])) as RawValues, customerId };
}
