/**
 * The customer form: one labelled control per CustomerInput field, inline errors tied
 * to their control (aria-describedby, aria-invalid), and the two example customers.
 */
import type { CustomerInput } from '../../../src/generated/graphql.js';
import { ADD_ON_FIELDS, ALL_FIELDS, CUSTOMER_ID_MAX_LENGTH, EXAMPLES, FIELD_GROUPS, YES_NO, type FieldName, type FieldSpec } from './customer-fields.js';
import { h } from './dom.js';
import { gatewayWording } from './panels.js';
import type { FieldIssues, FormFieldName, RawValues } from './validate.js';

type Control = HTMLInputElement | HTMLSelectElement;

/** The form's values as typed, valid or not. */
export interface FormValues {
  readonly raw: RawValues;
  readonly customerId: string;
}

export interface CustomerForm {
  readonly element: HTMLFormElement;
  read(): FormValues;
  fill(customer: CustomerInput): void;
  /**
   * Puts back values as they were typed (kept over a reload, form-memory.ts), valid or not; a
   * choice the control does not offer (a build that dropped it) keeps the control's value.
   */
  restore(values: FormValues): void;
  /**
   * Shows the issues (and clears the others); focuses the first invalid control. `wording`:
   * the gateway's own message for an issue the page reworded, shown folded under it.
   */
  showIssues(issues: FieldIssues, wording?: FieldIssues): void;
  /** While busy, the buttons and Enter do nothing (they stay focusable: see setBusy). */
  setBusy(busy: boolean): void;
}

const controlId = (name: string) => `field-${name}`;

/** Every control in the order of the page: the customer id first, as it is on the form. */
const FORM_FIELD_NAMES: readonly FormFieldName[] = ['customerId', ...ALL_FIELDS.map((f) => f.name)];

/**
 * Numbers are text inputs that validate.ts parses: an <input type=number> reports text it
 * cannot read ("1-2", "74,40" in some locales) as "" or with the comma dropped, so a typo
 * became "not yet billed" or 7440 without a word.
 */
function control(field: FieldSpec): Control {
  const common = { id: controlId(field.name), name: field.name };
  switch (field.kind) {
    case 'choice':
      return h('select', common, ...Object.entries(field.options).map(([value, label]) => h('option', { value }, label)));
    case 'yesNo':
      return h('select', common, ...Object.entries(YES_NO).map(([value, label]) => h('option', { value }, label)));
    case 'integer':
      return h('input', { ...common, type: 'text', inputmode: 'numeric', autocomplete: 'off', required: true });
    case 'money':
      return h('input', { ...common, type: 'text', inputmode: 'decimal', autocomplete: 'off', required: !field.optional, placeholder: field.optional ? 'not yet billed' : undefined });
  }
}

/** Whether a drop-down's list is open (false in a browser without `:open`). */
function listOpen(select: HTMLSelectElement): boolean {
  try {
    return select.matches(':open');
  } catch {
    return false;
  }
}

interface FieldParts {
  readonly row: HTMLElement;
  readonly input: Control;
  readonly hint: HTMLElement | null;
  readonly error: HTMLElement;
  /** Holds the gateway's wording, out of the error that aria-describedby reads. */
  readonly wording: HTMLElement;
}

function fieldParts(field: FieldSpec): FieldParts {
  const input = control(field);
  const hint = 'hint' in field ? h('p', { class: 'hint', id: `${controlId(field.name)}-hint` }, field.hint) : null;
  if (hint) input.setAttribute('aria-describedby', hint.id);
  const error = h('p', { class: 'error', id: `${controlId(field.name)}-error`, hidden: true });
  const wording = h('div', { hidden: true });
  const row = h('div', { class: 'field', 'data-field': field.name }, h('label', { for: input.id }, field.label), input, hint, error, wording);
  return { row, input, hint, error, wording };
}

