/**
 * /ui's accessibility in a real browser against the real gateway: axe-core (injected into the
 * real chromium page) finds no WCAG 2.1 A/AA violation on the form page in any of its states;
 * GraphiQL's wrapper (title, language, main landmark) and what the project puts in GraphiQL's
 * logo slot (the page's heading, the link back to the form) are checked, GraphiQL's own internals
 * are not; on /docs, the page around Swagger UI and the landmarks and heading Swagger UI brings
 * are checked, and axe finds nothing else in any state of "Try it out" but the one finding of
 * Swagger UI's own listed in SWAGGER_UI_OWN; the form, the way from GraphiQL back to it, and
 * "Try it out" → Execute on /docs work with the keyboard alone; and the
 * page reflows on a phone, at 320 px (WCAG 1.4.10) and at 200 % zoom without horizontal
 * scrolling or clipped controls.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AxeResults, Result } from 'axe-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NotReadyError } from '../src/errors.js';
import { CONTRACT_ENUMS, CUSTOMER_FIELDS } from '../src/contract.js';
import { ALL_FIELDS, EXAMPLES } from '../ui/src/app/customer-fields.js';
import { buildUi } from '../ui/src/build.js';
import { browserForSuite, closeTab, launchBrowser, type TestBrowser, type TestPage } from './helpers/browser.js';
import { REPO_ROOT, sessionOf, startTestGateway, type TestGateway } from './helpers/gateway.js';

type Page = TestPage['page'];

const unavailable = browserForSuite('ui accessibility (browser)', 'test/ui-a11y.test.ts');
const poll = <T>(read: () => Promise<T> | T, timeout = 10_000) => expect.poll(read, { timeout });
const AXE_SOURCE = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** The WCAG 2.1 level A and AA rules (axe tags each rule with the versions and levels it checks). */
const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** A violation as a line a reader can act on: the rule, what it asks, and where. */
const describeViolation = (v: Result) => `${v.id} (${v.help}): ${v.nodes.map((n) => `${n.target.join(' ')} — ${n.failureSummary?.replace(/\s+/g, ' ') ?? ''}`).join('; ')}`;

/**
 * Runs axe-core in the page as it is now. Evaluated through the DevTools protocol, which the
 * page's Content-Security-Policy (script-src 'self') does not apply to: the page under test is
 * served exactly as users get it.
 */
async function axe(page: Page, runOnly: { type: 'tag' | 'rule'; values: string[] }): Promise<AxeResults> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(await AXE_SOURCE);
  return page.evaluate((only) => (window as unknown as { axe: { run(context: Document, options: object): Promise<AxeResults> } }).axe.run(document, { runOnly: only, resultTypes: ['violations'] }), runOnly);
}

/** The page's WCAG 2.1 A/AA violations, one line each (expected: none). */
/**
 * The keyboard as a person uses it: `focused()` is the focused control's name (its aria-label, else
 * its text) and whether it shows a visible ring (an outline of 2 px or more), null on the page
 * itself; `tabTo(name)` presses Tab until `name` (a string: exactly, a RegExp: matching) has focus.
 */
function keyboard(page: Page): { focused: () => Promise<{ name: string; ring: boolean } | null>; tabTo: (name: string | RegExp) => Promise<void> } {
  const focused = () =>
    page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return null;
      const style = getComputedStyle(el);
      return { name: el.getAttribute('aria-label') ?? (el.textContent ?? '').trim(), ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 };
    });
  async function tabTo(name: string | RegExp): Promise<void> {
    const passed: string[] = [];
    for (let step = 0; step < 40; step++) {
      await page.keyboard.press('Tab');
      const now = (await focused())?.name ?? '(page)';
      if (typeof name === 'string' ? now === name : name.test(now)) return;
      passed.push(now);
    }
    throw new Error(`Tab never reached ${String(name)}: ${passed.join(', ')}`);
  }
  return { focused, tabTo };
}

const wcagViolations = async (page: Page) => (await axe(page, { type: 'tag', values: WCAG_21_AA })).violations.map(describeViolation);

