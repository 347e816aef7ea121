/**
 * /ui in a real browser against the real gateway (real bundle, real ONNX session): the
 * form predicts, the examples land in the risk bands they claim, bad input is explained
 * next to its field, GraphiQL runs offline, and nothing is fetched from another host.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NotReadyError } from '../src/errors.js';
import { CUSTOMER_FIELDS } from '../src/contract.js';
import { ModelInfoDocument, PredictBatchDocument, PredictDocument, type CustomerInput, type ModelInfoQuery, type PredictBatchMutation, type PredictMutation, type RiskLevel } from '../src/generated/graphql.js';
import { DEFAULT_CUSTOMER, EXAMPLES } from '../ui/src/app/customer-fields.js';
import { buildUi } from '../ui/src/build.js';
import { UNAVAILABLE_DETAIL } from '../src/ui/route.js';
import { answerScript404, browserForSuite, closeTab, launchBrowser, runGraphiqlTab, type TestBrowser, type TestPage } from './helpers/browser.js';
import { REPO_ROOT, gql, sessionOf, startTestGateway, waitFor, type TestGateway } from './helpers/gateway.js';
import { RISK_WORDS, valueWords } from './helpers/ui-words.js';

const run = promisify(execFile);

const UI_DIR = path.join(REPO_ROOT, 'ui/dist');
const SHOTS = path.join(REPO_ROOT, 'test-results/ui');
const unavailable = browserForSuite('ui (browser)', 'the browser tests of test/ui.test.ts (the HTTP ones still run)');
/** expect.poll with room for a page load and a prediction (its default is 1 s). */
const poll = <T>(read: () => Promise<T> | T, timeout = 10_000) => expect.poll(read, { timeout });

beforeAll(async () => {
  await buildUi(UI_DIR);
});