export function createCustomerForm(onSubmit: () => void, onExample: (customer: CustomerInput) => void): CustomerForm {
  const parts = new Map<FormFieldName, FieldParts>();
  const groups = FIELD_GROUPS.map((group) =>
    h(
      'fieldset',
      {},
      h('legend', {}, group.legend),
      ...group.fields.map((field) => {
        const made = fieldParts(field);
        parts.set(field.name, made);
        return made.row;
      }),
    ),
  );
  // No maxlength: it counts UTF-16 units (an emoji is two, where the gateway counts one) and cuts a
  // pasted id short without a word; validate.ts says when an id is too long.
  const customerId = h('input', { id: 'field-customerId', name: 'customerId', type: 'text', autocomplete: 'off', 'aria-describedby': 'field-customerId-hint' });
  const customerIdParts: FieldParts = {
    input: customerId,
    hint: h('p', { class: 'hint', id: 'field-customerId-hint' }, `Echoed back with the prediction (at most ${CUSTOMER_ID_MAX_LENGTH} characters); not used by the model.`),
    error: h('p', { class: 'error', id: 'field-customerId-error', hidden: true }),
    wording: h('div', { hidden: true }),
    row: h('div', { class: 'field', 'data-field': 'customerId' }),
  };
  customerIdParts.row.append(h('label', { for: customerId.id }, 'Customer id (optional)'), customerId, customerIdParts.hint as HTMLElement, customerIdParts.error, customerIdParts.wording);
  parts.set('customerId', customerIdParts);
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Predict churn');
  let busy = false;
  const examples = EXAMPLES.map((example) => {
    const button = h('button', { type: 'button', class: 'secondary', 'data-example': example.id }, example.label);
    button.addEventListener('click', () => {
      if (!busy) onExample(example.customer);
    });
    return button;
  });
  const summary = h('div', { class: 'summary', id: 'form-summary', role: 'alert', hidden: true });
  const element = h(
    'form',
    { id: 'customer-form', novalidate: true, 'aria-describedby': 'form-summary' },
    customerIdParts.row,
    ...groups,
    summary,
    h('div', { class: 'actions' }, submit, ...examples),
  );
  element.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!busy) onSubmit();
  });
  // Enter predicts from a drop-down too (15 of the 20 controls), as from a text field: browsers
  // submit a form on Enter only from an input, and Chromium opened the list instead. Alt+Down and
  // Space still open it, and Enter in an open list picks an option.
  element.addEventListener('keydown', (event) => {
    const { target } = event;
    if (event.key !== 'Enter' || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey || event.defaultPrevented) return;
    if (!(target instanceof HTMLSelectElement) || listOpen(target)) return;
    event.preventDefault();
    element.requestSubmit();
  });

  const get = (name: FieldName) => (parts.get(name) as FieldParts).input;
  // Keep dependent fields consistent as people change the service they depend on; they
  // can still pick an inconsistent value, and validation then says why it is wrong.
  get('phoneService').addEventListener('change', () => {
    const lines = get('multipleLines');
    if (get('phoneService').value === 'false') lines.value = 'NO_PHONE_SERVICE';
    else if (lines.value === 'NO_PHONE_SERVICE') lines.value = 'NO';
  });
  get('internetService').addEventListener('change', () => {
    const none = get('internetService').value === 'NO';
    for (const name of ADD_ON_FIELDS) {
      const addOn = get(name);
      if (none) addOn.value = 'NO_INTERNET_SERVICE';
      else if (addOn.value === 'NO_INTERNET_SERVICE') addOn.value = 'NO';
    }
  });

  function showIssues(issues: FieldIssues, wording: FieldIssues = {}): void {
    let first: Control | null = null;
    for (const name of FORM_FIELD_NAMES) {
      const { row, input, hint, error, wording: said } = parts.get(name) as FieldParts;
      const message = issues[name];
      error.textContent = message ?? '';
      error.hidden = !message;
      const original = wording[name];
      const reworded = Boolean(message && original && original !== message);
      said.replaceChildren(reworded ? gatewayWording(original as string) : '');
      said.hidden = !reworded;
      if (message) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
      row.classList.toggle('invalid', Boolean(message));
      const describedBy = [hint?.id ?? '', message ? error.id : ''].filter(Boolean).join(' ');
      if (describedBy) input.setAttribute('aria-describedby', describedBy);
      else input.removeAttribute('aria-describedby');
      if (message && !first) first = input;
    }
    const count = Object.keys(issues).length;
    summary.hidden = count === 0;
    summary.textContent = count === 0 ? '' : `${count === 1 ? 'One field needs' : `${count} fields need`} attention before predicting.`;
    first?.focus();
  }

  return {
    element,
    read() {
      const raw = Object.fromEntries(ALL_FIELDS.map((f) => [f.name, get(f.name).value])) as RawValues;
      return { raw, customerId: customerId.value };
    },
    fill(customer) {
      for (const field of ALL_FIELDS) {
        const value = customer[field.name];
        get(field.name).value = value === null || value === undefined ? '' : String(value);
      }
      customerId.value = customer.customerId ?? '';
      showIssues({});
    },
    restore({ raw, customerId: id }) {
      for (const field of ALL_FIELDS) {
        const input = get(field.name);
        const value = raw[field.name];
        if (input instanceof HTMLSelectElement && ![...input.options].some((o) => o.value === value)) continue;
        input.value = value;
      }
      customerId.value = id;
    },
    showIssues,
    setBusy(value) {
      busy = value;
      element.setAttribute('aria-busy', String(busy));
      // aria-disabled, not disabled: disabling the focused button sends keyboard focus to <body>.
      for (const button of [submit, ...examples]) button.setAttribute('aria-disabled', String(busy));
    },
  };
}
