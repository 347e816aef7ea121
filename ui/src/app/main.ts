/**
 * Entry point of /ui: mounts the customer form, predicts through the Predict operation
 * and shows the serving model through ModelInfo. Bundled by ui/src/build.ts.
 */
import { ModelInfoDocument, PredictDocument, type CustomerInput } from '../../../src/generated/graphql.js';
import { DEFAULT_CUSTOMER } from './customer-fields.js';
import { createCustomerForm } from './customer-form.js';
import { byId } from './dom.js';
import { execute, type GraphQLErrorBody } from './gateway-client.js';
import { renderMessage, renderModelInfo, renderPrediction } from './panels.js';
import { fieldOfIssuePath, parseCustomer, type FieldIssues } from './validate.js';

const result = byId('result');
const modelPanel = byId('model-panel');

/** Server issues go next to their field; anything else is shown in the result area. */
function showServerErrors(errors: readonly GraphQLErrorBody[]): void {
  const issues: FieldIssues = {};
  const general: string[] = [];
  for (const error of errors) {
    const fieldIssues = error.extensions?.code === 'BAD_USER_INPUT' ? (error.extensions.issues ?? []) : [];
    let placed = false;
    for (const issue of fieldIssues) {
      const field = fieldOfIssuePath(issue.path);
      if (field) {
        issues[field] = issues[field] ? `${issues[field]} ${issue.message}` : issue.message;
        placed = true;
      }
    }
    if (!placed) general.push(error.message);
  }
  form.showIssues(issues);
  renderMessage(result, general.length > 0 ? general.join(' ') : 'The gateway rejected the customer; see the marked fields.', 'error');
}

async function predict(customer: CustomerInput): Promise<void> {
  form.setBusy(true);
  renderMessage(result, 'Predicting…', 'info');
  try {
    const answer = await execute(PredictDocument, { customer });
    if (answer.ok) {
      form.showIssues({});
      renderPrediction(result, answer.data.predict);
    } else showServerErrors(answer.errors);
  } finally {
    form.setBusy(false);
  }
}

function submit(): void {
  const { raw, customerId } = form.read();
  const parsed = parseCustomer(raw, customerId);
  if (!parsed.ok) {
    form.showIssues(parsed.issues);
    renderMessage(result, 'No prediction: fix the marked fields first.', 'error');
    return;
  }
  void predict(parsed.customer);
}

const form = createCustomerForm(submit, (customer) => {
  form.fill(customer);
  void predict(customer);
});
form.fill(DEFAULT_CUSTOMER);
byId('form-root').replaceChildren(form.element);
renderMessage(result, 'Fill in the customer and choose “Predict churn”, or try an example.', 'info');

void execute(ModelInfoDocument, {}).then((answer) => {
  if (answer.ok) renderModelInfo(modelPanel, answer.data.modelInfo);
  else renderMessage(modelPanel, `Model information is unavailable: ${answer.errors.map((e) => e.message).join(' ')}`, 'error');
});