describe.skipIf(unavailable !== null)('ui in a browser', () => {
  let gateway: TestGateway;
  let browser: TestBrowser;
  let info: ModelInfoQuery['modelInfo'];
  let tab: TestPage | null = null;

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    [gateway, browser] = await Promise.all([startTestGateway({ UI_DIR }), launchBrowser()]);
    const answer = await gql(gateway.url, ModelInfoDocument);
    info = answer.body.data?.modelInfo as ModelInfoQuery['modelInfo'];
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  async function open(viewport?: { width: number; height: number }): Promise<TestPage> {
    tab = await browser.open(gateway.url, viewport);
    return tab;
  }

  afterEach(async () => {
    const closing = tab;
    tab = null;
    if (closing) await closeTab(closing);
  });

  /** Customers the page sent to Predict, from its request log. */
  function sentCustomers(t: TestPage): CustomerInput[] {
    const customers: CustomerInput[] = [];
    t.page.on('request', (r) => {
      if (!r.url().endsWith('/graphql') || r.method() !== 'POST') return;
      const body = JSON.parse(r.postData() ?? '{}') as { operationName?: string; variables?: { customer?: CustomerInput } };
      if (body.operationName === 'Predict' && body.variables?.customer) customers.push(body.variables.customer);
    });
    return customers;
  }

  /** Whether the page is waiting for the gateway (the form says so while it predicts). */
  const settled = (page: TestPage['page']) => poll(() => page.locator('#customer-form').getAttribute('aria-busy')).toBe('false');

  it('predicts from the form, keyboard only, and shows probability, risk and model version', async () => {
    const tab = await open();
    const { page } = tab;
    const sent = sentCustomers(tab);
    await page.goto(`${gateway.url}/ui`);
    await poll(() => page.getByTestId('run-id').textContent()).toMatch(/\w+/);
    await page.getByLabel('Contract').focus();
    await page.keyboard.press('End'); // Two year
    await page.getByLabel('Tenure (months)').fill('24');
    await page.getByLabel('Tenure (months)').press('Enter');
    await poll(() => page.getByTestId('probability').textContent()).toMatch(/^\d+(\.\d)?%$/);
    expect(await page.getByTestId('model-version').textContent()).toBe(info.modelVersion);
    expect(await page.getByTestId('verdict').textContent()).toMatch(/threshold \d+(\.\d+)?% → (likely|not likely) to churn/);
    // The risk in words, the gateway's for the customer sent.
    const risk = (await gql(gateway.url, PredictDocument, { customer: sent.at(-1) as CustomerInput })).body.data?.predict.riskLevel;
    expect(await page.getByTestId('risk-level').textContent()).toBe(RISK_WORDS[risk as RiskLevel]);
    expect(await page.locator('#result').getAttribute('aria-live')).toBe('polite');
    expect(await page.locator('#model-panel').textContent()).toMatch(/test_roc_auc/);
    // The AUC's interval sits under it, from the bundle's own metrics.
    const metric = (key: string) => (info.metrics.find((m) => m.key === key)?.value as number).toFixed(4);
    expect(await page.locator('#model-panel table').first().textContent()).toContain(`test_roc_auc 95% interval${metric('test_roc_auc_ci95_low')} – ${metric('test_roc_auc_ci95_high')}`);
    // A tiny value keeps its digits (4.0e-7, not 0.0000).
    const parity = info.metrics.find((m) => m.key === 'parity_max_abs_diff')?.value as number;
    const shownParity = Number(await page.locator('#model-panel tr', { hasText: 'parity_max_abs_diff' }).locator('td').textContent());
    expect(Math.abs(shownParity - parity)).toBeLessThanOrEqual(parity * 0.05);
    await page.screenshot({ path: path.join(SHOTS, 'form-desktop.png'), fullPage: true });
  });

  /**
   * The "Why this score" panel against the gateway's own drivers for `customer` (a direct Predict):
   * the five largest in its order, each named by the form's label of its field and valued as the
   * form's control shows it (read from the page's form), raising or lowering the risk by its sign,
   * with a bar as long as its share of the largest. Returns the effects shown.
   */
  async function expectDrivers(page: TestPage['page'], customer: CustomerInput): Promise<string[]> {
    const answer = await gql(gateway.url, PredictDocument, { customer });
    const explanation = (answer.body.data as PredictMutation).predict.explanation;
    if (!explanation) throw new Error('the bundled model gave no explanation');
    const top = explanation.drivers.slice(0, 5);
    const expected = await Promise.all(
      top.map(async (d) => {
        const effect = d.contribution > 0 ? 'raises risk' : 'lowers risk';
        const field = CUSTOMER_FIELDS.find((f) => f.column === d.name)?.field;
        if (!field) {
          expect(d.name).toBe('TotalCharges/tenure');
          const ratio = customer.tenure === 0 ? 'none yet (Tenure 0)' : ((customer.totalCharges as number) / customer.tenure).toFixed(2);
          return `Average monthly charge so far (Total charges ÷ Tenure): ${ratio} — ${effect}`;
        }
        const label = await page.locator(`label[for="field-${field}"]`).textContent();
        // The value in words written out by the test (helpers/ui-words.ts), not read from the page's own options.
        return `${label}: ${valueWords(field, customer)} — ${effect}`;
      }),
    );
    const drivers = page.getByTestId('driver');
    await poll(() => drivers.locator('.driver-text').allTextContents()).toEqual(expected);
    // As screen readers get them: items named by nothing but their words (a title would name them instead).
    const list = await page.locator('.driver-list').ariaSnapshot();
    expect(list.split('\n').filter((l) => /^\s*- listitem\b/.test(l))).toEqual(top.map(() => '  - listitem:'));
    expect(await drivers.evaluateAll((els) => els.map((el) => el.getAttribute('data-driver')))).toEqual(top.map((d) => d.name));
    const largest = Math.abs((top[0] as { contribution: number }).contribution);
    const widths = await drivers.locator('.driver-fill').evaluateAll((els) => els.map((el) => parseFloat((el as HTMLElement).style.width)));
    expect(widths).toHaveLength(top.length);
    widths.forEach((w, i) => expect(w, `bar ${i + 1}`).toBeCloseTo((Math.abs((top[i] as { contribution: number }).contribution) / largest) * 100, 3));
    // The SHAP values behind them, for analysts: every driver, in the gateway's order, with its sign.
    const rows = await page.locator('.shap-table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent ?? '')));
    expect(rows).toHaveLength(explanation.drivers.length);
    expect(rows.map((cells) => Math.sign(Number((cells.at(-1) ?? '').replace('−', '-'))))).toEqual(explanation.drivers.map((d) => Math.sign(d.contribution)));
    return page.getByTestId('driver-effect').allTextContents();
  }

  it('scores the high-risk example HIGH and the low-risk example LOW, each with the gateway’s five largest risk drivers in the form’s words', async () => {
    const { page } = await open();
    await page.goto(`${gateway.url}/ui`);
    await page.getByRole('button', { name: 'Example: high risk' }).click();
    await poll(() => page.locator('.result').getAttribute('data-risk')).toBe('HIGH');
    expect(await page.getByTestId('verdict').textContent()).toMatch(/≥ threshold .* likely to churn/);
    const effects = await expectDrivers(page, EXAMPLES[0]?.customer as CustomerInput);
    expect(await page.getByTestId('drivers-note').textContent()).toBe(
      'The model’s own account of this prediction: how far each of this customer’s values moves the risk up or down from the model’s average customer, largest first. The churn probability is the model’s; the drivers explain it and do not change it.',
    );
    await page.screenshot({ path: path.join(SHOTS, 'example-high.png'), fullPage: true });
    await page.getByRole('button', { name: 'Example: low risk' }).click();
    await poll(() => page.locator('.result').getAttribute('data-risk')).toBe('LOW');
    expect(await page.getByLabel('Contract').inputValue()).toBe('TWO_YEAR');
    effects.push(...(await expectDrivers(page, EXAMPLES[1]?.customer as CustomerInput)));
    // Both signs were met: the words follow each sign, not one wording for all.
    expect(new Set(effects)).toEqual(new Set(['raises risk', 'lowers risk']));
    await page.screenshot({ path: path.join(SHOTS, 'example-low.png'), fullPage: true });
  });

  /**
   * The offers the form tries for the starting customer (month-to-month, electronic check, no
   * add-ons), written out here rather than read from the page's module, with their words, in the
   * order the page lists equal scores.
   */
  const DEFAULT_CUSTOMER_OFFERS: readonly (readonly [Partial<CustomerInput>, string])[] = [
    [{ contract: 'ONE_YEAR' }, 'Contract: One year'],
    [{ contract: 'TWO_YEAR' }, 'Contract: Two year'],
    [{ paymentMethod: 'BANK_TRANSFER_AUTOMATIC' }, 'Payment method: Bank transfer (automatic)'],
    [{ paymentMethod: 'CREDIT_CARD_AUTOMATIC' }, 'Payment method: Credit card (automatic)'],
    [{ onlineSecurity: 'YES' }, 'Online security: Yes (included)'],
    [{ onlineBackup: 'YES' }, 'Online backup: Yes (included)'],
    [{ deviceProtection: 'YES' }, 'Device protection: Yes (included)'],
    [{ techSupport: 'YES' }, 'Tech support: Yes (included)'],
  ];

  /** /ui with the form filled in with `customer`, control by control. */
  async function formWith(page: TestPage['page'], customer: CustomerInput): Promise<void> {
    await page.goto(`${gateway.url}/ui`);
    const controls = Object.fromEntries(
      Object.entries(customer).flatMap(([field, value]) => (field === 'customerId' ? [] : [[field, value === null ? '' : String(value)]])),
    );
    for (const [field, value] of Object.entries(controls)) {
      const control = page.locator(`#field-${field}`);
      if ((await control.evaluate((el) => el.tagName)) === 'SELECT') await control.selectOption(value);
      else await control.fill(value);
    }
  }

  /** One decimal: none of the starting customer's scores is near the threshold. */
  const shown = (x: number) => Number((x * 100).toFixed(1));

  /**
   * The starting customer's offer lines as the gateway at `url` scores them, asked directly: its
   * probability, and the lines the page must list (lowest first, the points the difference of the
   * figures shown).
   */
  async function startingCustomerOffers(url: string): Promise<{ p: number; expected: string[] }> {
    // The gateway's own scores: the customer, and the customer with each offer.
    const base = (await gql(url, PredictDocument, { customer: DEFAULT_CUSTOMER })).body.data as PredictMutation;
    const batch = await gql(url, PredictBatchDocument, { customers: DEFAULT_CUSTOMER_OFFERS.map(([change]) => ({ ...DEFAULT_CUSTOMER, ...change })) });
    const scores = (batch.body.data as PredictBatchMutation).predictBatch;
    const p = base.predict.churnProbability;
    const expected = DEFAULT_CUSTOMER_OFFERS.map(([, words], i) => ({ words, score: scores[i] as PredictBatchMutation['predictBatch'][number] }))
      .filter(({ score }) => p - score.churnProbability >= 0.01 || (base.predict.willChurn && !score.willChurn))
      .sort((a, b) => a.score.churnProbability - b.score.churnProbability)
      .map(({ words, score }) => {
        const crossed = base.predict.willChurn && !score.willChurn ? `, under the ${shown(score.threshold).toFixed(1)}% threshold` : '';
        return `${words}, scored ${shown(score.churnProbability).toFixed(1)}% (${(shown(p) - shown(score.churnProbability)).toFixed(1)} points lower)${crossed}`;
      });
    return { p, expected };
  }

  it('lists the offers the gateway scores lower for the customer, lowest first, with points that add up and the threshold crossed; and says when there is nothing to try', async () => {
    const { page } = await open();
    const { p, expected } = await startingCustomerOffers(gateway.url);
    // The starting customer has offers that lower the score, one of them under the threshold, and one that does not lower it by a point.
    expect(expected.length).toBeGreaterThan(1);
    expect(expected.length).toBeLessThan(DEFAULT_CUSTOMER_OFFERS.length);
    expect(expected.filter((e) => e.endsWith('threshold'))).not.toEqual([]);
    await page.goto(`${gateway.url}/ui`);
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.getByTestId('offer').allTextContents()).toEqual(expected);
    expect(await page.getByTestId('probability').textContent()).toBe(`${shown(p).toFixed(1)}%`);
    expect(await page.getByTestId('offers-note').textContent()).toMatch(/^This customer scored again with one change at a time, everything else as it is .* not what an offer will do\.$/);
    // A section under the drivers, outside the result's live region, named by its heading.
    expect(await page.locator('#drivers + #offers > section[aria-labelledby="offers-title"] > h3#offers-title').textContent()).toBe('Offers the model scores lower');
    await page.screenshot({ path: path.join(SHOTS, 'offers.png'), fullPage: true });
    // The low-risk example has a two-year contract, pays automatically and has every protective add-on.
    await page.getByRole('button', { name: 'Example: low risk' }).click();
    await poll(() => page.getByTestId('offers-status').textContent()).toMatch(/^Nothing to try: this customer already has a two-year contract/);
    expect(await page.getByTestId('offer').count()).toBe(0);
  });

  it('says so when no offer lowers the score by a point, in the singular for one', async () => {
    const { page } = await open();
    // Six years with the company, paying by card, every protective add-on: a score under 1 %.
    const loyal: CustomerInput = { ...(EXAMPLES[1]?.customer as CustomerInput), tenure: 72, monthlyCharges: 60, totalCharges: 4320, paymentMethod: 'CREDIT_CARD_AUTOMATIC' };
    // On a one-year contract: a two-year one is the only offer, and moves the score by less than a point.
    await formWith(page, { ...loyal, contract: 'ONE_YEAR' });
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.getByTestId('offers-status').textContent()).toBe('The one offer tried (Contract: Two year) does not lower this customer’s score by a percentage point or more.');
    // Paying by mailed check without online backup: three offers, none by a point.
    await formWith(page, { ...loyal, contract: 'TWO_YEAR', paymentMethod: 'MAILED_CHECK', onlineBackup: 'NO' });
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.getByTestId('offers-status').textContent()).toBe(
      'None of the 3 offers tried (Payment method: Bank transfer (automatic); Payment method: Credit card (automatic); Online backup: Yes (included)) lowers this customer’s score by a percentage point or more.',
    );
  });

  it('marks offers stale after an edit, or the line saying there are none; drops offers scored for an earlier prediction, by another model, or not at all, saying so', async () => {
    const t = await open();
    const { page } = t;
    let offersAnswer: 'real' | 'held' | 'another run' | 'refused' = 'real';
    let releaseHeld: () => void = () => undefined;
    await page.route('**/graphql', async (route) => {
      const operation = (JSON.parse(route.request().postData() ?? '{}') as { operationName?: string }).operationName;
      if (operation !== 'RetentionOffers' || offersAnswer === 'real') return route.continue();
      if (offersAnswer === 'refused') return route.abort('connectionrefused');
      if (offersAnswer === 'held') {
        await new Promise<void>((resolve) => (releaseHeld = resolve));
        return route.continue();
      }
      const response = await route.fetch();
      const body = (await response.json()) as { data: { predictBatch: { modelRunId: string }[] } };
      for (const row of body.data.predictBatch) row.modelRunId = 'another-run';
      await route.fulfill({ response, json: body });
    });
    await page.goto(`${gateway.url}/ui`);
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.getByTestId('offer').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('offers-stale-note').count()).toBe(0);
    await page.getByLabel('Tenure (months)').fill('40');
    expect(await page.getByTestId('offers-stale-note').textContent()).toBe('These offers are for the values before your last change.');
    // The line saying there is nothing to try is for the values before an edit, too.
    await page.getByRole('button', { name: 'Example: low risk' }).click();
    await poll(() => page.getByTestId('offers-status').textContent()).toMatch(/^Nothing to try/);
    await page.getByLabel('Contract').selectOption('MONTH_TO_MONTH');
    expect(await page.getByTestId('offers-stale-note').count()).toBe(1);
    // Edited while the offers are on the way: they arrive marked.
    offersAnswer = 'held';
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.getByTestId('offers-status').textContent()).toBe('Scoring the offers…');
    await page.getByLabel('Tenure (months)').fill('41');
    expect(await page.getByTestId('offers-stale-note').count()).toBe(0);
    releaseHeld();
    await poll(() => page.getByTestId('offer').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('offers-stale-note').count()).toBe(1);
    // Offers that arrive after the next prediction was shown are dropped: the high-risk example's, held, then the low-risk one shown.
    await page.getByRole('button', { name: 'Example: high risk' }).click();
    await poll(() => page.getByTestId('offers-status').textContent()).toBe('Scoring the offers…');
    offersAnswer = 'real';
    await page.getByRole('button', { name: 'Example: low risk' }).click();
    await poll(() => page.getByTestId('offers-status').textContent()).toMatch(/^Nothing to try/);
    const lateAnswer = page.waitForResponse((r) => r.request().postData()?.includes('"RetentionOffers"') === true);
    releaseHeld();
    await lateAnswer;
    expect(await page.getByTestId('offers-status').textContent()).toMatch(/^Nothing to try/);
    offersAnswer = 'another run';
    await page.getByRole('button', { name: 'Example: high risk' }).click();
    await poll(() => page.getByTestId('offers-status').textContent()).toBe('Another model answered while the offers were scored, so they cannot be compared with this prediction: predict again.');
    expect(await page.getByTestId('offer').count()).toBe(0);
    offersAnswer = 'refused';
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.getByTestId('offers-status').textContent()).toMatch(/^The offers could not be scored: The gateway could not be reached/);
    // The refused request, and nothing else.
    expect(t.consoleErrors.splice(0)).toEqual([expect.stringMatching(/ERR_CONNECTION_REFUSED/)]);
    // The prediction itself stands.
    expect(await page.getByTestId('probability').textContent()).toMatch(/^\d+(\.\d+)?%$/);
  });

  it('scores the offers in requests of at most MAX_BATCH customers, as the page states it', async () => {
    const small = await startTestGateway({ UI_DIR, MAX_BATCH: '3' });
    try {
      const t = (tab = await browser.open(small.url));
      const { page } = t;
      const sizes: number[] = [];
      page.on('request', (r) => {
        const body = JSON.parse(r.postData() ?? '{}') as { operationName?: string; variables?: { customers?: unknown[] } };
        if (body.operationName === 'RetentionOffers') sizes.push(body.variables?.customers?.length ?? -1);
      });
      await page.goto(`${small.url}/ui`);
      await page.getByRole('button', { name: 'Predict churn' }).click();
      await poll(() => page.getByTestId('offer').count()).toBeGreaterThan(0);
      expect(sizes).toEqual([3, 3, 2]);
    } finally {
      await small.close();
    }
  });

  it('scores the offers in requests within BODY_LIMIT_BYTES, as the page states it, without the customer id, and shows them', async () => {
    // 2,048 bytes: the Predict request of a customer with a 256-character id fits, the 8 offers in one request do not.
    const limit = 2048;
    const tight = await startTestGateway({ UI_DIR, BODY_LIMIT_BYTES: String(limit) });
    try {
      const t = (tab = await browser.open(tight.url));
      const { page } = t;
      const sent: { bytes: number; customers: Record<string, unknown>[] }[] = [];
      page.on('request', (r) => {
        const body = r.postData() ?? '';
        const parsed = JSON.parse(body || '{}') as { operationName?: string; variables?: { customers?: Record<string, unknown>[] } };
        if (parsed.operationName === 'RetentionOffers') sent.push({ bytes: Buffer.byteLength(body), customers: parsed.variables?.customers ?? [] });
      });
      // Asked of the other gateway (same bundle): asked directly, 8 customers in one request are over this one's limit.
      const { expected } = await startingCustomerOffers(gateway.url);
      await page.goto(`${tight.url}/ui`);
      expect(await page.locator('meta[name="gateway-body-limit-bytes"]').getAttribute('content')).toBe(String(limit));
      // The longest id the gateway takes: sent with the prediction, never with the offers.
      await page.getByLabel('Customer id (optional)').fill('x'.repeat(256));
      await page.getByRole('button', { name: 'Predict churn' }).click();
      // Shown, not "The offers could not be scored: The gateway answered 413 …", in the order of the gateway's own scores.
      await poll(() => page.getByTestId('offer').allTextContents(), 20_000).toEqual(expected);
      expect(await page.getByTestId('offers-status').count()).toBe(0);
      expect(sent.flatMap((r) => r.customers)).toHaveLength(DEFAULT_CUSTOMER_OFFERS.length);
      expect(sent.length).toBeGreaterThan(1);
      for (const [k, request] of sent.entries()) {
        expect(request.bytes, `request ${k + 1}`).toBeLessThanOrEqual(limit);
        expect(request.customers.filter((c) => 'customerId' in c), `request ${k + 1}`).toEqual([]);
        // Packed: each request but the last would pass the limit with the next offer (and the comma before it).
        const next = sent[k + 1]?.customers[0];
        if (next) expect(request.bytes + Buffer.byteLength(JSON.stringify(next)) + 1, `request ${k + 1}`).toBeGreaterThan(limit);
      }
    } finally {
      await tight.close();
    }
  });

  it('explains out-of-range and inconsistent fields inline and sends nothing', async () => {
    const t = await open();
    const { page } = t;
    const sent = sentCustomers(t);
    await page.goto(`${gateway.url}/ui`);
    const tenure = page.getByLabel('Tenure (months)');
    await tenure.fill('5000');
    await page.getByLabel('Phone service').selectOption('false');
    await page.getByLabel('Multiple lines').selectOption('YES');
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.locator('#field-tenure-error').textContent()).toMatch(/whole number from 0 to 1200; got 5000/);
    expect(await tenure.getAttribute('aria-invalid')).toBe('true');
    expect(await tenure.getAttribute('aria-describedby')).toContain('field-tenure-error');
    expect(await page.locator('#field-multipleLines-error').textContent()).toMatch(/Without phone service/);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('field-tenure');
    await page.screenshot({ path: path.join(SHOTS, 'invalid.png'), fullPage: true });
    expect(await page.locator('.result').count()).toBe(0);
    expect(sent).toEqual([]);
  });

  it('refuses unreadable total charges instead of sending "not yet billed"; only an empty field is', async () => {
    const t = await open();
    const { page } = t;
    const sent = sentCustomers(t);
    await page.goto(`${gateway.url}/ui`);
    const total = page.getByLabel('Total charges');
    // Text that is no number is told what an amount is; a negative number, that it must be 0 or more.
    for (const [typed, said] of [
      ['1-2', 'plain'],
      ['1e', 'plain'],
      ['--5', 'plain'],
      ['$74.40', 'plain'],
      ['74.40 EUR', 'plain'],
      ['74.4.0', 'plain'],
      ['7 4', 'plain'],
      ['-5', 'negative'],
    ] as const) {
      await total.fill('');
      await total.pressSequentially(typed); // typed as a person would: a number input reads these as ""
      await page.getByRole('button', { name: 'Predict churn' }).click();
      await poll(() => page.locator('#field-totalCharges-error').textContent()).toBe(
        said === 'plain' ? `Enter a plain amount with a point for decimals (74.40): no currency, spaces or other characters; got ${typed}.` : `Enter an amount of 0 or more; got ${typed}.`,
      );
      expect(await total.getAttribute('aria-invalid')).toBe('true');
    }
    expect(sent).toEqual([]);
    // Empty is "not yet billed", which only a tenure-0 customer is.
    await total.fill('');
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.locator('#field-totalCharges-error').textContent()).toBe(
      'Leave this empty only for a customer not yet billed (tenure 0); enter the total billed so far.',
    );
    expect(sent).toEqual([]);
    await page.getByLabel('Tenure (months)').fill('0');
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => sent.length).toBe(1);
    expect(sent[0]?.totalCharges).toBeNull();
    expect(sent[0]?.tenure).toBe(0);
    await poll(() => page.locator('.result').count()).toBe(1);
  });

  it('refuses a decimal comma with a message rather than reading 74,40 as 7440', async () => {
    const t = await open();
    const { page } = t;
    const sent = sentCustomers(t);
    await page.goto(`${gateway.url}/ui`);
    const monthly = page.getByLabel('Monthly charges');
    await monthly.fill('');
    await monthly.pressSequentially('74,40');
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.locator('#field-monthlyCharges-error').textContent()).toMatch(/point for decimals .*; got 74,40\./);
    expect(sent).toEqual([]);
    // Above what the model's float32 input holds: the message gives the range.
    await monthly.fill('3.5e38');
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.locator('#field-monthlyCharges-error').textContent()).toBe('Enter an amount from 0 to 3.4e+38; got 3.5e38.');
    expect(sent).toEqual([]);
    // Below what a 64-bit number holds, yet not zero: it was sent as 0, a valid charge nobody entered.
    await monthly.fill('1e-400');
    await page.getByLabel('Tenure (months)').fill('1e-400');
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.locator('#field-monthlyCharges-error').textContent()).toBe('1e-400 is too small to tell from 0: enter 0, or a larger amount.');
    expect(await page.locator('#field-tenure-error').textContent()).toBe('Enter a whole number from 0 to 1200; got 1e-400.');
    expect(sent).toEqual([]);
    await page.getByLabel('Tenure (months)').fill('1');
    await monthly.fill('74.40');
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => sent.map((c) => c.monthlyCharges)).toEqual([74.4]);
  });

  it('warns under the verdict, in the form\'s labels, when inputs are outside what the model was trained on', async () => {
    const { page } = await open();
    await page.goto(`${gateway.url}/ui`);
    await poll(() => page.getByTestId('run-id').textContent()).toMatch(/\w+/);
    const predict = async () => {
      await page.getByRole('button', { name: 'Predict churn' }).click();
      await settled(page);
      await poll(() => page.getByTestId('probability').count()).toBe(1);
    };
    await predict(); // the default customer: inside every range
    expect(await page.getByTestId('range-notice').count()).toBe(0);
    const range = (column: string) => {
      const feature = info.features.find((f) => f.name === column);
      return `${feature?.observedMin}–${feature?.observedMax}`;
    };
    await page.getByLabel('Tenure (months)').fill('1200');
    await page.getByLabel('Monthly charges').fill('5000');
    await predict();
    const notice = page.getByTestId('range-notice');
    expect(await notice.getAttribute('role')).toBe('note');
    expect(await notice.locator('p').allTextContents()).toEqual([
      `Tenure (months) 1200 is outside what the model was trained on (${range('tenure')}): treat this probability with caution.`,
      `Monthly charges 5000 is outside what the model was trained on (${range('MonthlyCharges')}): treat this probability with caution.`,
    ]);
    await page.screenshot({ path: path.join(SHOTS, 'outside-training-range.png'), fullPage: true });
    await page.getByLabel('Tenure (months)').fill('24');
    await page.getByLabel('Monthly charges').fill('74.4');
    await predict();
    expect(await page.getByTestId('range-notice').count()).toBe(0);
  });

  it('keeps keyboard focus on the button that predicted, and ignores it while busy', async () => {
    const t = await open();
    const { page } = t;
    const sent = sentCustomers(t);
    // Predict's answers are held until both Enters are pressed, so the second lands while the first
    // is out. (Held 300 ms each before: the two presses are two round trips to the browser, which a
    // loaded machine can stretch past that, and then the second Enter predicted again.)
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/graphql', async (route) => {
      if ((JSON.parse(route.request().postData() ?? '{}') as { operationName?: string }).operationName === 'Predict') await held;
      await route.continue();
    });
    await page.goto(`${gateway.url}/ui`);
    const focused = () => page.evaluate(() => document.activeElement?.textContent);
    await page.getByRole('button', { name: 'Predict churn' }).focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    release();
    await poll(() => page.locator('.result').count()).toBe(1);
    await settled(page);
    expect(sent).toHaveLength(1);
    expect(await focused()).toBe('Predict churn');
    await page.keyboard.press('Tab'); // on to the first example
    await page.keyboard.press('Enter');
    await poll(() => page.locator('.result').getAttribute('data-risk')).toBe('HIGH');
    await settled(page);
    expect(await focused()).toBe('Example: high risk');
  });

  it('keeps the customer as typed over a reload, a visit to GraphiQL and Back, and the Predict link', async () => {
    const { page } = await open();
    await page.goto(`${gateway.url}/ui`);
    const values = () =>
      Promise.all(['Customer id (optional)', 'Tenure (months)', 'Contract', 'Internet service', 'Online backup', 'Total charges'].map((label) => page.getByLabel(label, { exact: true }).inputValue()));
    await page.getByLabel('Customer id (optional)').fill('kund-ü-😀');
    await page.getByLabel('Tenure (months)').fill('42');
    await page.getByLabel('Contract').selectOption('TWO_YEAR');
    await page.getByLabel('Internet service').selectOption('NO'); // moves every add-on to "No internet service"
    await page.getByLabel('Total charges').fill('1-2'); // kept as typed, mistakes included
    const typed = ['kund-ü-😀', '42', 'TWO_YEAR', 'NO', 'NO_INTERNET_SERVICE', '1-2'];
    expect(await values()).toEqual(typed);
    await page.reload();
    expect(await values()).toEqual(typed);
    await page.getByRole('link', { name: 'GraphiQL' }).click();
    await page.waitForURL('**/ui/graphiql');
    await page.goBack();
    await page.waitForURL('**/ui');
    expect(await values()).toEqual(typed);
    await page.getByRole('link', { name: 'Predict' }).click();
    expect(await values()).toEqual(typed);
    // An example's customer is the form's customer from then on.
    await page.getByRole('button', { name: 'Example: low risk' }).click();
    await poll(() => page.locator('.result').getAttribute('data-risk')).toBe('LOW');
    await page.reload();
    expect(await values()).toEqual(['example-low-risk', '66', 'TWO_YEAR', 'DSL', 'YES', '4758.6']);
  });

  it('never shows a verdict that contradicts itself at the threshold', async () => {
    const t = await open();
    const { page } = t;
    // The real answer, moved to just under the threshold (where 1 decimal shows equal numbers).
    await page.route('**/graphql', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { data?: { predict?: { churnProbability: number; willChurn: boolean } } };
      if (body.data?.predict) Object.assign(body.data.predict, { churnProbability: info.threshold - 1e-6, willChurn: false });
      await route.fulfill({ response, json: body });
    });
    await page.goto(`${gateway.url}/ui`);
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.getByTestId('verdict').textContent()).toMatch(/not likely to churn/);
    const [, shownP, shownThreshold] = /^([\d.]+)% < threshold ([\d.]+)%/.exec((await page.getByTestId('verdict').textContent()) ?? '') ?? [];
    expect(Number(shownP)).toBeLessThan(Number(shownThreshold));
    // The headline too, beside a risk badge that is not HIGH; and what a screen reader says of the bar.
    expect(await page.getByTestId('probability').textContent()).toBe(`${shownP ?? ''}%`);
    expect(await page.getByRole('img', { name: /^Churn probability/ }).getAttribute('aria-label')).toBe(`Churn probability ${shownP ?? ''}%; threshold ${shownThreshold ?? ''}%`);
  });

  it('marks a result stale once the form changes after it, including while its answer is on the way', async () => {
    const t = await open();
    const { page } = t;
    const stale = () => page.getByTestId('stale-note').count();
    await page.goto(`${gateway.url}/ui`);
    await page.getByRole('button', { name: 'Example: high risk' }).click();
    await poll(() => page.locator('.result').getAttribute('data-risk')).toBe('HIGH');
    expect(await stale()).toBe(0);
    await page.getByLabel('Tenure (months)').fill('60');
    await poll(stale).toBe(1);
    expect(await page.getByTestId('stale-note').textContent()).toBe('This result is for the values before your last change: predict again to update it.');
    // The drivers under it say so too (they are outside the result's live region).
    expect(await page.getByTestId('drivers-stale-note').textContent()).toBe('These drivers are for the values before your last change.');
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await settled(page);
    await poll(stale).toBe(0);
    expect(await page.getByTestId('drivers-stale-note').count()).toBe(0);
    // An answer that arrives after the customer was edited belongs to the customer before.
    await page.route('**/graphql', async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      await route.continue();
    });
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await page.getByLabel('Customer id (optional)').fill('someone-else');
    await settled(page);
    await poll(stale).toBe(1);
    expect(await page.locator('.result').count()).toBe(1);
    expect(await page.getByTestId('drivers-stale-note').count()).toBe(1);
  });

  it('brings the result into view when predicting from the bottom of the form on a laptop screen', async () => {
    const { page } = await open({ width: 1440, height: 900 });
    await page.goto(`${gateway.url}/ui`);
    const button = page.getByRole('button', { name: 'Predict churn' });
    await button.scrollIntoViewIfNeeded();
    expect(await page.evaluate(() => window.scrollY)).toBeGreaterThan(0); // the form is taller than the screen
    await button.click();
    await poll(() => page.locator('.result').count()).toBe(1);
    const box = await page.locator('#result').boundingBox();
    expect(box?.y).toBeGreaterThanOrEqual(0);
    expect((box?.y ?? 0) + (box?.height ?? 0)).toBeLessThanOrEqual(900);
  });

  /**
   * From now on the page's predictions name another model than its panel shows (the real answers,
   * modelVersion rewritten in flight to 'promoted'), as after a promotion. The n-th ModelInfo is
   * refused at the network (connection refused) when `refuseModelInfo(n)`. Returns the count of
   * ModelInfo requests so far.
   */
  async function predictionsFromAnotherModel(page: TestPage['page'], refuseModelInfo: (n: number) => boolean = () => false): Promise<() => number> {
    let modelInfoRequests = 0;
    await page.route('**/graphql', async (route) => {
      const operation = (JSON.parse(route.request().postData() ?? '{}') as { operationName?: string }).operationName;
      if (operation === 'ModelInfo' && refuseModelInfo(++modelInfoRequests)) return route.abort('connectionrefused');
      if (operation !== 'Predict') return route.continue();
      const response = await route.fetch();
      const body = (await response.json()) as { data?: { predict?: { modelVersion: string } } };
      if (body.data?.predict) body.data.predict.modelVersion = 'promoted';
      await route.fulfill({ response, json: body });
    });
    return () => modelInfoRequests;
  }

  it('asks for the model again when a prediction comes from another model than the panel shows (a promotion)', async () => {
    const t = await open();
    const { page } = t;
    const modelInfoRequests = await predictionsFromAnotherModel(page);
    await page.goto(`${gateway.url}/ui`);
    await poll(() => page.getByTestId('run-id').count()).toBe(1);
    expect(modelInfoRequests()).toBe(1);
    const shownBefore = await page.getByTestId('run-id').elementHandle();
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.getByTestId('model-version').textContent()).toBe('promoted');
    await poll(() => modelInfoRequests()).toBe(2);
    // Asked again (the panel is drawn anew), it names the same model: nothing to announce.
    await poll(() => shownBefore?.evaluate((el) => el.isConnected)).toBe(false);
    expect(await page.locator('#model-status').textContent()).toBe('');
  });

  /** Chromium's live regions on the page, as it exposes them to screen readers: element id, politeness, role; by id. */
  async function liveRegions(t: TestPage): Promise<{ id: string; live: unknown; role: unknown }[]> {
    const cdp = await t.context.newCDPSession(t.page);
    try {
      const { nodes } = await cdp.send('Accessibility.getFullAXTree');
      const regions: { id: string; live: unknown; role: unknown }[] = [];
      for (const node of nodes) {
        const live: unknown = node.properties?.find((p) => p.name === 'live')?.value.value;
        if (live === undefined || live === 'off' || node.backendDOMNodeId === undefined) continue;
        const { object } = await cdp.send('DOM.resolveNode', { backendNodeId: node.backendDOMNodeId });
        const { result } = await cdp.send('Runtime.callFunctionOn', { objectId: object.objectId, functionDeclaration: 'function () { return this.id; }', returnByValue: true });
        regions.push({ id: String(result.value), live, role: node.role?.value });
      }
      return regions.sort((a, b) => a.id.localeCompare(b.id));
    } finally {
      await cdp.detach();
    }
  }

  it('announces another model in one status line, and never reads the whole model panel out', async () => {
    const t = await open();
    const { page } = t;
    // A promotion between two requests: the real answers, with the model's version moved on after the first ModelInfo.
    let promoted = false;
    await page.route('**/graphql', async (route) => {
      const operation = (JSON.parse(route.request().postData() ?? '{}') as { operationName?: string }).operationName;
      const response = await route.fetch();
      const body = (await response.json()) as { data?: { predict?: { modelVersion: string }; modelInfo?: { modelVersion: string; version: string | null } } };
      if (body.data?.predict) body.data.predict.modelVersion = 'promoted';
      if (body.data?.modelInfo && promoted) Object.assign(body.data.modelInfo, { modelVersion: 'promoted', version: 'promoted' });
      if (operation === 'ModelInfo') promoted = true;
      await route.fulfill({ response, json: body });
    });
    await page.goto(`${gateway.url}/ui`);
    await poll(() => page.getByTestId('run-id').count()).toBe(1);
    const status = page.locator('#model-status');
    // The panel is no live region (nor inside one); the status line is, and says nothing at load.
    expect(await liveRegions(t)).toEqual([
      { id: 'model-status', live: 'polite', role: 'status' },
      { id: 'result', live: 'polite', role: 'generic' },
    ]);
    expect(await status.textContent()).toBe('');
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => status.textContent()).toBe('Model changed to version promoted.');
    expect(await page.locator('#model-panel').textContent()).toContain('promoted');
    expect((await liveRegions(t)).map((r) => r.id)).toEqual(['model-status', 'result']);
  });

  it('asks for the model again when a prediction comes from another run under the same version number, and says which', async () => {
    const { page } = await open();
    // MLflow's version of the packaged bundle's number replacing it: the real answers, with the run moved on after the first ModelInfo.
    let modelInfoRequests = 0;
    await page.route('**/graphql', async (route) => {
      const operation = (JSON.parse(route.request().postData() ?? '{}') as { operationName?: string }).operationName;
      const response = await route.fetch();
      const body = (await response.json()) as { data?: { predict?: { modelRunId: string }; modelInfo?: { runId: string } } };
      if (body.data?.predict) body.data.predict.modelRunId = 'another-run';
      if (body.data?.modelInfo && modelInfoRequests > 0) body.data.modelInfo.runId = 'another-run';
      if (operation === 'ModelInfo') modelInfoRequests++;
      await route.fulfill({ response, json: body });
    });
    await page.goto(`${gateway.url}/ui`);
    await poll(() => page.getByTestId('run-id').textContent()).toBe(info.runId);
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.getByTestId('run-id').textContent()).toBe('another-run');
    expect(await page.getByTestId('model-version').textContent()).toBe(info.modelVersion);
    expect(await page.locator('#model-status').textContent()).toBe(`Model changed to version ${info.modelVersion} (run another-run).`);
    expect(modelInfoRequests).toBe(2);
  });

  it('announces it when the model panel cannot be reloaded after a prediction named another model', async () => {
    const t = await open();
    const { page } = t;
    await predictionsFromAnotherModel(page, (n) => n > 1);
    await page.goto(`${gateway.url}/ui`);
    await poll(() => page.getByTestId('run-id').count()).toBe(1);
    const status = page.locator('#model-status');
    expect(await status.textContent()).toBe('');
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => status.textContent()).toBe('A prediction came from another model, and its information could not be loaded: see the Model panel.');
    expect(await page.locator('#model-panel').textContent()).toMatch(/^Model information is unavailable: The gateway could not be reached/);
    expect(t.consoleErrors.splice(0)).toEqual([expect.stringMatching(/ERR_CONNECTION_REFUSED/)]);
  });

  it('takes a customer id of 256 characters counted as the gateway counts them, and says so above that instead of cutting it', async () => {
    const t = await open();
    const { page } = t;
    const sent = sentCustomers(t);
    await page.goto(`${gateway.url}/ui`);
    const id = page.getByLabel('Customer id (optional)');
    // Pasted, as an id from another system would be: 257 characters, the last one an emoji.
    await id.fill(`${'x'.repeat(256)}😀`);
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.locator('#field-customerId-error').textContent()).toBe('Enter at most 256 characters; got 257.');
    expect(await id.getAttribute('aria-invalid')).toBe('true');
    expect(await id.getAttribute('aria-describedby')).toBe('field-customerId-hint field-customerId-error');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('field-customerId');
    expect(await id.inputValue()).toBe(`${'x'.repeat(256)}😀`); // as pasted, not cut short
    expect(sent).toEqual([]);
    // 256 emoji are 256 characters to the gateway (512 UTF-16 units): sent whole, echoed whole.
    await id.fill('😀'.repeat(256));
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.locator('.result').count()).toBe(1);
    expect(sent.map((c) => c.customerId)).toEqual(['😀'.repeat(256)]);
    expect(await page.locator('.result .meta').textContent()).toContain(`customer ${'😀'.repeat(256)}`);
    expect(await page.locator('#field-customerId-error').isHidden()).toBe(true);
    expect(await id.getAttribute('aria-invalid')).toBeNull();
  });

  it("shows the gateway's problem detail when it refuses a request (413)", async () => {
    const t = await open();
    const { page } = t;
    await page.goto(`${gateway.url}/ui`);
    // The real gateway's answer to a body over its limit (the page itself cannot send one).
    await page.route('**/graphql', async (route) => {
      if (!route.request().postData()?.includes('"Predict"')) return route.continue();
      await route.fulfill({ response: await route.fetch({ postData: `${route.request().postData() ?? ''}${' '.repeat(6 * 1024 * 1024)}` }) });
    });
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.locator('#result').textContent()).toMatch(/^The gateway answered 413 Payload Too Large: request body is \d+ bytes; the limit is \d+ bytes/);
    // The caller's own mistake: no failure of the gateway's to quote an id for.
    expect(await page.locator('#result .request-id').count()).toBe(0);
    expect(t.consoleErrors.splice(0).every((e) => /status of 413/.test(e))).toBe(true);
  });

  it('says so when something in front of the gateway answers JSON that is no GraphQL result', async () => {
    const t = await open();
    const { page } = t;
    await page.goto(`${gateway.url}/ui`);
    // A proxy's answer, not the gateway's: a JSON null with a 502.
    await page.route('**/graphql', async (route) => {
      if (!route.request().postData()?.includes('"Predict"')) return route.continue();
      await route.fulfill({ status: 502, contentType: 'application/json', body: 'null' });
    });
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.locator('#result').textContent()).toMatch(/^The gateway answered 502 without a GraphQL result\./);
    expect(t.consoleErrors.splice(0).every((e) => /status of 502/.test(e))).toBe(true);
  });

  /**
   * Stands in for a gateway stricter than this page: the real gateway judges a customer the
   * page thought valid (`change` edits it in flight). Returns the gateway's real answers, as they come.
   */
  /**
   * Opens GraphiQL in a browser whose storage an earlier build left: its saved tabs and its record
   * of the operations it preloaded, written from /ui (same origin, GraphiQL closed).
   */
  async function openGraphiqlAsLeft(page: TestPage['page'], tabState: unknown, preloaded: unknown): Promise<void> {
    await page.goto(`${gateway.url}/ui`);
    await page.evaluate(
      ({ tabs, operations }) => {
        localStorage.setItem('graphiql:tabState', tabs);
        localStorage.setItem('churn-graphiql:preloaded', operations);
      },
      { tabs: JSON.stringify(tabState), operations: JSON.stringify(preloaded) },
    );
    await page.goto(`${gateway.url}/ui/graphiql`);
  }

  async function judgedInFlight(page: TestPage['page'], change: (customer: Record<string, unknown>) => void): Promise<unknown[]> {
    const answers: unknown[] = [];
    await page.route('**/graphql', async (route) => {
      const body = JSON.parse(route.request().postData() ?? '{}') as { operationName?: string; variables: { customer?: Record<string, unknown> } };
      if (body.operationName !== 'Predict' || !body.variables.customer) return route.continue();
      change(body.variables.customer);
      const response = await route.fetch({ postData: JSON.stringify(body) });
      answers.push(await response.json());
      await route.fulfill({ response });
    });
    return answers;
  }

  it("shows the gateway's BAD_USER_INPUT issues next to the field they name", async () => {
    const t = await open();
    const { page } = t;
    await judgedInFlight(page, (customer) => (customer['tenure'] = 5000));
    await page.goto(`${gateway.url}/ui`);
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.locator('#field-tenure-error').textContent()).toMatch(/^Tenure must be an integer number of months from 0 to 1200; got 5000/);
    expect(await page.getByLabel('Tenure (months)').getAttribute('aria-invalid')).toBe('true');
    expect(t.consoleErrors.splice(0).every((e) => /status of 400/.test(e))).toBe(true);
  });

  it("marks every field one gateway refusal names, the customer id included, and says what it names that has no field", async () => {
    const t = await open();
    const { page } = t;
    const answers = (await judgedInFlight(page, (customer) => Object.assign(customer, { customerId: 'x'.repeat(300), tenure: 5000 }))) as { errors: unknown[] }[];
    await page.goto(`${gateway.url}/ui`);
    await page.getByRole('button', { name: 'Predict churn' }).click();
    // The real gateway names both in one BAD_USER_INPUT error.
    await poll(() => page.locator('#field-customerId-error').textContent()).toBe('must be at most 256 characters');
    expect(answers[0]?.errors).toHaveLength(1);
    expect(await page.locator('#field-tenure-error').textContent()).toMatch(/^Tenure must be an integer number of months from 0 to 1200; got 5000/);
    expect(await page.getByLabel('Customer id (optional)').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#result .problem').textContent()).toBe('The gateway rejected the customer; see the marked fields.');
    // An error naming a field and something the form has no field for (the request's `top`): both shown.
    await page.unrouteAll();
    const top = 'must be from 1 to 20 (the number of risk drivers); got 0';
    const tenure = 'tenure must be an integer number of months from 0 to 1200; got 5000';
    await page.route('**/graphql', (route) =>
      route.fulfill({
        status: 400,
        contentType: 'application/graphql-response+json',
        json: { data: null, errors: [{ message: `Invalid input (2 problems): top: ${top}; customer.tenure: ${tenure}`, extensions: { code: 'BAD_USER_INPUT', issues: [{ path: ['top'], message: top }, { path: ['customer', 'tenure'], message: tenure }], issueCount: 2 } }] },
      }),
    );
    await page.getByLabel('Customer id (optional)').fill('');
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.locator('#result .problem').textContent()).toBe(`The gateway rejected the customer; see the marked fields. Invalid input: top: ${top}`);
    expect(await page.locator('#field-tenure-error').textContent()).toBe(`Tenure must be an integer number of months from 0 to 1200; got 5000`);
    expect(await page.locator('#field-customerId-error').isHidden()).toBe(true);
    expect(await page.locator('#result details.gateway-wording code').textContent()).toBe(`Invalid input: top: ${top}`);
    expect(t.consoleErrors.splice(0).every((e) => /status of 400/.test(e))).toBe(true);
  });

  it("words the gateway's messages as the form labels its fields and values, keeping the gateway's wording", async () => {
    const t = await open();
    const { page } = t;
    const answers = (await judgedInFlight(page, (customer) => Object.assign(customer, { phoneService: false, multipleLines: 'YES' }))) as {
      errors: { extensions: { issues: { message: string }[] } }[];
    }[];
    await page.goto(`${gateway.url}/ui`);
    await page.getByRole('button', { name: 'Predict churn' }).click();
    const error = page.locator('#field-multipleLines-error');
    await poll(() => error.textContent()).toBe('Multiple lines must be "No phone service" exactly when Phone service is "No"; got Phone service="No" and Multiple lines="Yes"');
    // The gateway's own message, word for word, folded under it (what its logs and docs say).
    const said = answers[0]?.errors[0]?.extensions.issues[0]?.message;
    expect(said).toMatch(/^multipleLines must be NO_PHONE_SERVICE exactly when phoneService is false/);
    const wording = page.locator('[data-field="multipleLines"] details.gateway-wording');
    expect(await wording.locator('code').textContent()).toBe(said);
    expect(await wording.getAttribute('open')).toBeNull();
    // Out of what a screen reader reads as the field's description.
    expect(await page.getByLabel('Multiple lines').getAttribute('aria-describedby')).toBe('field-multipleLines-error');
    await wording.locator('summary').click();
    await page.locator('[data-field="multipleLines"]').screenshot({ path: path.join(SHOTS, 'gateway-issue.png') });
    expect(t.consoleErrors.splice(0).every((e) => /status of 400/.test(e))).toBe(true);
  });

  it("names an enum's allowed values by the form's options when the gateway refuses one the page sent", async () => {
    const t = await open();
    const { page } = t;
    await judgedInFlight(page, (customer) => (customer['contract'] = 'MONTHLY'));
    await page.goto(`${gateway.url}/ui`);
    await page.getByRole('button', { name: 'Predict churn' }).click();
    const error = page.locator('#field-contract-error');
    await poll(() => error.textContent()).toMatch(/allowed: "Month-to-month", "One year", "Two year"\.$/);
    expect(await error.textContent()).not.toMatch(/MONTH_TO_MONTH|customer\.contract/);
    expect(await page.locator('[data-field="contract"] details.gateway-wording code').textContent()).toMatch(/allowed: MONTH_TO_MONTH, ONE_YEAR, TWO_YEAR\./);
    expect(t.consoleErrors.splice(0).every((e) => /status of 400/.test(e))).toBe(true);
  });

  /** The x-request-id of the page's next answer to `operation`, once it arrives. */
  const requestIdOf = (page: TestPage['page'], operation: string) =>
    page
      .waitForResponse((r) => r.url().endsWith('/graphql') && (JSON.parse(r.request().postData() ?? '{}') as { operationName?: string }).operationName === operation)
      .then((r) => r.headers()['x-request-id']);

  it('shows the request id to quote when the gateway fails (a real 503 from a failing model session)', async () => {
    const t = await open();
    const { page } = t;
    await page.goto(`${gateway.url}/ui`);
    await poll(() => page.getByTestId('run-id').count()).toBe(1);
    // A prediction first: its drivers must not stay up under the failure, looking like the failed one's.
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.getByTestId('driver').count()).toBe(5);
    // Fault injection as in runtime-faults.test.ts: the live ONNX session starts failing.
    const session = sessionOf(gateway);
    const run = session.run.bind(session);
    session.run = () => Promise.reject(new Error('injected: ORT kernel failure'));
    try {
      const requestId = requestIdOf(page, 'Predict');
      await page.getByRole('button', { name: 'Predict churn' }).click();
      const id = await requestId;
      expect(id).toMatch(/^[\w-]{8,}$/);
      await poll(() => page.locator('#result').textContent()).toMatch(/^inference failed on model .*injected: ORT kernel failure/);
      expect(await page.locator('#result .request-id').textContent()).toBe(`Request id: ${id}`);
      expect(await page.getByTestId('drivers').count()).toBe(0);
      // The id the gateway logged the failure under: what support searches for (at warn: the
      // outage itself is logged once at error, not once per request).
      expect(gateway.logs.some((l) => l['reqId'] === id && l['level'] === 'warn' && /injected: ORT kernel failure/.test(JSON.stringify(l)))).toBe(true);
      expect(t.consoleErrors.splice(0).every((e) => /status of 503/.test(e))).toBe(true);
    } finally {
      session.run = run;
    }
  });

  it("shows the request id with the gateway's problem detail when it answers 503 before GraphQL does (REQUEST_TIMEOUT)", async () => {
    // 1 s, not 300 ms: at 300 ms a loaded machine could answer the page's own requests (its
    // script, its ModelInfo) 503 too, as the test below found.
    const slow = await startTestGateway({ UI_DIR, REQUEST_TIMEOUT_MS: '1000' });
    try {
      // The model takes longer than the gateway waits for it: a real 503 problem, no GraphQL result.
      const session = sessionOf(slow);
      const run = session.run.bind(session);
      session.run = (...args) => new Promise((resolve) => setTimeout(resolve, 3000)).then(() => run(...args));
      const t = (tab = await browser.open(slow.url));
      const { page } = t;
      await page.goto(`${slow.url}/ui`);
      const requestId = requestIdOf(page, 'Predict');
      await page.getByRole('button', { name: 'Predict churn' }).click();
      const id = await requestId;
      await poll(() => page.locator('#result .problem').textContent()).toBe('The gateway answered 503 Service Unavailable: REQUEST_TIMEOUT: no answer within 1000 ms');
      expect(await page.locator('#result .request-id').textContent()).toBe(`Request id: ${id}`);
      expect(slow.logs.some((l) => l['reqId'] === id && l['msg'] === 'request timed out')).toBe(true);
      expect(t.consoleErrors.splice(0).every((e) => /status of 503/.test(e))).toBe(true);
    } finally {
      await slow.close();
    }
  });

  it('stops waiting a little after REQUEST_TIMEOUT_MS when no answer comes, and the form predicts again', async () => {
    // 1 s, not less: at 300 ms the page's own ModelInfo was now and then answered 503
    // REQUEST_TIMEOUT on a loaded machine (two test files and their browsers on two cores).
    const quick = await startTestGateway({ UI_DIR, REQUEST_TIMEOUT_MS: '1000' });
    try {
      const t = (tab = await browser.open(quick.url));
      const { page } = t;
      // A connection that stays open and never answers (a gateway host gone without a reset).
      await page.route('**/graphql', (route) => {
        if (!route.request().postData()?.includes('"Predict"')) return route.continue();
      });
      await page.goto(`${quick.url}/ui`);
      await page.getByRole('button', { name: 'Predict churn' }).click();
      await poll(() => page.locator('#result .problem').textContent(), 15_000).toBe('The gateway did not answer within 6 s: the connection may have been lost. Try again.');
      await settled(page);
      await page.unrouteAll({ behavior: 'ignoreErrors' });
      await page.getByRole('button', { name: 'Predict churn' }).click();
      await poll(() => page.locator('.result').count()).toBe(1);
      // The offers' request after it, settled before the gateway goes: on a loaded machine it may meet the 1 s timeout (a 503), which is not this test's subject.
      await poll(() => page.locator('#offers').textContent()).toMatch(/^Offers the model scores lower(?!Scoring the offers)/);
      t.consoleErrors.splice(0, t.consoleErrors.length, ...t.consoleErrors.filter((e) => !/status of 503/.test(e)));
    } finally {
      await quick.close();
    }
  });

  it('says the connection was lost when the answer stops halfway, not that the gateway answered without a result', async () => {
    // In front of the real gateway: everything passes through, except that Predict's answer is cut off after its first bytes.
    const proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.url === '/graphql' && body.includes('"Predict"')) {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
          res.write('{"data":{"predict":{');
          setTimeout(() => res.destroy(), 100);
          return;
        }
        const forwarded = httpRequest(`${gateway.url}${req.url ?? '/'}`, { method: req.method, headers: { ...req.headers, host: new URL(gateway.url).host } }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        forwarded.end(body);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    try {
      const t = (tab = await browser.open(origin));
      const { page } = t;
      await page.goto(`${origin}/ui`);
      await page.getByRole('button', { name: 'Predict churn' }).click();
      await poll(() => page.locator('#result .problem').textContent()).toBe("The connection was lost while the gateway's answer (200) was arriving; try again.");
      await settled(page);
      expect(t.consoleErrors.splice(0)).toEqual([expect.stringMatching(/ERR_CONTENT_LENGTH_MISMATCH/)]);
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('says the gateway is still starting (MODEL_NOT_READY), and the model panel fills in by itself once it has a model', async () => {
    const t = await open();
    const { page } = t;
    // The gateway listens before its first model is loaded: every model lookup answers MODEL_NOT_READY.
    Object.defineProperty(gateway.slot, 'current', {
      configurable: true,
      get: () => {
        throw new NotReadyError();
      },
    });
    try {
      await page.goto(`${gateway.url}/ui`);
      await poll(() => page.locator('#model-panel .muted').textContent()).toBe('The gateway is still starting: its model is not loaded yet. This panel fills in once it is.');
      await page.getByRole('button', { name: 'Predict churn' }).click();
      await poll(() => page.locator('#result .problem').textContent()).toBe('The gateway is still starting: its model is not loaded yet. Predict again in a few seconds.');
      expect(await page.locator('#result details.gateway-wording code').textContent()).toBe('the gateway is still starting: its model is not loaded yet; repeat the request in a few seconds');
      // Nothing failed that support could look into.
      expect(await page.locator('#result .request-id').count()).toBe(0);
    } finally {
      Reflect.deleteProperty(gateway.slot, 'current');
    }
    // Loaded: the panel shows the model without anyone predicting or reloading.
    await poll(() => page.getByTestId('run-id').textContent()).toBe(info.runId);
    expect(await page.locator('#model-status').textContent()).toBe('');
    expect(t.consoleErrors.splice(0).every((e) => /status of 503/.test(e))).toBe(true);
  });

  it('clears the marks of an earlier attempt when the gateway answers that it is still starting (MODEL_NOT_READY)', async () => {
    const t = await open();
    const { page } = t;
    await page.goto(`${gateway.url}/ui`);
    await poll(() => page.getByTestId('run-id').count()).toBe(1);
    const tenure = page.getByLabel('Tenure (months)');
    await tenure.fill('abc');
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.locator('#field-tenure-error').textContent()).toMatch(/^Enter a whole number from 0 to \d+; got abc\.$/);
    expect(await page.locator('#form-summary').isVisible()).toBe(true);
    Object.defineProperty(gateway.slot, 'current', {
      configurable: true,
      get: () => {
        throw new NotReadyError();
      },
    });
    try {
      await tenure.fill('5');
      await page.getByRole('button', { name: 'Predict churn' }).click();
      await poll(() => page.locator('#result .problem').textContent()).toBe('The gateway is still starting: its model is not loaded yet. Predict again in a few seconds.');
    } finally {
      Reflect.deleteProperty(gateway.slot, 'current');
    }
    // The field was fixed: nothing on the form says otherwise.
    expect(await page.locator('#field-tenure-error').isHidden()).toBe(true);
    expect(await tenure.getAttribute('aria-invalid')).toBeNull();
    expect(await page.locator('#form-summary').isHidden()).toBe(true);
    expect(await page.locator('[aria-invalid]').count()).toBe(0);
    expect(t.consoleErrors.splice(0).every((e) => /status of 503/.test(e))).toBe(true);
  });

  it('shows the request id when the gateway masks its failure as INTERNAL_SERVER_ERROR (answered 200)', async () => {
    const t = await open();
    const { page } = t;
    // A failure no resolver expects (not a GatewayError): Yoga masks it as "Unexpected error.",
    // with the x-request-id header's id as its requestId extension.
    Object.defineProperty(gateway.slot, 'current', {
      configurable: true,
      get: () => {
        throw new TypeError('injected: unexpected failure');
      },
    });
    try {
      const requestId = requestIdOf(page, 'ModelInfo');
      await page.goto(`${gateway.url}/ui`);
      const id = await requestId;
      await poll(() => page.locator('#model-panel .problem').textContent()).toBe('Model information is unavailable: Unexpected error.');
      expect(await page.locator('#model-panel .request-id').textContent()).toBe(`Request id: ${id}`);
      expect(gateway.logs.some((l) => l['reqId'] === id && l['operation'] === 'ModelInfo')).toBe(true);
    } finally {
      Reflect.deleteProperty(gateway.slot, 'current');
    }
  });

  it("says in the form's card, to anyone, that the page's script did not load and to reload, and stops saying it loads the model", async () => {
    const opened = await open();
    const { page } = opened;
    // A 404 for the app's hashed file, as a task serving another build answers it (docs/ui.md): the form card stayed empty.
    await answerScript404(page, 'app');
    await page.goto(`${gateway.url}/ui`);
    const alert = page.getByRole('region', { name: 'Customer' }).getByRole('alert');
    await poll(() => alert.count()).toBe(1);
    expect(await alert.textContent()).toBe('This page could not start (its script did not load); reload the page.');
    expect(await alert.isVisible()).toBe(true);
    expect(await page.locator('#model-panel').textContent()).toBe('');
    expect(await page.getByRole('alert').count()).toBe(1);
    tab = null;
    await closeTab(opened, /status of 404/);
    // Loaded, the form replaces the check's subject: nothing is said.
    const loaded = await open();
    await loaded.page.goto(`${gateway.url}/ui`);
    await poll(() => loaded.page.getByTestId('run-id').textContent()).toMatch(/\w+/);
    expect(await loaded.page.getByRole('alert').count()).toBe(0);
  });

  it('runs GraphiQL offline with the operations preloaded', async () => {
    const { page } = await open();
    await page.goto(`${gateway.url}/ui/graphiql`);
    const tabs = page.locator('.graphiql-tab');
    await poll(() => tabs.allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('Predict'), expect.stringContaining('PredictBatch'), expect.stringContaining('ModelInfo')]));
    const active = page.locator('.graphiql-tab-active');
    const response = page.locator('.graphiql-response');
    // The Predict tab opens first, with an example customer in its variables.
    await poll(() => page.locator('.graphiql-editor-tool').textContent(), 20_000).toContain('example-high-risk');
    await page.locator('.graphiql-execute-button').click();
    await poll(() => response.textContent(), 20_000).toContain('churnProbability');
    // One click selects a tab, also the first one after a run.
    await tabs.filter({ hasText: 'ModelInfo' }).click();
    await poll(() => active.textContent()).toMatch(/^ModelInfo/);
    await runGraphiqlTab(page); // again while GraphiQL has not yet taken the tab's operation
    await poll(() => response.textContent(), 20_000).toContain('runId');
    await page.screenshot({ path: path.join(SHOTS, 'graphiql.png') });
  });

  it('runs GraphiQL at /ui/graphiql/ too, as /ui/ serves the form, with every file it loads found', async () => {
    const { page } = await open();
    const failed: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    page.on('requestfailed', (r) => failed.push(`failed ${r.url()}`));
    const answer = await page.goto(`${gateway.url}/ui/graphiql/`);
    expect(answer?.status()).toBe(200);
    await poll(() => page.locator('.graphiql-editor-tool').textContent(), 20_000).toContain('example-high-risk');
    await page.locator('.graphiql-execute-button').click();
    await poll(() => page.locator('.graphiql-response').textContent(), 20_000).toContain('churnProbability');
    expect(new URL(page.url()).pathname).toBe('/ui/graphiql/');
    expect(failed).toEqual([]);
  });

  it("restores GraphiQL's tabs on reload, each with its own variables, without adding one", async () => {
    const { page } = await open();
    await page.goto(`${gateway.url}/ui/graphiql`);
    const titles = () => page.locator('.graphiql-tab-button').allTextContents();
    const active = page.locator('.graphiql-tab-active .graphiql-tab-button');
    const variables = () => page.locator('.graphiql-editor-tool').textContent();
    await poll(variables, 20_000).toContain('example-high-risk');
    // The first click on a preloaded tab selects it.
    await page.locator('.graphiql-tab-button', { hasText: /^PredictBatch$/ }).click();
    await poll(() => active.textContent()).toBe('PredictBatch');
    await poll(variables).toContain('"customers"');
    // GraphiQL saves its tabs half a second after a change.
    const savedActiveTab = () => page.evaluate(() => (JSON.parse(localStorage.getItem('graphiql:tabState') ?? '{}') as { activeTabIndex?: number }).activeTabIndex);
    await poll(savedActiveTab).toBe(1);
    for (let reload = 0; reload < 2; reload++) {
      await page.reload();
      await poll(variables, 20_000).toContain('"customers"');
      expect(await titles()).toEqual(['Predict', 'PredictBatch', 'ModelInfo', 'GroupReport']);
      expect(await active.textContent()).toBe('PredictBatch');
    }
    await page.locator('.graphiql-tab-button', { hasText: /^Predict$/ }).click();
    await poll(variables).toContain('"customer"');
    expect(await variables()).toContain('example-high-risk');
  });

  it("moves GraphiQL's saved preloaded tabs on to this build's operations after an upgrade, keeps the tabs people edited, and adds a new operation once", async () => {
    const { page } = await open();
    await page.goto(`${gateway.url}/ui/graphiql`);
    const queryEditor = () => page.locator('.graphiql-query-editor').textContent();
    await poll(() => page.locator('.graphiql-editor-tool').textContent(), 20_000).toContain('example-high-risk');
    type Tabs = { tabs: { query: string; variables: string | null }[]; activeTabIndex: number };
    const saved = await page.evaluate(() => JSON.parse(localStorage.getItem('graphiql:tabState') ?? 'null') as unknown);
    const { tabs } = saved as Tabs;
    const predict = tabs[0]?.query as string;
    expect(predict).toContain('outsideTrainingRange');
    // As a browser that last ran the build before Predict selected outsideTrainingRange (and
    // before GroupReport was preloaded) left it: that build's Predict tab, never edited, and a
    // ModelInfo tab its user wrote notes into.
    expect(tabs.map((tab) => /(?:query|mutation)\s+(\w+)/.exec(tab.query)?.[1])).toEqual(['Predict', 'PredictBatch', 'ModelInfo', 'GroupReport']);
    const earlier = tabs.slice(0, 3);
    const before = predict.replace(/\s*outsideTrainingRange \{[^}]*\}/, '');
    const mine = `# my notes\n${tabs[2]?.query as string}`;
    const previous = earlier.map((tab, i) => ({ query: i === 0 ? before : tab.query, variables: tab.variables }));
    const state: Tabs = { activeTabIndex: 0, tabs: earlier.map((tab, i) => ({ ...tab, query: i === 0 ? before : i === 2 ? mine : tab.query })) };
    await openGraphiqlAsLeft(page, state, previous);
    await poll(queryEditor, 20_000).toContain('outsideTrainingRange');
    await page.locator('.graphiql-tab-button', { hasText: /^ModelInfo$/ }).click();
    await poll(queryEditor).toMatch(/#\smy\snotes/); // Monaco shows spaces as no-break spaces
    expect(await page.locator('.graphiql-tab-button').allTextContents()).toEqual(['Predict', 'PredictBatch', 'ModelInfo', 'GroupReport']);
    // Closed, the new tab stays closed: this browser now knows the build that added it.
    const savedTitles = async () => ((await page.evaluate(() => JSON.parse(localStorage.getItem('graphiql:tabState') ?? 'null') as unknown)) as Tabs).tabs.map((t) => /(?:query|mutation)\s+(\w+)/.exec(t.query)?.[1]);
    await page.locator('.graphiql-tab-button', { hasText: /^GroupReport$/ }).click();
    await page.locator('.graphiql-tab-active .graphiql-tab-close').click();
    await poll(savedTitles).toEqual(['Predict', 'PredictBatch', 'ModelInfo']);
    await page.reload();
    await poll(queryEditor, 20_000).toMatch(/query|mutation/);
    expect(await page.locator('.graphiql-tab-button').allTextContents()).toEqual(['Predict', 'PredictBatch', 'ModelInfo']);
  });

  it("moves preloaded tabs someone opened but did not edit on to this build's operations after an upgrade, ModelInfo's and GroupReport's empty variables included", async () => {
    const { page } = await open();
    await page.goto(`${gateway.url}/ui/graphiql`);
    await poll(() => page.locator('.graphiql-editor-tool').textContent(), 20_000).toContain('example-high-risk');
    type Tab = { query: string; variables: string | null };
    const read = (key: string) => page.evaluate((k) => JSON.parse(localStorage.getItem(k) ?? 'null') as unknown, key);
    const savedTabs = async () => ((await read('graphiql:tabState')) as { tabs: Tab[] }).tabs;
    const titles = ['Predict', 'PredictBatch', 'ModelInfo', 'GroupReport'];
    // Each tab shown: GraphiQL saves a tab the build preloads without variables with "" where the
    // build's record of it says null, once its variables editor has changed to empty (so each is
    // shown after a tab with variables) and GraphiQL has saved the change (so each is waited for).
    for (const name of ['PredictBatch', 'ModelInfo', 'Predict', 'GroupReport', 'Predict']) {
      await page.locator('.graphiql-tab-button', { hasText: new RegExp(`^${name}$`) }).click();
      await poll(() => page.locator('.graphiql-tab-active .graphiql-tab-button').textContent()).toBe(name);
      await poll(() => page.locator('.graphiql-query-editor').textContent()).toMatch(new RegExp(`(?:query|mutation)\\s${name}\\b`));
      if (name === 'ModelInfo' || name === 'GroupReport') await poll(async () => (await savedTabs())[titles.indexOf(name)]?.variables).toBe('');
    }
    const current = (await read('churn-graphiql:preloaded')) as Tab[];
    expect(current.map((tab) => tab.variables === null)).toEqual([false, false, true, true]);
    // As a browser that last ran a build whose every preloaded operation read differently left it.
    const earlier = (query: string) => query.replace('{', '{\n  __typename');
    const previous = current.map((tab) => ({ ...tab, query: earlier(tab.query) }));
    const tabState = { ...((await read('graphiql:tabState')) as object), tabs: (await savedTabs()).map((tab) => ({ ...tab, query: earlier(tab.query) })) };
    await openGraphiqlAsLeft(page, tabState, previous);
    await poll(() => page.locator('.graphiql-tab-button').allTextContents(), 20_000).toEqual(['Predict', 'PredictBatch', 'ModelInfo', 'GroupReport']);
    await poll(async () => (await savedTabs()).map((tab) => tab.query)).toEqual(current.map((tab) => tab.query));
    await page.locator('.graphiql-tab-button', { hasText: /^GroupReport$/ }).click();
    await poll(() => page.locator('.graphiql-query-editor').textContent()).toMatch(/GroupReport/);
    expect(await page.locator('.graphiql-query-editor').textContent()).not.toContain('__typename');
  });

  it('fits a 375 px phone screen without horizontal scrolling', async () => {
    const { page } = await open({ width: 375, height: 812 });
    await page.goto(`${gateway.url}/ui`);
    await page.getByRole('button', { name: 'Example: high risk' }).click();
    await poll(() => page.locator('.result').getAttribute('data-risk')).toBe('HIGH');
    await poll(() => page.getByTestId('run-id').count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'phone-375.png'), fullPage: true });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    // A message that quotes a long unbroken value wraps too.
    await page.getByLabel('Total charges').fill('1234567890123456789012345678901234567890x');
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.locator('#field-totalCharges-error').textContent()).toMatch(/1234567890123456789012345678901234567890x/);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  });
});