describe.skipIf(unavailable !== null)('ui accessibility in a browser', () => {
  let uiDir: string;
  let gateway: TestGateway;
  let browser: TestBrowser;
  let tab: TestPage | null = null;

  beforeAll(async () => {
    // Its own build: test/ui.test.ts rebuilds ui/dist while this file may be running.
    uiDir = await mkdtemp(path.join(tmpdir(), 'ui-a11y-'));
    await buildUi(uiDir);
    [gateway, browser] = await Promise.all([startTestGateway({ UI_DIR: uiDir }), launchBrowser()]);
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    if (uiDir) await rm(uiDir, { recursive: true, force: true });
  });

  async function open(viewport?: { width: number; height: number }): Promise<Page> {
    tab = await browser.open(gateway.url, viewport);
    return tab.page;
  }

  afterEach(async () => {
    const closing = tab;
    tab = null;
    if (closing) await closeTab(closing, /status of (400|503)/);
  });

  /** The form page with the model panel filled in. */
  async function formPage(page: Page): Promise<void> {
    await page.goto(`${gateway.url}/ui`);
    await poll(() => page.getByTestId('run-id').count()).toBe(1);
  }

  const predicted = (page: Page) => poll(() => page.locator('#customer-form').getAttribute('aria-busy')).toBe('false');

  /** Every Predict answer edited in flight by `edit` (the real answer otherwise). */
  async function predictAnswersEdited(page: Page, edit: (predict: Record<string, unknown>) => void): Promise<void> {
    await page.route('**/graphql', async (route) => {
      if ((JSON.parse(route.request().postData() ?? '{}') as { operationName?: string }).operationName !== 'Predict') return route.continue();
      const response = await route.fetch();
      const body = (await response.json()) as { data?: { predict?: Record<string, unknown> } };
      if (body.data?.predict) edit(body.data.predict);
      await route.fulfill({ response, json: body });
    });
  }

  /** Every Predict answer's risk level rewritten in flight, for the band the examples do not reach. */
  async function riskLevelInFlight(page: Page, riskLevel: string): Promise<void> {
    await predictAnswersEdited(page, (predict) => (predict['riskLevel'] = riskLevel));
  }

  it('has no WCAG 2.1 A/AA violation at load, with the model panel filled in', async () => {
    const page = await open();
    await formPage(page);
    expect(await page.locator('#model-panel table').count()).toBeGreaterThan(0);
    expect(await wcagViolations(page)).toEqual([]);
    // The panel's folded "All metrics" table, open.
    await page.locator('#model-panel details summary').click();
    expect(await wcagViolations(page)).toEqual([]);
  });

  /** Once the form's offers have been scored: listed, or the one line saying why there are none. */
  const offersShown = (page: Page) => poll(() => page.locator('#offers').textContent()).toMatch(/^Offers the model scores lower(?!Scoring the offers)/);

  it('has no WCAG 2.1 A/AA violation after a prediction in each risk band, also once the result is stale', async () => {
    const page = await open();
    await formPage(page);
    const tenure = page.getByLabel('Tenure (months)');
    for (const example of EXAMPLES) {
      await page.getByRole('button', { name: example.label }).click();
      await poll(() => page.locator('.result').getAttribute('data-risk')).toMatch(/^(HIGH|LOW)$/);
      // "Why this score": the drivers, and the analysts' SHAP table unfolded.
      await poll(() => page.getByTestId('driver').count()).toBe(5);
      await page.locator('.shap summary').click();
      // The offers under them: listed (high risk), or the line that there is nothing to try (low).
      await offersShown(page);
      expect(await wcagViolations(page), `${example.label}`).toEqual([]);
      // Edited after the prediction: the result says it is for the values before, still readable.
      await tenure.fill(String(Number(await tenure.inputValue()) + 1));
      await poll(() => page.getByTestId('stale-note').count()).toBe(1);
      expect(await page.getByTestId('offers-stale-note').count()).toBe(1);
      expect(await wcagViolations(page), `${example.label}, stale`).toEqual([]);
    }
    await riskLevelInFlight(page, 'MEDIUM');
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.locator('.result').getAttribute('data-risk')).toBe('MEDIUM');
    expect(await wcagViolations(page), 'medium').toEqual([]);
    await tenure.fill('3');
    await poll(() => page.getByTestId('stale-note').count()).toBe(1);
    expect(await wcagViolations(page), 'medium, stale').toEqual([]);
    // Outside the training ranges: the notice under the verdict.
    await page.unrouteAll({ behavior: 'wait' });
    await tenure.fill('1200');
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.getByTestId('range-notice').count()).toBe(1);
    expect(await wcagViolations(page), 'outside the training ranges').toEqual([]);
    // A model version without an explainer (its answer's explanation null, in flight): the one-line note.
    await predictAnswersEdited(page, (predict) => (predict['explanation'] = null));
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.getByTestId('no-explainer').count()).toBe(1);
    expect(await wcagViolations(page), 'no explainer').toEqual([]);
  });

  it("has no WCAG 2.1 A/AA violation with field errors, the page's and the gateway's (its wording unfolded)", async () => {
    const page = await open();
    await formPage(page);
    await page.getByLabel('Customer id (optional)').fill('x'.repeat(300));
    await page.getByLabel('Tenure (months)').fill('5000');
    await page.getByLabel('Total charges').fill('74,40');
    await page.getByLabel('Phone service').selectOption('false');
    await page.getByLabel('Multiple lines').selectOption('YES');
    await page.getByRole('button', { name: 'Predict churn' }).click();
    await poll(() => page.locator('.field.invalid').count()).toBe(4);
    expect(await page.locator('#form-summary').textContent()).toBe('4 fields need attention before predicting.');
    expect(await wcagViolations(page)).toEqual([]);
    // The gateway's issue next to its field, with its own wording folded under it and opened.
    await page.route('**/graphql', async (route) => {
      const body = JSON.parse(route.request().postData() ?? '{}') as { operationName?: string; variables: { customer?: Record<string, unknown> } };
      if (body.operationName !== 'Predict' || !body.variables.customer) return route.continue();
      Object.assign(body.variables.customer, { phoneService: false, multipleLines: 'YES' });
      await route.fulfill({ response: await route.fetch({ postData: JSON.stringify(body) }) });
    });
    await page.getByRole('button', { name: 'Example: high risk' }).click();
    await poll(() => page.locator('[data-field="multipleLines"] details.gateway-wording').count()).toBe(1);
    await page.locator('[data-field="multipleLines"] details.gateway-wording summary').click();
    expect(await wcagViolations(page)).toEqual([]);
  });

  it('has no WCAG 2.1 A/AA violation when the gateway fails (request id shown) or is starting, and with the model panel unavailable or carrying a notice', async () => {
    const page = await open();
    await formPage(page);
    // A real 503 from a failing model session, as in test/ui.test.ts.
    const session = sessionOf(gateway);
    const run = session.run.bind(session);
    session.run = () => Promise.reject(new Error('injected: ORT kernel failure'));
    try {
      await page.getByRole('button', { name: 'Predict churn' }).click();
      await poll(() => page.locator('#result .request-id').count()).toBe(1);
    } finally {
      session.run = run;
    }
    expect(await wcagViolations(page), 'gateway failure').toEqual([]);
    // The panel's own failure: ModelInfo masked as "Unexpected error." (a failure no resolver expects).
    Object.defineProperty(gateway.slot, 'current', {
      configurable: true,
      get: () => {
        throw new TypeError('injected: unexpected failure');
      },
    });
    try {
      await page.reload();
      await poll(() => page.locator('#model-panel .problem').textContent()).toBe('Model information is unavailable: Unexpected error.');
    } finally {
      Reflect.deleteProperty(gateway.slot, 'current');
    }
    expect(await wcagViolations(page), 'model panel unavailable').toEqual([]);
    // Still starting: every model lookup answers MODEL_NOT_READY, in the panel and the result.
    Object.defineProperty(gateway.slot, 'current', {
      configurable: true,
      get: () => {
        throw new NotReadyError();
      },
    });
    try {
      await page.reload();
      await poll(() => page.locator('#model-panel details.gateway-wording').count()).toBe(1);
      await page.getByRole('button', { name: 'Predict churn' }).click();
      await poll(() => page.locator('#result details.gateway-wording').count()).toBe(1);
      await page.locator('#result details.gateway-wording summary').click();
      expect(await wcagViolations(page), 'gateway starting').toEqual([]);
    } finally {
      Reflect.deleteProperty(gateway.slot, 'current');
    }
    // A model with a notice (a gateway serving its bundle because MLflow failed), as ModelInfo would carry it.
    await page.route('**/graphql', async (route) => {
      if ((JSON.parse(route.request().postData() ?? '{}') as { operationName?: string }).operationName !== 'ModelInfo') return route.continue();
      const response = await route.fetch();
      const body = (await response.json()) as { data?: { modelInfo?: { notice: string | null } } };
      if (body.data?.modelInfo) body.data.modelInfo.notice = 'Serving the bundled model: MLflow could not be reached.';
      await route.fulfill({ response, json: body });
    });
    await page.reload();
    await poll(() => page.locator('#model-panel .notice').count()).toBe(1);
    expect(await wcagViolations(page), 'model notice').toEqual([]);
  });

  it("gives GraphiQL's page its title, language, main landmark, heading and a link back to the form; what axe finds is inside GraphiQL's own rendering", async () => {
    const page = await open();
    await page.goto(`${gateway.url}/ui/graphiql`);
    await poll(() => page.locator('.graphiql-editor-tool').textContent(), 20_000).toContain('example-high-risk');
    // What this project writes: the page around GraphiQL, and its heading and link in GraphiQL's logo slot.
    const wrapper = await axe(page, { type: 'rule', values: ['document-title', 'html-has-lang', 'html-lang-valid', 'landmark-one-main', 'page-has-heading-one', 'region', 'bypass'] });
    expect(wrapper.violations.map(describeViolation)).toEqual([]);
    expect(await page.title()).toBe('Churn gateway · GraphiQL');
    expect(await page.getByRole('main', { name: 'GraphiQL' }).locator('.graphiql-container').count()).toBeGreaterThan(0);
    const heading = page.getByRole('heading', { level: 1 });
    expect(await heading.allTextContents()).toEqual(['Churn gateway · GraphiQL']);
    expect(await heading.isVisible()).toBe(true);
    const back = page.getByRole('navigation', { name: 'Gateway tools' }).getByRole('link', { name: 'Prediction form' });
    expect(await back.getAttribute('href')).toBe('/ui');
    expect(await back.isVisible()).toBe(true);
    const rest = page.getByRole('navigation', { name: 'Gateway tools' }).getByRole('link', { name: 'REST API' });
    expect([await rest.getAttribute('href'), await rest.isVisible()]).toEqual(['/docs', true]);
    // GraphiQL's own markup (its tabs, its logo) is third-party and left alone; none of the page's,
    // and none of what this project puts in GraphiQL's logo slot.
    const all = await axe(page, { type: 'tag', values: WCAG_21_AA });
    const ours = await page.evaluate(
      (targets) => targets.filter((selector) => { const el = document.querySelector(selector); return !el?.closest('.graphiql-container') || el.closest('.churn-title, .graphiql-logo'); }),
      all.violations.flatMap((v) => v.nodes.map((n) => n.target.join(' '))),
    );
    expect(ours, all.violations.map(describeViolation).join("\n")).toEqual([]);
  });

  it('goes from GraphiQL back to the form and runs an operation with the keyboard alone', async () => {
    const page = await open();
    await page.goto(`${gateway.url}/ui/graphiql`);
    await poll(() => page.locator('.graphiql-editor-tool').textContent(), 20_000).toContain('example-high-risk');
    const { focused, tabTo } = keyboard(page);
    // From the top of the page: past GraphiQL's sidebar and tabs to the link back, with a visible ring.
    await tabTo('Prediction form');
    expect(await focused()).toEqual({ name: 'Prediction form', ring: true });
    await page.keyboard.press('Enter');
    await page.waitForURL(`${gateway.url}/ui`);
    await poll(() => page.getByTestId('run-id').count()).toBe(1);
    // And back through the form's own link: Execute runs the preloaded Predict tab.
    await tabTo('GraphiQL');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${gateway.url}/ui/graphiql`);
    await poll(() => page.locator('.graphiql-editor-tool').textContent(), 20_000).toContain('example-high-risk');
    await tabTo('Execute query (Ctrl-Enter)');
    await page.keyboard.press('Enter');
    await poll(() => page.locator('.graphiql-response').textContent(), 20_000).toContain('churnProbability');
  });

  /** /docs with Swagger UI's operations rendered. */
  async function docsPage(page: Page): Promise<void> {
    await page.goto(`${gateway.url}/docs`);
    await poll(() => page.locator('#operations-predictions-predict').count(), 20_000).toBe(1);
  }

  /**
   * What Swagger UI renders that axe finds and no setting of it mends, one `rule target` each:
   * the examples drop-down of a request body is a <select> named by nothing (its "Examples:"
   * is a span beside it). Anything else is this page's own, or one of the mends of
   * ui/src/docs/ (colours, the request body's name, deep links off) undone.
   */
  const SWAGGER_UI_OWN = ['select-name .examples-select-element'];

  it("gives Swagger UI's page at /docs its title, language, one main landmark, a heading and links to the form and GraphiQL; what axe finds is Swagger UI's own examples drop-down", async () => {
    const page = await open();
    await docsPage(page);
    const title = ((await (await fetch(`${gateway.url}/openapi.json`)).json()) as { info: { title: string } }).info.title;
    // The page around Swagger UI, and the landmarks and heading it renders: one main (Swagger UI's,
    // not nested in one of the page's), everything in a landmark.
    const wrapper = await axe(page, {
      type: 'rule',
      values: ['document-title', 'html-has-lang', 'html-lang-valid', 'landmark-one-main', 'landmark-no-duplicate-main', 'landmark-main-is-top-level', 'landmark-unique', 'page-has-heading-one', 'region', 'bypass'],
    });
    expect(wrapper.violations.map(describeViolation)).toEqual([]);
    expect(await page.title()).toBe('Churn gateway · REST API (Swagger UI)');
    expect(await page.getByRole('main').locator('#operations-predictions-predict').count()).toBe(1);
    const heading = page.getByRole('heading', { level: 1 });
    expect(await heading.count()).toBe(1);
    expect(await heading.textContent()).toContain(title);
    expect(await heading.isVisible()).toBe(true);
    const nav = page.getByRole('navigation', { name: 'Gateway tools' });
    expect(await nav.getByRole('link').evaluateAll((links) => links.map((a) => [a.textContent, a.getAttribute('href')]))).toEqual([
      ['Prediction form', '/ui'],
      ['Score a file', '/ui/batch'],
      ['GraphiQL', '/ui/graphiql'],
    ]);
    expect(await nav.isVisible()).toBe(true);
    /** WCAG 2.1 A/AA violations as `rule target`, Swagger UI's known own left out. */
    const found = async () => {
      const all = await axe(page, { type: 'tag', values: WCAG_21_AA });
      const lines = all.violations.flatMap((v) => v.nodes.map((n) => `${v.id} ${n.target.join(' ')}`));
      return { unknown: lines.filter((line) => !SWAGGER_UI_OWN.includes(line)), described: all.violations.map(describeViolation).join('\n') };
    };
    const check = async (state: string) => {
      // Swagger UI's buttons fade their colours (0.3 s): axe would read one half-way. A transition
      // cancelled on the way (its element re-rendered) rejects, and another may have started.
      await page.evaluate(async () => {
        const fading = () => document.getAnimations().filter((a) => a instanceof CSSTransition && a.playState === 'running');
        for (let round = 0; round < 10 && fading().length > 0; round++) await Promise.allSettled(fading().map((a) => a.finished));
      });
      const { unknown, described } = await found();
      expect(unknown, `${state}:\n${described}`).toEqual([]);
    };
    await check('at load');
    const operation = page.locator('#operations-predictions-predict');
    await operation.locator('.opblock-summary-control').click();
    await poll(() => operation.getByRole('button', { name: 'Try it out' }).count()).toBe(1);
    await check('POST /predict open');
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await poll(() => operation.getByRole('button', { name: 'Execute' }).count()).toBe(1);
    await check('"Try it out" on');
    await operation.getByRole('button', { name: 'Execute' }).click();
    await poll(() => operation.locator('.live-responses-table .response .response-col_status').textContent(), 20_000).toContain('200');
    await check('with the answer');
    // The schemas at the bottom, opened, the first (Customer) unfolded whole.
    await page.locator('.models-control').click();
    await poll(() => page.locator('.models article.json-schema-2020-12').count()).toBeGreaterThan(0);
    await page.locator('.models').getByRole('button', { name: 'Expand all' }).first().click();
    await poll(() => page.locator('.models .json-schema-2020-12-property').count()).toBeGreaterThan(0);
    await check('schemas open');
  });

  it('goes from the form to /docs and runs "Try it out" → Execute on POST /predict with the keyboard alone, and shows the answer', async () => {
    const page = await open();
    await formPage(page);
    const { focused, tabTo } = keyboard(page);
    await tabTo('REST API');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${gateway.url}/docs`);
    await poll(() => page.locator('#operations-predictions-predict').count(), 20_000).toBe(1);
    // The page's own links come first, with a visible ring.
    await page.keyboard.press('Tab');
    expect(await focused()).toEqual({ name: 'Prediction form', ring: true });
    // POST /predict's summary is one button (its path no link inside it): Enter opens it.
    await tabTo(/^POST\s*\/predict/);
    await page.keyboard.press('Enter');
    await tabTo('Try it out');
    await page.keyboard.press('Enter');
    // The request body, named, holds the document's first example; Execute sends it.
    await tabTo('Request body');
    const openapi = (await (await fetch(`${gateway.url}/openapi.json`)).json()) as { paths: Record<string, { post: { requestBody: { content: Record<string, { examples: Record<string, { value: unknown }> }> } } }> };
    const [first] = Object.values(openapi.paths['/predict']?.post.requestBody.content['application/json']?.examples ?? {});
    expect(JSON.parse(await page.locator('#operations-predictions-predict textarea.body-param__text').inputValue())).toEqual(first?.value);
    await tabTo('Execute');
    await page.keyboard.press('Enter');
    const live = page.locator('#operations-predictions-predict .live-responses-table .response');
    await poll(() => live.locator('.response-col_status').textContent(), 20_000).toContain('200');
    expect(await live.locator('.response-col_description').textContent()).toMatch(/"churn_probability":\s*0\.\d+/);
    // Tab goes on from where Execute was, to Clear, into the answer.
    await tabTo('Clear');
  });

  it('is walked with the keyboard alone: skip link, every control in reading order with a visible focus, and out of the page', async () => {
    const page = await open();
    await formPage(page);
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        if (!el || el === document.body) return null;
        const box = el.getBoundingClientRect();
        const style = getComputedStyle(el);
        return {
          name: el.id || (el.textContent ?? '').trim(),
          inView: box.top >= 0 && box.bottom <= innerHeight && box.left >= 0 && box.right <= innerWidth,
          ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
        };
      });
    // The skip link comes first and jumps over the header to the form.
    await page.keyboard.press('Tab');
    expect(await focused()).toEqual({ name: 'Skip to the customer form', inView: true, ring: true });
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    expect((await focused())?.name).toBe('field-customerId');
    // From the top: every control once, in the order of the page, then focus leaves the page (no trap).
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.goto(`${gateway.url}/ui`);
    await poll(() => page.getByTestId('run-id').count()).toBe(1);
    const walked: NonNullable<Awaited<ReturnType<typeof focused>>>[] = [];
    for (let step = 0; step < 40; step++) {
      await page.keyboard.press('Tab');
      const now = await focused();
      if (!now) break;
      walked.push(now);
    }
    const metricsCount = (await page.locator('#model-panel details summary').textContent()) ?? '';
    expect(walked.map((w) => w.name)).toEqual([
      'Skip to the customer form',
      'Predict',
      'Score a file',
      'GraphiQL',
      'REST API',
      'field-customerId',
      ...ALL_FIELDS.map((f) => `field-${f.name}`),
      'Predict churn',
      ...EXAMPLES.map((e) => e.label),
      metricsCount,
    ]);
    expect(walked.filter((w) => !w.inView || !w.ring)).toEqual([]);
    // And back with Shift+Tab from the end, through the same controls.
    await page.keyboard.press('Shift+Tab');
    expect((await focused())?.name).toBe(metricsCount);
    // Enter in a field predicts; with a mistake, focus goes to the first invalid field.
    await page.getByLabel('Total charges').fill('oops');
    await page.getByLabel('Tenure (months)').fill('-1');
    await page.getByLabel('Monthly charges').press('Enter');
    await poll(() => page.evaluate(() => document.activeElement?.id)).toBe('field-tenure');
    expect(await page.getByRole('alert').textContent()).toBe('2 fields need attention before predicting.');
    await page.getByLabel('Tenure (months)').fill('12');
    await page.getByLabel('Total charges').fill('800');
    await page.getByLabel('Total charges').press('Enter');
    await poll(() => page.getByTestId('probability').count()).toBe(1);
    await predicted(page);
    // Announced where focus is not: the result area is a polite live region whose content a new
    // result replaces whole (so it is read whole), not atomic: the stale note, the one node a
    // later edit adds, is then read alone instead of the whole card again.
    expect(await page.locator('#result').evaluate((el) => [el.getAttribute('aria-live'), el.getAttribute('aria-atomic')])).toEqual(['polite', null]);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('field-totalCharges');
    const card = await page.locator('#result > .result').elementHandle();
    await page.getByLabel('Tenure (months)').fill('13');
    await poll(() => page.getByTestId('stale-note').count()).toBe(1);
    // The card shown is the same node, with the note added in it: nothing else in the region changed.
    expect(await page.evaluate((c) => c?.isConnected === true && c.firstElementChild?.getAttribute('data-testid') === 'stale-note', card)).toBe(true);
  });

  it('predicts with Enter from a drop-down as from a text field; Alt+Down and Space still open its list, where Enter picks an option', async () => {
    const page = await open();
    await formPage(page);
    let predictions = 0;
    page.on('request', (r) => {
      if (r.url().endsWith('/graphql') && (r.postDataJSON() as { operationName?: string } | null)?.operationName === 'Predict') predictions++;
    });
    const contract = page.locator('#field-contract');
    const listOpen = () => contract.evaluate((el) => el.matches(':open'));
    await contract.focus();
    // The list opens as before, and Enter in it chooses an option without predicting.
    const before = await contract.inputValue();
    await page.keyboard.press('Alt+ArrowDown');
    await poll(listOpen).toBe(true);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await poll(listOpen).toBe(false);
    expect(await contract.inputValue()).not.toBe(before);
    await page.keyboard.press('Space');
    await poll(listOpen).toBe(true);
    await page.keyboard.press('Escape');
    await poll(listOpen).toBe(false);
    // Closed, Enter predicts (for the option chosen), and focus stays on the drop-down.
    await page.keyboard.press('Enter');
    await poll(() => page.getByTestId('probability').count()).toBe(1);
    await predicted(page);
    expect(predictions).toBe(1);
    expect(await listOpen()).toBe(false);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('field-contract');
  });

  it('shows the probability bar in forced colours (Windows high contrast), where backgrounds are the theme\'s', async () => {
    const page = await open();
    await formPage(page);
    await page.getByRole('button', { name: 'Example: high risk' }).click();
    await poll(() => page.locator('.result').getAttribute('data-risk')).toBe('HIGH');
    await page.emulateMedia({ forcedColors: 'active' });
    const backgrounds = () => page.evaluate(() => ['.gauge', '.gauge-fill', '.gauge-threshold'].map((s) => getComputedStyle(document.querySelector(s) as Element).backgroundColor));
    await poll(async () => new Set(await backgrounds()).size).toBe(3);
    // And it still shows the probability: the fill as long as its share of the bar, the mark at the threshold.
    const [p, threshold] = ((await page.locator('.gauge').getAttribute('aria-label')) ?? '').match(/[\d.]+(?=%)/g)?.map(Number) ?? [];
    const geometry = await page.evaluate(() => {
      const box = (s: string) => (document.querySelector(s) as Element).getBoundingClientRect();
      const [gauge, fill, mark] = [box('.gauge'), box('.gauge-fill'), box('.gauge-threshold')];
      return { fill: (fill.width / gauge.width) * 100, mark: ((mark.left - gauge.left) / gauge.width) * 100 };
    });
    expect(p).toBeGreaterThan(50);
    expect(Math.abs(geometry.fill - (p as number))).toBeLessThan(1);
    expect(Math.abs(geometry.mark - (threshold as number))).toBeLessThan(1);
    // Stale, too: the bar keeps the theme's colours rather than the page's grey.
    await page.getByLabel('Tenure (months)').fill('70');
    await poll(() => page.getByTestId('stale-note').count()).toBe(1);
    expect(new Set(await backgrounds()).size).toBe(3);
  });

  for (const viewport of [
    { name: 'a 320 px screen (WCAG 1.4.10 reflow)', width: 320, height: 640 },
    { name: 'a phone at 375 px', width: 375, height: 812 },
    { name: '200 % zoom on a 1280 × 720 window', width: 640, height: 360 },
  ]) {
    it(`fits ${viewport.name}: no horizontal scrolling, no control cut off, in every state`, async () => {
      const page = await open({ width: viewport.width, height: viewport.height });
      /** Controls and text that stick out of the screen or out of a box that clips them. */
      const cutOff = () =>
        page.evaluate(() => {
          const width = document.documentElement.clientWidth;
          const found: string[] = [];
          if (document.documentElement.scrollWidth > width) found.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${width}`);
          const name = (el: Element) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className ? `.${String(el.className).replace(/ /g, '.')}` : ''} "${(el.textContent ?? '').trim().slice(0, 30)}"`;
          for (const el of document.querySelectorAll('main input, main select, main button, main summary, header a, main p, main dd, main th, main td, main legend, main label')) {
            const box = el.getBoundingClientRect();
            if (box.width === 0) continue; // hidden
            if (box.left < 0 || box.right > width + 0.5) found.push(`${name(el)} spans ${box.left}–${box.right}`);
            if (el.tagName !== 'SELECT' && el.tagName !== 'INPUT' && el.scrollWidth > el.clientWidth + 1) found.push(`${name(el)} overflows its box: ${el.scrollWidth} > ${el.clientWidth}`);
            // Cut off below, too: text a box clips (or spills out of) at its height, such as a hint held to one line.
            if (el.tagName !== 'SELECT' && el.tagName !== 'INPUT' && el.scrollHeight > el.clientHeight + 1) found.push(`${name(el)} overflows its height: ${el.scrollHeight} > ${el.clientHeight}`);
          }
          return found;
        });
      await formPage(page);
      expect(await cutOff(), 'at load').toEqual([]);
      await page.getByRole('button', { name: 'Example: high risk' }).click();
      await poll(() => page.locator('.result').getAttribute('data-risk')).toBe('HIGH');
      await page.locator('#model-panel details summary').click();
      await page.locator('.shap summary').click();
      expect(await page.getByTestId('driver').count()).toBe(5);
      await offersShown(page);
      expect(await page.getByTestId('offer').count()).toBeGreaterThan(0);
      expect(await cutOff(), 'after a prediction, all metrics and the SHAP values open, offers listed').toEqual([]);
      await page.getByLabel('Customer id (optional)').fill('a-customer-id-without-any-space-'.repeat(9));
      await page.getByLabel('Total charges').fill('1234567890123456789012345678901234567890x');
      await page.getByRole('button', { name: 'Predict churn' }).click();
      await poll(() => page.locator('.field.invalid').count()).toBe(2);
      expect(await cutOff(), 'with field errors').toEqual([]);
    });
  }
  /** A customer file (the data set's columns and spellings) of `rows` customers, each a copy of the high-risk example; `edit` changes one row's cells. */
  function customerFile(rows: number, edit?: (cells: Record<string, string>, row: number) => void): Buffer {
    const header = ['customerID', ...CUSTOMER_FIELDS.map((f) => f.column)];
    const example = EXAMPLES[0]?.customer as Record<string, unknown>;
    const cell = (f: (typeof CUSTOMER_FIELDS)[number]): string => {
      const v = example[f.field];
      if (f.kind === 'enum') return (CONTRACT_ENUMS[f.enumName] as Record<string, string>)[v as string] as string;
      if (f.kind === 'yesNo') return v ? 'Yes' : 'No';
      if (f.kind === 'flag01') return v ? '1' : '0';
      return typeof v === 'number' ? String(v) : '';
    };
    const lines = [header.join(',')];
    for (let r = 0; r < rows; r++) {
      const cells: Record<string, string> = Object.fromEntries([['customerID', `=C-${r}`], ...CUSTOMER_FIELDS.map((f) => [f.column, cell(f)])]);
      edit?.(cells, r);
      lines.push(header.map((c) => cells[c]).join(','));
    }
    return Buffer.from(`${lines.join('\n')}\n`);
  }

  /** /ui/batch with `file` chosen, once the page has said what became of it. */
  async function batchWith(page: Page, file: Buffer, said: RegExp): Promise<void> {
    await page.setInputFiles('#batch-file', { name: 'customers.csv', mimeType: 'text/csv', buffer: file });
    await poll(() => page.locator('#batch-status').textContent(), 20_000).toMatch(said);
  }

  it('has no WCAG 2.1 A/AA violation on /ui/batch empty, with problems (the page’s and the gateway’s, its wording unfolded), and scored', async () => {
    const page = await open();
    await page.goto(`${gateway.url}/ui/batch`);
    await page.locator('#batch-file').waitFor();
    expect(await page.title()).toBe('Score a customer file · churn prediction gateway');
    expect(await page.getByRole('main').count()).toBe(1);
    expect(await page.getByRole('heading', { level: 1 }).allTextContents()).toEqual(['Score a customer file']);
    expect(await page.getByLabel('Customer file (CSV)').getAttribute('type')).toBe('file');
    expect(await wcagViolations(page), 'empty').toEqual([]);
    await batchWith(page, customerFile(3, (cells, r) => r === 1 && (cells['Contract'] = 'month-to-month')), /has 1 problem: nothing was sent/);
    expect(await wcagViolations(page), 'problems found in the page').toEqual([]);
    await batchWith(page, customerFile(3, (cells, r) => r === 2 && (cells['PhoneService'] = 'No')), /^The gateway refused customers\.csv: 1 problem;/);
    await page.locator('[data-testid="problems"] details summary').click();
    expect(await wcagViolations(page), 'problems found by the gateway').toEqual([]);
    // Every risk band and the formula note; the ranked rows (all HIGH) rewritten in flight for the other bands.
    let explainer = true;
    await page.route('**/graphql', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { data?: { predictBatch?: { riskLevel: string; willChurn: boolean; explanation: unknown }[] } };
      body.data?.predictBatch?.forEach((p, i) => Object.assign(p, i % 3 === 1 ? { riskLevel: 'MEDIUM', willChurn: false } : i % 3 === 2 ? { riskLevel: 'LOW', willChurn: false } : {}, explainer ? {} : { explanation: null }));
      await route.fulfill({ response, json: body });
    });
    await batchWith(page, customerFile(250), /^Scored 250 customers/);
    expect(await page.getByTestId('formula-note').count()).toBe(1);
    // Each customer's main reasons, in the ranked table.
    expect(await page.locator('[data-testid="ranked"] td.reasons li').count()).toBeGreaterThan(0);
    expect(await wcagViolations(page), 'scored').toEqual([]);
    // A model version without an explainer: the note in place of the reasons.
    explainer = false;
    await batchWith(page, customerFile(3), /^Scored 3 customers/);
    expect(await page.getByTestId('no-explainer').count()).toBe(1);
    expect(await wcagViolations(page), 'scored, no explainer').toEqual([]);
    explainer = true;
    await batchWith(page, customerFile(250), /^Scored 250 customers/);
    // The status line is the live region, and holds one sentence: the table is not read out.
    expect(await page.locator('[role="status"], [aria-live]').evaluateAll((els) => els.map((e) => e.id))).toEqual(['batch-status']);
    expect(await page.locator('#batch-status table, #batch-status li').count()).toBe(0);
    await page.emulateMedia({ forcedColors: 'active' });
    expect(await wcagViolations(page), 'scored, forced colours').toEqual([]);
  });

  it('walks /ui/batch with the keyboard alone: skip link, tools, the file chooser, download and "Show more" with a visible focus', async () => {
    const page = await open();
    await page.goto(`${gateway.url}/ui/batch`);
    await page.locator('#batch-file').waitFor();
    const { focused } = keyboard(page);
    const walked: { name: string; ring: boolean }[] = [];
    for (let step = 0; step < 10; step++) {
      await page.keyboard.press('Tab');
      const now = await focused();
      if (!now) break;
      walked.push(now.name === '' ? { ...now, name: (await page.evaluate(() => document.activeElement?.id)) ?? '' } : now);
    }
    expect(walked.map((w) => w.name)).toEqual(['Skip to choosing a file', 'Predict', 'Score a file', 'GraphiQL', 'REST API', 'batch-file', 'The columns a file needs']);
    expect(walked.filter((w) => !w.ring)).toEqual([]);
    // The skip link lands before the file input; Space on it opens the browser's file chooser.
    await page.keyboard.press('Shift+Tab');
    // Listened for before the page loads, not beside the key press: Playwright turns on Chromium's file chooser
    // interception when a listener is added, and a Space that reaches the page first opens an uncaught chooser
    // (CI timed out so once).
    const chooserOpened = page.waitForEvent('filechooser', { timeout: 30_000 });
    await page.goto(`${gateway.url}/ui/batch`);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('batch-file');
    await page.keyboard.press('Space');
    const chooser = await chooserOpened;
    await chooser.setFiles({ name: 'customers.csv', mimeType: 'text/csv', buffer: customerFile(250) });
    await poll(() => page.locator('#batch-status').textContent(), 20_000).toMatch(/^Scored 250 customers/);
    // On from the file input: the columns' note, the download, then "Show 50 more" (the table is not a stop on a wide screen).
    await page.keyboard.press('Tab');
    expect((await focused())?.name).toBe('The columns a file needs');
    await page.keyboard.press('Tab');
    expect(await focused()).toEqual({ name: 'Download the scored file (CSV)', ring: true });
    const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    expect(download.suggestedFilename()).toMatch(/^customers-scored-model-\S+-run-[0-9a-f]{8}\.csv$/);
    await page.keyboard.press('Tab');
    expect(await focused()).toEqual({ name: 'Show 50 more', ring: true });
    await page.keyboard.press('Enter');
    await poll(() => page.locator('#batch-status').textContent()).toBe('Showing 250 of 250 customers.');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('ranked');
    expect((await focused())?.ring).toBe(true);
  });

  for (const viewport of [
    { width: 320, height: 640 },
    { width: 640, height: 360 },
  ]) {
    it(`fits /ui/batch on a ${viewport.width} px screen in every state: no horizontal scrolling, nothing cut off`, async () => {
      const page = await open(viewport);
      const cutOff = () =>
        page.evaluate(() => {
          const width = document.documentElement.clientWidth;
          const found = new Set<string>();
          if (document.documentElement.scrollWidth > width) found.add(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${width}`);
          for (const el of document.querySelectorAll('header a, main input, main button, main p, main dd, main th, main td, main caption, main summary')) {
            const box = el.getBoundingClientRect();
            if (box.width === 0) continue;
            // The ranked table's columns side by side (WCAG 1.4.10's exception for data tables): it scrolls in its own box, a tab stop then.
            const scroller = el.closest('.table-wrap');
            if (scroller && scroller.scrollWidth > scroller.clientWidth) {
              if (scroller.getAttribute('tabindex') !== '0') found.add('the ranked table scrolls sideways in a box the keyboard cannot reach');
              continue;
            }
            if (box.left < 0 || box.right > width + 0.5) found.add(`${el.tagName} "${(el.textContent ?? '').slice(0, 30)}" spans ${box.left}–${box.right}`);
            if (el.tagName !== 'INPUT' && el.scrollWidth > el.clientWidth + 1) found.add(`${el.tagName} "${(el.textContent ?? '').slice(0, 30)}" overflows: ${el.scrollWidth} > ${el.clientWidth}`);
            if (el.tagName !== 'INPUT' && el.scrollHeight > el.clientHeight + 1) found.add(`${el.tagName} "${(el.textContent ?? '').slice(0, 30)}" overflows its height: ${el.scrollHeight} > ${el.clientHeight}`);
          }
          return [...found];
        });
      await page.goto(`${gateway.url}/ui/batch`);
      await page.locator('#batch-file').waitFor();
      expect(await cutOff(), 'empty').toEqual([]);
      const longId = 'a-customer-id-without-any-space-'.repeat(7);
      await batchWith(page, customerFile(3, (cells, r) => r === 1 && Object.assign(cells, { customerID: longId, TotalCharges: '1,234,567,890.12' })), /has 1 problem/);
      expect(await cutOff(), 'problems').toEqual([]);
      // Header problems: the Problem column names columns ("PaymentMethod"), words a line cannot break.
      const renamed = customerFile(3).toString('utf8').replace(/^(.*)$/m, (header) => header.replace('tenure', 'Tenure').replace('PaymentMethod', 'Payment Method'));
      await batchWith(page, Buffer.from(renamed), /has \d+ problems?: nothing was sent/);
      expect(await cutOff(), 'header problems').toEqual([]);
      // The gateway's refusal of a row (its cross-field rules): its message holds service="No" and the like.
      await batchWith(page, customerFile(3, (cells, r) => r === 1 && Object.assign(cells, { PhoneService: 'No', MultipleLines: 'Yes' })), /^The gateway refused customers\.csv/);
      expect(await cutOff(), 'gateway refusal').toEqual([]);
      await batchWith(page, customerFile(3, (cells, r) => r === 1 && (cells['customerID'] = longId)), /^Scored 3 customers/);
      expect(await cutOff(), 'scored').toEqual([]);
      // The box the table scrolls in, a tab stop with a name where it scrolls.
      expect(await wcagViolations(page), 'scored').toEqual([]);
      await page.screenshot({ path: path.join(REPO_ROOT, `test-results/ui-batch/scored-${viewport.width}.png`), fullPage: true });
    });
  }
});
