/**
 * GraphiQL at /ui/graphiql as people exploring the API meet it, in a real browser against the
 * real gateway: every preloaded tab runs as it is against the committed model, and is in sight
 * in the top bar on a laptop (the docs explorer open) and on a phone; when GraphiQL's script does
 * not load the page says so; on a phone the response is readable; a header typed into GraphiQL
 * (the admin token reloadModel needs) stays in the page and never lands in localStorage; a
 * variable the gateway refuses comes back with its code and the field it names.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES } from '../ui/src/app/customer-fields.js';
import { buildUi } from '../ui/src/build.js';
import { GRAPHIQL_TITLE } from '../src/ui/pages.js';
import { answerScript404, browserForSuite, closeTab, launchBrowser, runGraphiqlTab, type TestBrowser, type TestPage } from './helpers/browser.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';

type Page = TestPage['page'];

const unavailable = browserForSuite('ui graphiql (browser)', 'test/ui-graphiql.test.ts');
const poll = <T>(read: () => Promise<T> | T, timeout = 10_000) => expect.poll(read, { timeout });
const ADMIN_TOKEN = 'graphiql-test-admin-token-0123456789';
/** The tabs ui/src/build.ts preloads, each with the root field it runs and a field its answer shows (PredictBatch: the run auditors keep). */
const PRELOADED_TABS = [
  ['Predict', 'predict', 'explanation'],
  ['PredictBatch', 'predictBatch', 'modelRunId'],
  ['ModelInfo', 'modelInfo', 'runId'],
  ['GroupReport', 'modelInfo', 'groupReport'],
] as const;