describe('ui over HTTP', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({ UI_DIR });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  function raw(target: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; bytes: number }> {
    return new Promise((resolve, reject) => {
      const { hostname, port } = new URL(gateway.url);
      // node:http sends the path as given (no ../ normalisation), as an attacker would.
      const req = httpRequest({ hostname, port, path: target, headers }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes }));
      });
      req.on('error', reject);
      req.end();
    });
  }
  const assetOf = async (page: string, pattern: RegExp) => ((await (await fetch(`${gateway.url}${page}`)).text()).match(pattern) as RegExpMatchArray)[0];

  /**
   * GET on a new connection that is closed the moment the body's content-length bytes have
   * arrived, as curl does: the client may hang up before the server has seen its answer end.
   */
  function downloadAndHangUp(target: string, headers: Record<string, string>): Promise<{ status: number; bodyBytes: number; contentLength: number }> {
    return new Promise((resolve, reject) => {
      const { hostname, port } = new URL(gateway.url);
      const socket = connect(Number(port), hostname);
      const fields = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.write(`GET ${target} HTTP/1.1\r\nHost: ${hostname}\r\n${fields}\r\n`);
      let head: Buffer | null = Buffer.alloc(0);
      let status = 0;
      let contentLength = NaN;
      let bodyBytes = 0;
      socket.on('data', (chunk: Buffer) => {
        if (head) {
          head = Buffer.concat([head, chunk]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          const text = head.subarray(0, end).toString('latin1');
          status = Number(text.slice(9, 12));
          contentLength = Number(/\r\ncontent-length: *(\d+)/i.exec(text)?.[1] ?? NaN);
          bodyBytes = head.length - end - 4;
          head = null;
        } else {
          bodyBytes += chunk.length;
        }
        if (!(bodyBytes >= contentLength)) return;
        socket.destroy();
        resolve({ status, bodyBytes, contentLength });
      });
      socket.on('error', reject);
      socket.on('close', () => reject(new Error(`${target}: connection closed before the whole answer arrived`)));
    });
  }

  const metricValue = async (series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(await (await fetch(`${gateway.url}/metrics`)).text())?.[1] ?? 0);

  it('logs an asset the client read in full and hung up on as 200, never 499 with an error', async () => {
    const appJs = await assetOf('/ui', /\/ui\/assets\/app\.[0-9a-f]{12}\.js/);
    const graphiqlJs = await assetOf('/ui/graphiql', /\/ui\/assets\/graphiql\.[0-9a-f]{12}\.js/);
    const closed499 = 'gateway_requests_total{route="ui_assets",operation="",status="499"}';
    const before = await metricValue(closed499);
    const ids: string[] = [];
    // Small files (one read, where the race was) many times; the 5 MB one, sent in many writes, a few.
    for (const [target, times] of [[appJs, 80], [graphiqlJs, 4]] as const) {
      for (const encoding of ['identity', 'gzip', 'br']) {
        for (let i = 0; i < times; i++) {
          const id = `hangup-${path.basename(target)}-${encoding}-${i}`;
          ids.push(id);
          const got = await downloadAndHangUp(target, { 'x-request-id': id, 'accept-encoding': encoding });
          expect(got.status, id).toBe(200);
          expect(got.bodyBytes, id).toBe(got.contentLength);
        }
      }
    }
    const logged = () => ids.map((id) => gateway.logs.find((l) => l['reqId'] === id && l['route'] === 'ui_assets')?.['status']);
    await expect.poll(logged, { timeout: 30_000 }).not.toContain(undefined);
    expect(logged().filter((s) => s !== 200)).toEqual([]);
    expect(gateway.logs.filter((l) => ids.includes(l['reqId'] as string) && l['level'] === 'error')).toEqual([]);
    expect(await metricValue(closed499)).toBe(before);
  });

  it('serves a small GraphiQL page and its assets compressed, cacheable and from this origin', async () => {
    const page = await raw('/ui/graphiql');
    expect(page.status).toBe(200);
    expect(page.bytes).toBeLessThan(50 * 1024);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(page.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(page.headers['content-security-policy']).not.toMatch(/https?:/);
    expect(page.headers).toMatchObject({ 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer', 'x-content-type-options': 'nosniff' });
    expect(page.headers['permissions-policy']).toMatch(/camera=\(\)/);
    const js = await assetOf('/ui/graphiql', /\/ui\/assets\/graphiql\.[0-9a-f]{12}\.js/);
    for (const encoding of ['br', 'gzip']) {
      const asset = await raw(js, { 'accept-encoding': encoding });
      expect(asset.status).toBe(200);
      expect(asset.headers['content-encoding']).toBe(encoding);
      expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(asset.headers['vary']).toBe('Accept-Encoding');
      expect(asset.bytes).toBeLessThan(2_000_000);
    }
    expect((await raw(js, { 'accept-encoding': 'br;q=0, gzip;q=0.5' })).headers['content-encoding']).toBe('gzip');
    const plain = await raw(js);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.bytes).toBeGreaterThan(4_000_000);
    const again = await raw(js, { 'accept-encoding': 'br', 'if-none-match': `"${js.split('/').pop() as string}-br"` });
    expect(again.status).toBe(304);
  });

  it('logs a client that leaves in the middle of an asset as 499, without an error line', async () => {
    const graphiqlJs = await assetOf('/ui/graphiql', /\/ui\/assets\/graphiql\.[0-9a-f]{12}\.js/);
    const { hostname, port } = new URL(gateway.url);
    // A client that reads none of the 5.3 MB answer (more than the socket buffers on both ends
    // take in: Linux's send buffer grows to 4 MB, a receive buffer nobody reads from stays small)
    // and goes away: the gateway is left with bytes it could not send.
    // Gone once the gateway is answering it (and 300 ms on), not after a fixed 300 ms alone: on a
    // loaded machine the timer could fire before the socket had connected, and destroy() dropped
    // the request unsent. Nothing else is in flight here once the tests before have ended theirs.
    await waitFor('no request in flight', () => gateway.app.inFlight() === 0, 30_000, 5);
    const socket = connect(Number(port), hostname).pause();
    socket.write(`GET ${graphiqlJs} HTTP/1.1\r\nHost: ${hostname}\r\nx-request-id: left-mid-asset\r\n\r\n`);
    await Promise.all([waitFor('the gateway to be answering the request', () => gateway.app.inFlight() > 0, 30_000, 5), new Promise((resolve) => setTimeout(resolve, 300))]);
    socket.destroy();
    const logged = () => gateway.logs.find((l) => l['reqId'] === 'left-mid-asset' && l['route'] === 'ui_assets');
    await expect.poll(logged, { timeout: 30_000 }).toMatchObject({ status: 499 });
    expect(gateway.logs.filter((l) => l['reqId'] === 'left-mid-asset' && l['level'] === 'error')).toEqual([]);
  });

  it('answers 500 with the request id when an asset cannot be read, and serves it again once it can', async () => {
    // The real build's files, each linked into a directory where one can go missing after start-up.
    const dir = await mkdtemp(path.join(tmpdir(), 'ui-unreadable-'));
    try {
      await mkdir(path.join(dir, 'assets'));
      for (const name of await readdir(path.join(UI_DIR, 'assets'))) await symlink(path.join(UI_DIR, 'assets', name), path.join(dir, 'assets', name));
      await symlink(path.join(UI_DIR, 'manifest.json'), path.join(dir, 'manifest.json'));
      const served = await startTestGateway({ UI_DIR: dir });
      try {
        const appJs = ((await (await fetch(`${served.url}/ui`)).text()).match(/\/ui\/assets\/app\.[0-9a-f]{12}\.js/) as RegExpMatchArray)[0];
        const file = path.join(dir, 'assets', path.basename(appJs));
        await unlink(file);
        const failed = await fetch(`${served.url}${appJs}`, { headers: { 'x-request-id': 'unreadable-asset', 'accept-encoding': 'identity' } });
        expect(failed.status).toBe(500);
        expect(failed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(((await failed.json()) as { requestId: string }).requestId).toBe('unreadable-asset');
        expect(served.logs.find((l) => l['reqId'] === 'unreadable-asset' && l['level'] === 'error')?.['err']).toMatch(/ENOENT.*app\./);
        await symlink(path.join(UI_DIR, appJs.replace('/ui/', '')), file);
        const again = await fetch(`${served.url}${appJs}`, { headers: { 'accept-encoding': 'identity' } });
        expect(again.status).toBe(200);
        expect(Buffer.from(await again.arrayBuffer()).equals(await readFile(file))).toBe(true);
      } finally {
        await served.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers If-None-Match by the weak comparison, for a list of tags or *, on pages and assets (RFC 9110 §13.1.2)', async () => {
    const appJs = await assetOf('/ui', /\/ui\/assets\/app\.[0-9a-f]{12}\.js/);
    for (const [target, headers] of [['/ui', {}], ['/ui/graphiql', {}], [appJs, { 'accept-encoding': 'br' }], [appJs, {}]] as const) {
      const first = await raw(target, headers);
      const etag = first.headers['etag'] as string;
      expect(etag, target).toMatch(/^"[^"]+"$/);
      const answers = async (ifNoneMatch: string) => (await raw(target, { ...headers, 'if-none-match': ifNoneMatch })).status;
      expect(await answers(etag), `${target} exact`).toBe(304);
      expect(await answers(`W/${etag}`), `${target} weak`).toBe(304);
      expect(await answers(`"other", ${etag}`), `${target} list`).toBe(304);
      expect(await answers(`W/"other" ,  W/${etag} , "more"`), `${target} list of weak tags, spaces around commas`).toBe(304);
      expect(await answers('*'), `${target} *`).toBe(304);
      expect(await answers(`"other", W/"${etag.slice(1, -1)}x", "x${etag.slice(1)}`), `${target} no tag in the list matches`).toBe(200);
      expect(await answers(etag.slice(1, -1)), `${target} tag without its quotes`).toBe(200);
    }
  });

  it('serves each page with and without a trailing slash, and its files resolve from either', async () => {
    for (const [canonical, slashed] of [['/ui', '/ui/'], ['/ui/graphiql', '/ui/graphiql/']] as const) {
      const [a, b] = await Promise.all([fetch(`${gateway.url}${canonical}`), fetch(`${gateway.url}${slashed}`)]);
      expect(b.status, slashed).toBe(200);
      expect(b.headers.get('etag'), slashed).toBe(a.headers.get('etag'));
      expect(b.headers.get('content-security-policy'), slashed).toBe(a.headers.get('content-security-policy'));
      const html = await b.text();
      expect(html, slashed).toBe(await a.text());
      expect((await raw(slashed, { 'if-none-match': a.headers.get('etag') as string })).status, slashed).toBe(304);
      // Every file the page links, resolved against the URL it was served at, as a browser does.
      const links = [...html.matchAll(/\s(?:src|href)="([^"#]+)"/g)].map((m) => new URL(m[1] as string, `${gateway.url}${slashed}`));
      expect(links.filter((u) => u.pathname.startsWith('/ui/assets/')).length, slashed).toBeGreaterThanOrEqual(3);
      for (const url of links) expect((await fetch(url, { method: 'HEAD' })).status, `${url.pathname} from ${slashed}`).toBe(200);
    }
    expect((await raw('/ui/graphiql//')).status).toBe(404);
    expect((await raw('/ui/graphiql/x')).status).toBe(404);
  });

  it('answers 404 to unknown files and path traversal', async () => {
    for (const target of ['/ui/assets/nope.js', '/ui/assets/../manifest.json', '/ui/assets/..%2fmanifest.json', '/ui/assets/%2e%2e/%2e%2e/package.json', '/ui/../package.json', '/ui/assets/', '/ui/other']) {
      expect((await raw(target)).status, target).toBe(404);
    }
  });

  it('answers 503 when the UI was not built, naming the start-up warning; only that warning names the folder and the fix', async () => {
    const dir = path.join(REPO_ROOT, '.tmp/no-ui-build');
    const unbuilt = await startTestGateway({ UI_DIR: dir });
    try {
      const res = await fetch(`${unbuilt.url}/ui`);
      expect(res.status).toBe(503);
      const text = await res.text();
      // Anyone may ask: the server's paths and build commands are the operator's, in the log.
      expect(JSON.parse(text)).toMatchObject({ status: 503, detail: UNAVAILABLE_DETAIL });
      expect(UNAVAILABLE_DETAIL).toMatch(/^the UI is not available on this deployment; .* start-up warning "\/ui is unavailable"$/);
      expect(text).not.toContain(dir);
      expect(text).not.toMatch(/UI_DIR|build:ui|npm/);
      const warning = unbuilt.logs.find((l) => String(l['msg']).startsWith('/ui is unavailable'));
      // The fix it names builds that folder: `npm run build:ui` alone writes ui/dist, and left it as empty as before.
      expect(warning?.['msg']).toBe(`/ui is unavailable: no UI build (run npm run build:ui -- ${dir}, or set UI_DIR to a built UI)`);
      expect(warning?.['uiDir']).toBe(dir);
      const command = /\(run (npm run build:ui -- \S+), /.exec(String(warning?.['msg']))?.[1] ?? '';
      await run('sh', ['-c', command], { cwd: REPO_ROOT });
      const built = await startTestGateway({ UI_DIR: dir });
      try {
        expect((await fetch(`${built.url}/ui`)).status).toBe(200);
      } finally {
        await built.close();
      }
    } finally {
      await unbuilt.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('logs that a build stopped halfway is incomplete, not missing (the answer names no folder), and build:ui run again completes it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ui-incomplete-'));
    try {
      await cp(UI_DIR, dir, { recursive: true });
      const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { assets: Record<string, { file: string; encodings: string[] }> };
      const appJs = manifest.assets['app.js'] as { file: string; encodings: string[] };
      expect(appJs.encodings).toContain('br');
      const sibling = path.join(dir, 'assets', `${appJs.file}.br`);
      // As a build killed after app.js and before its brotli sibling left the directory, with a
      // file it was still writing (an hour old) beside them.
      await unlink(sibling);
      const leftover = path.join(dir, 'assets', `${appJs.file}.br.4242-0badcafe.partial`);
      await writeFile(leftover, 'cut sh');
      await utimes(leftover, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
      const broken = await startTestGateway({ UI_DIR: dir });
      try {
        const res = await fetch(`${broken.url}/ui`);
        expect(res.status).toBe(503);
        expect(((await res.json()) as { detail: string }).detail).toBe(UNAVAILABLE_DETAIL);
        const warning = broken.logs.find((l) => String(l['msg']).startsWith('/ui is unavailable'));
        expect(warning?.['msg']).toBe(`/ui is unavailable: the UI build is incomplete (run npm run build:ui -- ${dir}, or set UI_DIR to a built UI)`);
        expect(JSON.stringify(warning?.['err'])).toContain(`${sibling} is listed in the UI build's manifest.json but missing`);
      } finally {
        await broken.close();
      }
      await buildUi(dir);
      expect((await readdir(path.join(dir, 'assets'))).filter((f) => f.startsWith(appJs.file))).toEqual([appJs.file, `${appJs.file}.br`, `${appJs.file}.gz`]);
      const repaired = await startTestGateway({ UI_DIR: dir });
      try {
        expect((await fetch(`${repaired.url}/ui`)).status).toBe(200);
        const asset = await fetch(`${repaired.url}/ui/assets/${appJs.file}`, { headers: { 'accept-encoding': 'br' } });
        expect([asset.status, asset.headers.get('content-encoding')]).toEqual([200, 'br']);
        expect(Buffer.from(await asset.arrayBuffer())).toEqual(await readFile(path.join(UI_DIR, 'assets', appJs.file)));
      } finally {
        await repaired.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is not served from a manifest naming a file outside assets/; the log names the entry', async () => {
    // The real build's assets, beside a manifest whose app.js entry points at a file above them.
    const dir = await mkdtemp(path.join(tmpdir(), 'ui-manifest-'));
    try {
      await symlink(path.join(UI_DIR, 'assets'), path.join(dir, 'assets'));
      const manifest = JSON.parse(await readFile(path.join(UI_DIR, 'manifest.json'), 'utf8')) as { assets: Record<string, { file: string }> };
      (manifest.assets['app.js'] as { file: string }).file = '../manifest.json';
      await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
      const tampered = await startTestGateway({ UI_DIR: dir });
      try {
        expect((await fetch(`${tampered.url}/ui`)).status).toBe(503);
        const warning = tampered.logs.find((l) => String(l['msg']).startsWith('/ui is unavailable'));
        expect(warning?.['msg']).toBe(`/ui is unavailable: the UI build is not usable (run npm run build:ui -- ${dir}, or set UI_DIR to a built UI)`);
        expect(JSON.stringify(warning?.['err'])).toContain('assets.app.js.file: must be a plain file name inside assets/');
      } finally {
        await tampered.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('turns GraphiQL off with GRAPHIQL_ENABLED=false while /ui stays up', async () => {
    const graphiqlJs = await assetOf('/ui/graphiql', /\/ui\/assets\/graphiql\.[0-9a-f]{12}\.js/);
    const off = await startTestGateway({ UI_DIR, GRAPHIQL_ENABLED: 'false' });
    try {
      expect((await fetch(`${off.url}/ui/graphiql`)).status).toBe(404);
      expect((await fetch(`${off.url}/ui/graphiql/`)).status).toBe(404);
      expect((await fetch(`${off.url}${graphiqlJs}`)).status).toBe(404);
      const app = await fetch(`${off.url}/ui`);
      expect(app.status).toBe(200);
      expect(await app.text()).not.toContain('/ui/graphiql');
      // GET /graphql without a query no longer points at a page that is not served.
      const noQuery = await fetch(`${off.url}/graphql`);
      expect([noQuery.status, ((await noQuery.json()) as { detail: string }).detail]).toEqual([400, 'GET /graphql needs a query parameter']);
    } finally {
      await off.close();
    }
  });
});