describe.skipIf(unavailable !== null)('GraphiQL in a browser', () => {
  let uiDir: string;
  let gateway: TestGateway;
  let browser: TestBrowser;
  let tab: TestPage | null = null;

  beforeAll(async () => {
    // Its own build: test/ui.test.ts rebuilds ui/dist while this file may be running.
    uiDir = await mkdtemp(path.join(tmpdir(), 'ui-graphiql-'));
    await buildUi(uiDir);
    [gateway, browser] = await Promise.all([startTestGateway({ UI_DIR: uiDir, ADMIN_TOKEN }), launchBrowser()]);
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    if (uiDir) await rm(uiDir, { recursive: true, force: true });
  });

  afterEach(async () => {
    const closing = tab;
    tab = null;
    if (closing) await closeTab(closing, /status of (400|403)/);
  });

  async function graphiql(viewport?: { width: number; height: number }, query?: string): Promise<Page> {
    tab = await browser.open(gateway.url, viewport);
    const { page } = tab;
    await page.goto(`${gateway.url}/ui/graphiql${query ? `?query=${encodeURIComponent(query)}` : ''}`);
    await poll(() => page.locator('.graphiql-editor-tool .graphiql-editor').count(), 20_000).toBeGreaterThan(0);
    return page;
  }

  /** Replaces what the open editor tool (variables or headers) holds with `text`. */
  async function typeInTool(page: Page, tool: 'Variables' | 'Headers', text: string): Promise<void> {
    await page.locator('.graphiql-editor-tools').getByRole('button', { name: tool, exact: true }).click();
    await page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden)').click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(text);
  }

  const response = (page: Page) => page.locator('.graphiql-response').textContent();

  it('runs every preloaded tab as it is, its example customers valid, with data and no error', async () => {
    const page = await graphiql();
    await poll(() => page.locator('.graphiql-editor-tool').textContent(), 20_000).toContain('example-high-risk');
    for (const [name, field, shown] of PRELOADED_TABS) {
      await page.locator('.graphiql-tab-button', { hasText: new RegExp(`^${name}$`) }).click();
      await poll(() => page.locator('.graphiql-tab-active .graphiql-tab-button').textContent()).toBe(name);
      await poll(() => page.locator('.graphiql-query-editor').textContent()).toMatch(new RegExp(`(query|mutation)\\s${name}\\b`));
      await runGraphiqlTab(page);
      await poll(() => response(page), 20_000).toMatch(new RegExp(`"${field}":\\s*[[{]`));
      expect(await response(page), name).not.toContain('"errors"');
      expect(await response(page), name).toMatch(new RegExp(`"${shown}":\\s*[[{"]`));
    }
  });

  for (const { width, docs } of [
    { width: 375, docs: false },
    { width: 700, docs: false },
    { width: 700, docs: true },
    { width: 900, docs: false },
    { width: 1280, docs: true },
  ]) {
    it(`shows every preloaded tab within the tab strip at ${width} px${docs ? ' with the docs explorer open' : ''}, the heading giving way`, async () => {
      const page = await graphiql({ width, height: 800 });
      if (docs) {
        await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
        await poll(() => page.locator('.graphiql-doc-explorer').count()).toBe(1);
      }
      // GraphiQL's strip scrolls with its scrollbar hidden: a tab outside its box is out of sight, with nothing to say it is there.
      // Where the strip wraps instead, its rows must stay above the editors.
      const strip = await page.locator('.graphiql-tabs').boundingBox();
      const editors = await page.locator('.graphiql-editors').boundingBox();
      if (!strip || !editors) throw new Error('no tab strip or editors');
      for (const [name] of PRELOADED_TABS) {
        const tabBox = await page.locator('.graphiql-tab', { has: page.locator('.graphiql-tab-button', { hasText: new RegExp(`^${name}$`) }) }).boundingBox();
        expect(
          tabBox && [Math.round(tabBox.x) >= Math.floor(strip.x), Math.round(tabBox.x + tabBox.width) <= Math.ceil(strip.x + strip.width), Math.round(tabBox.y + tabBox.height) <= Math.ceil(editors.y)],
          name,
        ).toEqual([true, true, true]);
      }
      expect(await page.locator('.graphiql-tabs').evaluate((list) => list.scrollWidth - list.clientWidth), 'tab strip overflow').toBeLessThanOrEqual(1);
      // The heading stays for screen readers; the links stay in the window, above the editors.
      expect(await page.getByRole('heading', { level: 1 }).allTextContents()).toEqual([GRAPHIQL_TITLE]);
      for (const name of ['Prediction form', 'Score a file', 'REST API']) {
        const link = await page.getByRole('link', { name }).boundingBox();
        expect(link && editors && link.x + link.width <= width && link.y + link.height <= editors.y, name).toBe(true);
      }
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    });
  }

  for (const viewport of [
    { width: 320, height: 640 },
    { width: 375, height: 812 },
  ]) {
    it(`shows the response readable on a ${viewport.width} px phone, with the links to the form and the REST API page in view`, async () => {
      const page = await graphiql(viewport);
      // Monaco renders only the lines in view: on a phone, the first of the example customer.
      await poll(() => page.locator('.graphiql-editor-tool').textContent(), 20_000).toContain('"customer"');
      await page.locator('.graphiql-execute-button').click();
      // Monaco wraps long words at this width ("churnProbabili ty"). At 320 px the top bar holds
      // three rows of tabs, and the risk level is a scroll of the response below its first lines.
      await poll(() => response(page), 20_000).toContain('"willChurn"');
      await page.locator('.graphiql-response').hover();
      await page.mouse.wheel(0, 120);
      await poll(() => response(page)).toContain('"HIGH"');
      const box = async (selector: string) => (await page.locator(selector).boundingBox()) ?? { x: 0, y: 0, width: 0, height: 0 };
      // Beside the editors, GraphiQL left the response 37 px at 375 and 0 px at 320.
      const answer = await box('.graphiql-response');
      expect(answer.width, 'response width').toBeGreaterThan(viewport.width / 2);
      expect(answer.x + answer.width, 'response right edge').toBeLessThanOrEqual(viewport.width);
      expect(answer.height, 'response height').toBeGreaterThan(150);
      expect(answer.y + 150, 'response top').toBeLessThanOrEqual(viewport.height);
      // The variables stay editable above it.
      expect((await box('.graphiql-editor-tool')).height, 'variables editor height').toBeGreaterThan(40);
      for (const name of ['Prediction form', 'Score a file', 'REST API']) {
        const back = page.getByRole('link', { name });
        expect(await back.isVisible(), name).toBe(true);
        const link = await back.boundingBox();
        expect(link && link.x >= 0 && link.x + link.width <= viewport.width && link.y >= 0, name).toBe(true);
      }
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width);
    });
  }

  it("says in the page, to anyone, that GraphiQL's script did not load and to reload", async () => {
    const opened = await browser.open(gateway.url);
    tab = opened;
    const { page } = opened;
    // A 404 for GraphiQL's hashed file, as a task serving another build answers it (docs/ui.md): the page was blank.
    await answerScript404(page, 'graphiql');
    await page.goto(`${gateway.url}/ui/graphiql`);
    const alert = page.getByRole('main', { name: 'GraphiQL' }).getByRole('alert');
    await poll(() => alert.count()).toBe(1);
    expect(await alert.textContent()).toBe('GraphiQL could not start (its script did not load); reload the page.');
    expect(await alert.isVisible()).toBe(true);
    // The failed load and boot.ts's own error stay in the console; nothing else goes wrong.
    tab = null;
    await closeTab(opened, /status of 404|GraphiQL did not load/);
    expect(opened.consoleErrors.some((e) => e.includes('GraphiQL did not load'))).toBe(true);
  });

  it('keeps a header typed into GraphiQL (the admin token) in the page only, never in localStorage', async () => {
    const page = await graphiql(undefined, 'mutation ReloadModel { reloadModel { changed message } }');
    await page.locator('.graphiql-execute-button').click();
    await poll(() => response(page), 20_000).toContain('FORBIDDEN');
    await typeInTool(page, 'Headers', `{"Authorization": "Bearer ${ADMIN_TOKEN}"}`);
    await page.locator('.graphiql-execute-button').click();
    // Monaco shows spaces as no-break spaces, which \s matches.
    await poll(() => response(page), 20_000).toMatch(/"changed":\s*false/);
    // GraphiQL saves its tabs half a second after a change, the response included.
    const saved = () => page.evaluate((): Record<string, string> => ({ ...localStorage }));
    await poll(async () => (await saved())['graphiql:tabState'] ?? '').toContain('changed');
    await page.waitForTimeout(1000);
    expect(Object.entries(await saved()).filter(([, value]) => value.includes(ADMIN_TOKEN)).map(([key]) => key)).toEqual([]);
    // After a reload the tab is back, without the token.
    await page.reload();
    await poll(() => page.locator('.graphiql-tab-active').textContent(), 20_000).toMatch(/^ReloadModel/);
    await page.locator('.graphiql-editor-tools').getByRole('button', { name: 'Headers', exact: true }).click();
    expect(await page.locator('.graphiql-editor-tool').textContent()).not.toContain(ADMIN_TOKEN);
  });

  it("shows a variable the gateway refuses with its code and the field it names", async () => {
    const page = await graphiql();
    await poll(() => page.locator('.graphiql-editor-tool').textContent(), 20_000).toContain('example-high-risk');
    const customer = { ...(EXAMPLES[0]?.customer as object), tenure: -5 };
    await typeInTool(page, 'Variables', JSON.stringify({ customer }));
    await page.locator('.graphiql-execute-button').click();
    await poll(() => response(page), 20_000).toContain('BAD_USER_INPUT');
    const shown = (await response(page)) ?? '';
    expect(shown).toMatch(/"path":\s*\[\s*"customer",\s*"tenure"\s*\]/);
    expect(shown).toMatch(/tenure/i);
    expect(shown).not.toContain('INTERNAL_SERVER_ERROR');
  });
});

describe.skipIf(unavailable !== null)('GraphiQL against a refusal before GraphQL runs', () => {
  let uiDir: string;
  let gateway: TestGateway;
  let browser: TestBrowser;

  beforeAll(async () => {
    uiDir = await mkdtemp(path.join(tmpdir(), 'ui-graphiql-413-'));
    await buildUi(uiDir);
    // docs/ui.md's example limit: the preloaded PredictBatch tab's customers are over it.
    [gateway, browser] = await Promise.all([startTestGateway({ UI_DIR: uiDir, BODY_LIMIT_BYTES: '1024' }), launchBrowser()]);
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    if (uiDir) await rm(uiDir, { recursive: true, force: true });
  });

  it("shows the gateway's sentence and its code for a 413, not GraphiQL's 'Unexpected empty' with the request echoed", async () => {
    const opened = await browser.open(gateway.url);
    const { page } = opened;
    await page.goto(`${gateway.url}/ui/graphiql`);
    await poll(() => page.locator('.graphiql-editor-tool').textContent(), 20_000).toContain('example-high-risk');
    await page.locator('.graphiql-tab-button', { hasText: /^PredictBatch$/ }).click();
    await poll(() => page.locator('.graphiql-query-editor').textContent()).toMatch(/mutation\sPredictBatch\b/);
    await runGraphiqlTab(page);
    const shown = () => page.locator('.graphiql-response').textContent();
    await poll(shown, 20_000).toContain('PAYLOAD_TOO_LARGE');
    // Monaco shows spaces as no-break spaces, which \s matches, and wraps long lines.
    expect(await shown()).toMatch(/"message":\s*"request\s+body\s+is\s+\d+\s+bytes;\s+the\s+limit\s+is\s+1024\s+bytes\s+\(BODY_LIMIT_BYTES\)/);
    expect(await shown()).not.toMatch(/Unexpected\sempty|example-high-risk/);
    await closeTab(opened, /status of 413/);
  });
});
