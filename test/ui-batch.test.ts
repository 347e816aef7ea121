/**
 * /ui/batch, "Score a file", in a real browser against the real gateway (real bundle, real ONNX
 * session): a customer file in the IBM Telco format is checked in the page, scored through
 * predictBatch with each customer's risk drivers (the page's ScoreFile operation; in several
 * requests when MAX_BATCH or BODY_LIMIT_BYTES ask for it, all by one model), ranked with each
 * customer's main reasons, and downloaded with every row in the file's order and those reasons;
 * problems name the file's line, column and value, the page's and the gateway's alike.
 */
import { existsSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACT_ENUMS, CUSTOMER_FIELDS, allowedColumnValues, type CustomerField } from '../src/contract.js';
import { PredictBatchDocument, ScoreFileDocument, type CustomerInput, type PredictBatchMutation, type ScoreFileMutation } from '../src/generated/graphql.js';
import { NotReadyError } from '../src/errors.js';
import { UNAVAILABLE_DETAIL } from '../src/ui/route.js';
import { APP_CSP } from '../src/ui/security-headers.js';
import { ALL_FIELDS, EXAMPLES } from '../ui/src/app/customer-fields.js';
import { agreeingDigits } from '../ui/src/app/panels.js';
import { offersFor, offerText } from '../ui/src/app/retention-offers.js';
import { buildUi } from '../ui/src/build.js';
import { readCsv } from '../ui/src/batch/csv.js';
import { MAX_PASSING_WAIT_MS } from '../ui/src/batch/scoring.js';
import { answerScript404, browserForSuite, closeTab, launchBrowser, type TestBrowser, type TestPage } from './helpers/browser.js';
import { BUNDLE_DIR, REPO_ROOT, gql, holdRuns, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { GRAPHQL_CUSTOMER } from './helpers/customers.js';
import { RISK_WORDS, valueWords } from './helpers/ui-words.js';

type Page = TestPage['page'];
/** What predictBatch answers with each customer's risk drivers (the page's ScoreFile operation). */
type Prediction = ScoreFileMutation['predictBatch'][number];

const unavailable = browserForSuite('ui batch (browser)', 'the browser tests of test/ui-batch.test.ts (the HTTP ones still run)');
const poll = <T>(read: () => Promise<T> | T, timeout = 20_000) => expect.poll(read, { timeout });
const SHOTS = path.join(REPO_ROOT, 'test-results/ui-batch');
const DATA_SET = process.env['CHURN_DATA'] ?? path.join(REPO_ROOT, '../shared/data/telco-customer-churn.csv');

const HEADER = ['customerID', ...CUSTOMER_FIELDS.map((f) => f.column)];

/** A customer's cell in the data set's spelling, from its GraphQL value (the contract's table). */
function cellOf(field: CustomerField, value: unknown): string {
  switch (field.kind) {
    case 'enum':
      return (CONTRACT_ENUMS[field.enumName] as Record<string, string>)[value as string] as string;
    case 'yesNo':
      return value ? 'Yes' : 'No';
    case 'flag01':
      return value ? '1' : '0';
    case 'months':
    case 'money':
      return typeof value === 'number' ? String(value) : ' ';
  }
}

const rowOf = (c: CustomerInput): string[] => [c.customerId ?? '', ...CUSTOMER_FIELDS.map((f) => cellOf(f, c[f.field]))];

/** A record as the test's own RFC 4180 writer writes it: in quotes (quotes doubled) only where a value holds a comma, a quote or a line break. */
const csvLine = (r: readonly string[]) => r.map((v) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v)).join(',');

/** The test's own RFC 4180 writer (LF line ends, as many exports). */
const csvText = (rows: readonly (readonly string[])[]) => `${rows.map(csvLine).join('\n')}\n`;

/** `n` valid, varied customers (a fixed pseudo-random sequence), each within the gateway's cross-field rules. */
function customers(n: number, idPrefix = 'C'): CustomerInput[] {
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)] as T;
  const out: CustomerInput[] = [];
  for (let i = 0; i < n; i++) {
    const phone = next() < 0.9;
    const internet = pick(['DSL', 'FIBER_OPTIC', 'NO'] as const);
    const addOn = () => (internet === 'NO' ? 'NO_INTERNET_SERVICE' : pick(['YES', 'NO'] as const));
    const tenure = Math.floor(next() * 73);
    const monthly = Math.round((18 + next() * 100) * 100) / 100;
    out.push({
      customerId: `${idPrefix}${String(i).padStart(5, '0')}`,
      gender: pick(['FEMALE', 'MALE'] as const),
      seniorCitizen: next() < 0.16,
      partner: next() < 0.5,
      dependents: next() < 0.3,
      tenure,
      phoneService: phone,
      multipleLines: phone ? pick(['YES', 'NO'] as const) : 'NO_PHONE_SERVICE',
      internetService: internet,
      onlineSecurity: addOn(),
      onlineBackup: addOn(),
      deviceProtection: addOn(),
      techSupport: addOn(),
      streamingTV: addOn(),
      streamingMovies: addOn(),
      contract: pick(['MONTH_TO_MONTH', 'ONE_YEAR', 'TWO_YEAR'] as const),
      paperlessBilling: next() < 0.6,
      paymentMethod: pick(['ELECTRONIC_CHECK', 'MAILED_CHECK', 'BANK_TRANSFER_AUTOMATIC', 'CREDIT_CARD_AUTOMATIC'] as const),
      monthlyCharges: monthly,
      totalCharges: tenure === 0 ? null : Math.round(monthly * tenure * 100) / 100,
    });
  }
  return out;
}

/** What the gateway answers for these customers, asked directly (predictBatch with explanation { drivers }). */
async function direct(url: string, list: readonly CustomerInput[]): Promise<Prediction[]> {
  const answer = await gql(url, ScoreFileDocument, { customers: [...list] });
  expect(answer.body.errors).toBeUndefined();
  return (answer.body.data as ScoreFileMutation).predictBatch;
}

/** The columns the download adds after the file's own. */
const ADDED = ['churn_probability', 'will_churn', 'risk_level', 'threshold', 'model_version', 'model_run_id', 'risk_driver_1', 'risk_driver_2', 'risk_driver_3', 'best_offer', 'best_offer_churn_probability', 'best_offer_keeping_contract', 'best_offer_keeping_contract_churn_probability'];

/** Where an added column sits in a record of a file of `fileColumns` columns (HEADER's by default). */
function addedAt(column: string, fileColumns = HEADER.length): number {
  const at = ADDED.indexOf(column);
  if (at < 0) throw new Error(`${column} is not a column the download adds`);
  return fileColumns + at;
}

/**
 * The serving model's MLflow run as modelInfo { runId } reports it, asked apart from the page: what
 * the download's model_run_id and the summary's Run id must say (a version number alone can name
 * two models).
 */
async function servingRun(url: string): Promise<string> {
  const answer = await gql<{ modelInfo: { runId: string } }, never>(url, 'query ServingRun { modelInfo { runId } }');
  const runId = answer.body.data?.modelInfo.runId;
  if (!runId) throw new Error(`modelInfo named no run: ${JSON.stringify(answer.body)}`);
  return runId;
}

/**
 * A row's best offer: the offer's words and cell, and its score; or why there is none (for the best
 * keeping the contract, also that only a longer contract was there to try); null for a customer
 * not likely to churn.
 */
type Best = { words: string; cell: string; probability: number; willChurn: boolean } | 'none-lowers' | 'none-keeping-lowers' | 'nothing-to-try' | 'only-contract' | null;

/**
 * Each row's best offer as the gateway scores the form's offers (which offers: offersFor, pinned by
 * test/retention-offers.test.ts), chosen here by the rule the page states: for a customer likely to
 * churn, the lowest score among the offers that lower it by a percentage point or more or take it
 * under the threshold, the first of equals. `keepingContract`: among the offers that leave the
 * contract as it is.
 */
async function bestOffers(url: string, list: readonly CustomerInput[], truth: readonly Prediction[], { keepingContract = false } = {}): Promise<Best[]> {
  const tried = list.flatMap((c, i) => ((truth[i] as Prediction).willChurn ? offersFor(c).map((offer) => ({ i, offer })) : []));
  const answer = tried.length === 0 ? null : await gql(url, PredictBatchDocument, { customers: tried.map((t) => t.offer.customer) });
  const scores = answer ? (answer.body.data as PredictBatchMutation).predictBatch : [];
  return list.map((_, i) => {
    const p = truth[i] as Prediction;
    if (!p.willChurn) return null;
    const mine = tried.flatMap((t, k) => (t.i === i ? [{ offer: t.offer, s: scores[k] as PredictBatchMutation['predictBatch'][number] }] : []));
    if (mine.length === 0) return 'nothing-to-try';
    const kept = keepingContract ? mine.filter(({ offer }) => offer.field !== 'contract') : mine;
    if (kept.length === 0) return 'only-contract';
    const worth = kept.filter(({ s }) => p.churnProbability - s.churnProbability >= 0.01 || !s.willChurn);
    const best = worth.reduce<(typeof worth)[number] | null>((a, b) => (a === null || b.s.churnProbability < a.s.churnProbability ? b : a), null);
    if (!best) return keepingContract ? 'none-keeping-lowers' : 'none-lowers';
    const field = CUSTOMER_FIELDS.find((f) => f.field === best.offer.field) as CustomerField;
    return { words: offerText(best.offer), cell: `${field.column} = ${cellOf(field, best.offer.value)}`, probability: best.s.churnProbability, willChurn: best.s.willChurn };
  });
}

/**
 * A customer likely to churn who has every offer already (two-year contract, automatic payment,
 * every protective add-on): scored 0.46 by the committed model, against its 0.375 threshold.
 */
const HAS_EVERY_OFFER: CustomerInput = {
  ...GRAPHQL_CUSTOMER, customerId: 'EVERY-OFFER', seniorCitizen: true, internetService: 'FIBER_OPTIC', onlineSecurity: 'YES', onlineBackup: 'YES', deviceProtection: 'YES', techSupport: 'YES',
  streamingTV: 'YES', streamingMovies: 'YES', contract: 'TWO_YEAR', paymentMethod: 'BANK_TRANSFER_AUTOMATIC', monthlyCharges: 115, totalCharges: 115,
};

/** One likely to churn whose only offer (device protection) moves the score by under a point: 0.4497, with it 0.4502. */
const NO_OFFER_LOWERS: CustomerInput = { ...HAS_EVERY_OFFER, customerId: 'NONE-LOWERS', partner: false, deviceProtection: 'NO', monthlyCharges: 118, totalCharges: 118 };

/** One with every offer but a longer contract. */
const ONLY_CONTRACT_TO_TRY: CustomerInput = { ...HAS_EVERY_OFFER, customerId: 'ONLY-CONTRACT', contract: 'MONTH_TO_MONTH' };

/** One on a two-year contract already, paying by electronic check, without online security: every offer keeps the contract. */
const ON_TWO_YEARS: CustomerInput = { ...HAS_EVERY_OFFER, customerId: 'ON-TWO-YEARS', paymentMethod: 'ELECTRONIC_CHECK', onlineSecurity: 'NO' };

/**
 * One whose offers keeping the contract (automatic payment, device protection) lower the score by
 * under a point, while a two-year contract takes it under the threshold: the data set's 3197-ARFOY (44.5 %).
 */
const ONLY_CONTRACT_LOWERS: CustomerInput = {
  gender: 'FEMALE', seniorCitizen: true, partner: false, dependents: false, tenure: 19, phoneService: true, multipleLines: 'NO', internetService: 'FIBER_OPTIC',
  onlineSecurity: 'YES', onlineBackup: 'YES', deviceProtection: 'NO', techSupport: 'YES', streamingTV: 'YES', streamingMovies: 'YES',
  contract: 'MONTH_TO_MONTH', paperlessBilling: true, paymentMethod: 'MAILED_CHECK', monthlyCharges: 105, totalCharges: 2007.25, customerId: 'ONLY-CONTRACT-LOWERS',
};

/** A best offer as the ranked table shows it. */
const offerShown = (b: Best, threshold: number): string =>
  b === null
    ? '—'
    : b === 'none-lowers'
      ? 'None lowers the score by a percentage point'
      : b === 'nothing-to-try'
        ? 'Nothing to try: already has every offer that applies'
        : b === 'only-contract'
          ? 'Nothing to try but a longer contract'
          : b === 'none-keeping-lowers'
            ? 'None keeping the contract lowers the score by a percentage point'
            : `${b.words}, scored ${(b.probability * 100).toFixed(agreeingDigits(b.probability, threshold, b.willChurn) ?? 1)}%${b.willChurn ? '' : ', under the threshold'}`;

/** A best offer as the download writes it: best_offer, best_offer_churn_probability (or the keeping_contract pair); why there is none, in parentheses, for a customer likely to churn. */
const offerColumns = (b: Best): string[] =>
  b === null
    ? ['', '']
    : b === 'none-lowers'
      ? ['(no offer lowers the score by a percentage point)', '']
      : b === 'nothing-to-try'
        ? ['(nothing to try)', '']
        : b === 'only-contract'
          ? ['(nothing to try but a longer contract)', '']
          : b === 'none-keeping-lowers'
            ? ['(no offer keeping the contract lowers the score by a percentage point)', '']
            : [b.cell, String(b.probability)];

/**
 * A customer's main reasons: the drivers that raise the risk by 0.05 log-odds or more (about one
 * percentage point near 50 %: below it Gender was a reason for 399 customers of the data set at a
 * median of +0.0055), largest first (the gateway orders by size, either sign), three at most.
 */
const raising = (p: Prediction) => (p.explanation?.drivers ?? []).filter((d) => d.contribution >= 0.05).slice(0, 3);

/**
 * The download's risk_driver_1..3 of a row, from the gateway's drivers: `Column = cell` in the data
 * set's names and the file's cells as written (a blank total: not yet billed), the derived
 * TotalCharges/tenure to the cent; empty where fewer drivers raise the risk.
 */
function reasonColumns(p: Prediction, header: readonly string[], cells: readonly string[]): string[] {
  const cell = (column: string) => cells[header.indexOf(column)] as string;
  const written = raising(p).map((d) => {
    if (d.name === 'TotalCharges/tenure') {
      const tenure = Number(cell('tenure'));
      return `TotalCharges/tenure = ${tenure === 0 ? 'none yet (tenure 0)' : (Number(cell('TotalCharges')) / tenure).toFixed(2)}`;
    }
    expect(d.fields).toEqual([d.name]);
    return `${d.name} = ${cell(d.name).trim() === '' ? '(not yet billed)' : cell(d.name)}`;
  });
  return [0, 1, 2].map((k) => written[k] ?? '');
}

/** The ranked table's reasons of a customer, in the form's words (its labels, customer-fields.ts; its values as helpers/ui-words.ts writes them), each "Label: value". */
function reasonsShown(p: Prediction, c: CustomerInput): string[] {
  return raising(p).map((d) => {
    if (d.name === 'TotalCharges/tenure') return `Average monthly charge so far (Total charges ÷ Tenure): ${c.tenure === 0 ? 'none yet (Tenure 0)' : ((c.totalCharges as number) / c.tenure).toFixed(2)}`;
    const field = CUSTOMER_FIELDS.find((f) => f.column === d.name)?.field;
    const spec = ALL_FIELDS.find((f) => f.name === field);
    if (!field || !spec) throw new Error(`no form field for ${d.name}`);
    return `${spec.label}: ${c[field] === null ? 'empty (not yet billed)' : valueWords(field, c)}`;
  });
}

let uiDir: string;

beforeAll(async () => {
  // Its own build: test/ui.test.ts rebuilds ui/dist while this file may be running.
  uiDir = await mkdtemp(path.join(tmpdir(), 'ui-batch-'));
  await buildUi(uiDir);
});

afterAll(async () => {
  if (uiDir) await rm(uiDir, { recursive: true, force: true });
});

describe('the /ui/batch page over HTTP', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({ UI_DIR: uiDir, MAX_BATCH: '50', BODY_LIMIT_BYTES: '65536' });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  it("is served like /ui (its CSP, with and without a trailing slash), and states this gateway's MAX_BATCH, BODY_LIMIT_BYTES and REQUEST_TIMEOUT_MS", async () => {
    for (const target of ['/ui/batch', '/ui/batch/', '/ui/batch?x=1']) {
      const res = await fetch(`${gateway.url}${target}`);
      expect(res.status, target).toBe(200);
      expect(res.headers.get('content-security-policy'), target).toBe(APP_CSP);
      expect(res.headers.get('x-frame-options'), target).toBe('DENY');
      const html = await res.text();
      expect(html).toContain('<meta name="gateway-max-batch" content="50">');
      expect(html).toContain('<meta name="gateway-body-limit-bytes" content="65536">');
      expect(html).toContain('<meta name="gateway-request-timeout-ms" content="30000">');
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    }
    const post = await fetch(`${gateway.url}/ui/batch`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect((await fetch(`${gateway.url}/ui/batch/x`)).status).toBe(404);
  });

  it('answers 503 when the UI was not built, as /ui does, without the server\'s folder', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'ui-batch-unbuilt-'));
    const unbuilt = await startTestGateway({ UI_DIR: empty });
    try {
      const res = await fetch(`${unbuilt.url}/ui/batch`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { detail: string }).detail).toBe(UNAVAILABLE_DETAIL);
    } finally {
      await unbuilt.close();
      await rm(empty, { recursive: true, force: true });
    }
  });

  it("is linked from every page's Gateway tools, and links the pages this gateway serves (GRAPHIQL_ENABLED, DOCS_ENABLED)", async () => {
    const links = (html: string) => [...(/<nav aria-label="Gateway tools">(.*?)<\/nav>/.exec(html)?.[1] ?? '').matchAll(/<a href="([^"]+)"([^>]*)>([^<]+)<\/a>/g)].map(([, href, attrs, text]) => `${text} ${href}${attrs ? ' (current)' : ''}`);
    const get = async (url: string, target: string) => (await fetch(`${url}${target}`)).text();
    expect(links(await get(gateway.url, '/ui/batch'))).toEqual(['Predict /ui', 'Score a file /ui/batch (current)', 'GraphiQL /ui/graphiql', 'REST API /docs']);
    expect(links(await get(gateway.url, '/ui'))).toEqual(['Predict /ui (current)', 'Score a file /ui/batch', 'GraphiQL /ui/graphiql', 'REST API /docs']);
    expect(links(await get(gateway.url, '/docs'))).toEqual(['Prediction form /ui', 'Score a file /ui/batch', 'GraphiQL /ui/graphiql']);
    const off = await startTestGateway({ UI_DIR: uiDir, GRAPHIQL_ENABLED: 'false', DOCS_ENABLED: 'false' });
    try {
      expect(links(await get(off.url, '/ui/batch'))).toEqual(['Predict /ui', 'Score a file /ui/batch (current)']);
      expect(links(await get(off.url, '/ui'))).toEqual(['Predict /ui (current)', 'Score a file /ui/batch']);
    } finally {
      await off.close();
    }
  });
});

describe.skipIf(unavailable !== null)('/ui/batch in a browser', () => {
  let gateway: TestGateway;
  /** MAX_BATCH 50: a file of more rows is sent in several requests. */
  let small: TestGateway;
  let browser: TestBrowser;
  let tab: TestPage | null = null;

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    [gateway, small, browser] = await Promise.all([startTestGateway({ UI_DIR: uiDir }), startTestGateway({ UI_DIR: uiDir, MAX_BATCH: '50' }), launchBrowser()]);
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([gateway?.close(), small?.close()]);
  });

  afterEach(async () => {
    const closing = tab;
    tab = null;
    if (closing) await closeTab(closing, /status of 400/);
  });

  /** Every ScoreFile answer passes through `rewrite` (with its number, from 1) before the page reads it: another model answering in between. */
  async function rewriteAnswers(page: Page, rewrite: (predictions: ScoreFileMutation['predictBatch'], answer: number) => void): Promise<void> {
    let answered = 0;
    await page.route('**/graphql', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { data: ScoreFileMutation };
      rewrite(body.data.predictBatch, ++answered);
      await route.fulfill({ response, json: body });
    });
  }

  /** The page, with every request it sends to score a file (its ScoreFile operation) recorded: its body's bytes and rows; and its offers' requests' rows. */
  async function open(origin: string, viewport?: { width: number; height: number }): Promise<{ page: Page; sent: { bytes: number; rows: number }[]; offered: number[] }> {
    tab = await browser.open(origin, viewport);
    const sent: { bytes: number; rows: number }[] = [];
    /** The rows of each request that scores offers (RetentionOffers). */
    const offered: number[] = [];
    tab.page.on('request', (r) => {
      if (!r.url().endsWith('/graphql') || r.method() !== 'POST') return;
      const body = r.postData() ?? '';
      const parsed = JSON.parse(body) as { operationName?: string; variables?: { customers?: unknown[] } };
      if (parsed.operationName === 'ScoreFile') sent.push({ bytes: Buffer.byteLength(body), rows: parsed.variables?.customers?.length ?? 0 });
      if (parsed.operationName === 'RetentionOffers') offered.push(parsed.variables?.customers?.length ?? 0);
    });
    await tab.page.goto(`${origin}/ui/batch`);
    await tab.page.locator('#batch-file').waitFor();
    return { page: tab.page, sent, offered };
  }

  const choose = (page: Page, text: string | Buffer, name = 'customers.csv') => page.setInputFiles('#batch-file', { name, mimeType: 'text/csv', buffer: Buffer.isBuffer(text) ? text : Buffer.from(text) });
  const status = (page: Page) => page.locator('#batch-status').textContent();

  /** The problems table, one `line | column | value | problem` line each (the problem without the gateway's folded wording). */
  const problems = (page: Page) =>
    page
      .locator('[data-testid="problems"] tbody tr')
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll(':scope > td')].map((td, i) => (i === 3 ? (td.firstChild?.textContent ?? '') : (td.textContent ?? ''))).join(' | ')));

  /** A CSV's records, each its fields. */
  const readCsvRecords = (text: string) => {
    const read = readCsv(text.replace(/^\uFEFF/, ''));
    if (!read.ok) throw new Error(read.problem.message);
    return read.records.map((r) => [...r.fields]);
  };

  async function downloaded(page: Page): Promise<{ name: string; text: string }> {
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
    return { name: file.suggestedFilename(), text: await readFile(await file.path(), 'utf8') };
  }

  it("says in the file card, to anyone, that the page's script did not load and to reload", async () => {
    const opened = await browser.open(gateway.url);
    tab = opened;
    const { page } = opened;
    // A 404 for the page's hashed file, as a task serving another build answers it (docs/ui.md): there was no file chooser and no word why.
    await answerScript404(page, 'batch');
    await page.goto(`${gateway.url}/ui/batch`);
    const alert = page.getByRole('region', { name: 'Customer file' }).getByRole('alert');
    await poll(() => alert.count(), 10_000).toBe(1);
    expect(await alert.textContent()).toBe('This page could not start (its script did not load); reload the page.');
    expect(await alert.isVisible()).toBe(true);
    tab = null;
    await closeTab(opened, /status of 404/);
    // Loaded, the file chooser replaces what the check looks for: nothing is said.
    const { page: loaded } = await open(gateway.url);
    expect(await loaded.getByRole('alert').count()).toBe(0);
  });

  it('scores a generated file, ranks it by churn probability and downloads every row in file order with the gateway’s own scores', async () => {
    const list = customers(260);
    // Values RFC 4180 must quote, and one a spreadsheet would read as a formula.
    list[3] = { ...(list[3] as CustomerInput), customerId: 'Smith, "Jo"' };
    list[4] = { ...(list[4] as CustomerInput), customerId: '=HYPERLINK("http://x")' };
    // Not yet billed at tenure 0: the data set's one space, and a spreadsheet's empty cell.
    list[5] = { ...(list[5] as CustomerInput), tenure: 0, totalCharges: null };
    list[6] = { ...(list[6] as CustomerInput), tenure: 0, totalCharges: null };
    // A customer likely to churn with nothing to try, and one whose only offer lowers nothing.
    list[7] = HAS_EVERY_OFFER;
    list[8] = NO_OFFER_LOWERS;
    list[9] = ONLY_CONTRACT_TO_TRY;
    list[10] = ON_TWO_YEARS;
    list[11] = ONLY_CONTRACT_LOWERS;
    const rows = list.map(rowOf);
    (rows[6] as string[])[HEADER.indexOf('TotalCharges')] = '';
    const { page, sent } = await open(gateway.url);
    await choose(page, csvText([HEADER, ...rows]));
    await poll(() => status(page)).toMatch(/^Scored 260 customers from customers\.csv with model version \S+: \d+ high, \d+ medium, \d+ low risk\.$/);
    expect(sent.map((s) => s.rows)).toEqual([260]);

    const truth = await direct(gateway.url, list);
    const best = await bestOffers(gateway.url, list, truth);
    const keeping = await bestOffers(gateway.url, list, truth, { keepingContract: true });
    const version = (truth[0] as Prediction).modelVersion;
    // The committed bundle's run (model/bundle/manifest.json), which the version number alone does not name.
    const runId = await servingRun(gateway.url);
    const manifest = JSON.parse(await readFile(path.join(BUNDLE_DIR, 'manifest.json'), 'utf8')) as { run: { runId: string } };
    expect(runId).toBe(manifest.run.runId);
    expect(runId).not.toBe(version);
    const bands = (level: string) => String(truth.filter((p) => p.riskLevel === level).length);
    expect(await page.getByTestId('summary-customers-scored').textContent()).toBe('260');
    expect(await page.getByTestId('summary-model-version').textContent()).toBe(version);
    expect(await page.getByTestId('summary-run-id').textContent()).toBe(runId);
    expect(await page.getByTestId('summary-run-id').locator('code').textContent()).toBe(runId);
    expect([await page.getByTestId('summary-high-risk').textContent(), await page.getByTestId('summary-medium-risk').textContent(), await page.getByTestId('summary-low-risk').textContent()]).toEqual([bands('HIGH'), bands('MEDIUM'), bands('LOW')]);
    expect(await page.getByTestId('summary-threshold').textContent()).toBe(`${((truth[0] as Prediction).threshold * 100).toFixed(1)}%`);

    // Ranked, highest first: the ids in the order of the gateway's probabilities (file order among equals).
    const expectedOrder = list.map((c, i) => ({ id: c.customerId, p: (truth[i] as Prediction).churnProbability, i })).sort((a, b) => b.p - a.p || a.i - b.i);
    const ranked = page.getByTestId('ranked');
    expect(await ranked.locator('tbody tr').count()).toBe(200);
    expect(await page.getByTestId('ranked-caption').textContent()).toBe('Customers by churn probability, highest first: the first 200 of 260');
    await page.screenshot({ path: path.join(SHOTS, 'scored.png') });
    expect(await ranked.locator('tbody th').allTextContents()).toEqual(expectedOrder.slice(0, 200).map((e) => e.id));
    await page.getByRole('button', { name: 'Show 60 more' }).click();
    expect(await ranked.locator('tbody th').allTextContents()).toEqual(expectedOrder.map((e) => e.id));
    expect(await page.getByTestId('ranked-caption').textContent()).toBe('Customers by churn probability, highest first: all 260');
    await poll(() => status(page)).toBe('Showing 260 of 260 customers.');
    // The last rows shown, the button is gone and focus is on the table, not lost.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('ranked');

    expect(await page.getByTestId('formula-note').textContent()).toBe(
      '1 value in the file begins with =, +, -, @ or a tab (the first: line 6, customerID "=HYPERLINK("http://x")"). A spreadsheet may run such a value as a formula: the download keeps every value as written, so import those columns as text.',
    );

    const { name, text } = await downloaded(page);
    expect(name).toBe(`customers-scored-model-${version}-run-${runId.slice(0, 8)}.csv`);
    const read = readCsv(text);
    if (!read.ok) throw new Error(read.problem.message);
    const [header, ...records] = read.records.map((r) => r.fields);
    expect(header).toEqual([...HEADER, ...ADDED]);
    expect(records).toHaveLength(260);
    records.forEach((record, i) => {
      const p = truth[i] as Prediction;
      const cells = rows[i] as string[];
      expect(record, `row ${i}`).toEqual([...cells, String(p.churnProbability), p.willChurn ? 'Yes' : 'No', p.riskLevel, String(p.threshold), p.modelVersion, runId, ...reasonColumns(p, HEADER, cells), ...offerColumns(best[i] as Best), ...offerColumns(keeping[i] as Best)]);
    });
    // Not a column left empty for all: rows with three reasons, and the tenure-0 rows' blank totals.
    const column = (name: string) => records.map((r) => r[(header as string[]).indexOf(name)]);
    expect(column('risk_driver_1').filter((v) => v !== '').length).toBeGreaterThan(100);
    expect(column('risk_driver_3').filter((v) => v !== '').length).toBeGreaterThan(50);
    // Best offers for many of the customers likely to churn, and none for the others.
    expect(column('best_offer').filter((v) => v !== '').length).toBeGreaterThan(0);
    expect(records.filter((r, i) => !(truth[i] as Prediction).willChurn && r[(header as string[]).indexOf('best_offer')] !== '')).toEqual([]);
    // Every reason for no best offer is met, in the download as in the table below.
    expect(best.slice(7, 10)).toEqual(['nothing-to-try', 'none-lowers', expect.objectContaining({ cell: 'Contract = Two year' })]);
    expect(keeping.slice(7, 10)).toEqual(['nothing-to-try', 'none-keeping-lowers', 'only-contract']);
    expect(best[11]).toEqual(expect.objectContaining({ cell: 'Contract = Two year', willChurn: false }));
    expect(keeping[11]).toBe('none-keeping-lowers');
    expect([7, 8, 9, 11].map((i) => [(records[i] as string[])[ADDED.length + HEADER.length - 4], (records[i] as string[]).at(-2)])).toEqual([
      ['(nothing to try)', '(nothing to try)'],
      ['(no offer lowers the score by a percentage point)', '(no offer keeping the contract lowers the score by a percentage point)'],
      ['Contract = Two year', '(nothing to try but a longer contract)'],
      ['Contract = Two year', '(no offer keeping the contract lowers the score by a percentage point)'],
    ]);
    // The best offer keeping the contract is another offer where the best is a longer contract, and the same one where it is not.
    const differs = best.filter((b, i) => typeof b === 'object' && b !== null && b.cell.startsWith('Contract') && typeof keeping[i] === 'object' && keeping[i] !== null);
    expect(differs.length).toBeGreaterThan(0);
    expect(best[10]).toEqual(expect.objectContaining({ cell: expect.not.stringMatching(/^Contract/) }));
    const onTwoYears = ranked.locator('tbody tr', { has: page.locator('th', { hasText: /^ON-TWO-YEARS$/ }) });
    const [shownBest, shownKeeping] = [await onTwoYears.locator('td.best-offer').textContent(), await onTwoYears.locator('td.best-offer-keeping-contract').textContent()];
    expect(shownKeeping).toBe(shownBest);
    // In the table, each customer's, in the form's words (every row is shown by now).
    expect(await ranked.locator('td.best-offer').allTextContents()).toEqual(expectedOrder.map((e) => offerShown(best[e.i] as Best, (truth[0] as Prediction).threshold)));
    expect(await ranked.locator('td.best-offer-keeping-contract').allTextContents()).toEqual(expectedOrder.map((e) => offerShown(keeping[e.i] as Best, (truth[0] as Prediction).threshold)));
    // RFC 4180: CRLF line ends, quotes where a value needs them, the formula-like id as written.
    expect(text.split('\r\n')[4]).toMatch(/^"Smith, ""Jo""",/);
    expect(text.split('\r\n')[5]).toMatch(/^"=HYPERLINK\(""http:\/\/x""\)",/);
    expect(text.endsWith('\r\n')).toBe(true);
  });
  it('shows the file scored without best offers, and says why, when their requests fail or another model answers them', async () => {
    const { page } = await open(gateway.url);
    let offersAnswer: 'refused' | 'another run' = 'refused';
    await page.route('**/graphql', async (route) => {
      if ((JSON.parse(route.request().postData() ?? '{}') as { operationName?: string }).operationName !== 'RetentionOffers') return route.continue();
      if (offersAnswer === 'refused') return route.abort('connectionrefused');
      const response = await route.fetch();
      const body = (await response.json()) as { data: { predictBatch: { modelRunId: string }[] } };
      for (const row of body.data.predictBatch) row.modelRunId = 'another-run';
      await route.fulfill({ response, json: body });
    });
    const list = customers(30);
    const truth = await direct(gateway.url, list);
    expect(truth.filter((p) => p.willChurn).length).toBeGreaterThan(0);
    await choose(page, csvText([HEADER, ...list.map(rowOf)]));
    await poll(() => status(page)).toMatch(/^Scored 30 customers/);
    expect(await page.getByTestId('offers-note').textContent()).toMatch(
      /^No best offers: The gateway could not be reached \(.*\)\. The scores stand; the download says “\(offers not scored\)” in best_offer and best_offer_keeping_contract for each customer likely to churn\.$/,
    );
    expect(new Set(await page.getByTestId('ranked').locator('td.best-offer, td.best-offer-keeping-contract').allTextContents())).toEqual(new Set(['—']));
    // The file travels without the page's note: it says so itself, for each customer likely to churn.
    const records = readCsvRecords((await downloaded(page)).text);
    expect(records.slice(1).map((r) => r.slice(-4))).toEqual(truth.map((p) => (p.willChurn ? ['(offers not scored)', '', '(offers not scored)', ''] : ['', '', '', ''])));
    // The refused requests, and nothing else.
    const { consoleErrors } = tab as TestPage;
    expect(consoleErrors.filter((e) => !/ERR_CONNECTION_REFUSED/.test(e))).toEqual([]);
    consoleErrors.splice(0, consoleErrors.length);
    offersAnswer = 'another run';
    await choose(page, csvText([HEADER, ...list.map(rowOf)]));
    await poll(() => page.getByTestId('offers-note').textContent()).toMatch(/^No best offers: the model changed from version (\S+) \(run \w+\) to version \1 \(run another-run\) while the offers were scored, and the file was scored by version \1 \(run \w+\)\. The scores stand;/);
    expect(await status(page)).toMatch(/^Scored 30 customers/);
  });

  it('says there are no best offers when no customer in the file is likely to churn, and sends no request for them', async () => {
    const { page, offered } = await open(gateway.url);
    const low = EXAMPLES[1]?.customer as CustomerInput;
    await choose(page, csvText([HEADER, ...[0, 1, 2].map((i) => rowOf({ ...low, customerId: `L-${i}` }))]));
    await poll(() => status(page)).toMatch(/^Scored 3 customers/);
    expect(await page.getByTestId('offers-note').textContent()).toBe('No best offers: no customer in the file is likely to churn.');
    expect(offered).toEqual([]);
    expect(readCsvRecords((await downloaded(page)).text).slice(1).map((r) => r.slice(-2))).toEqual([['', ''], ['', ''], ['', '']]);
  });

  it('says on the file page and the form that a model version without an explainer gives no reasons, and leaves the risk_driver columns empty', async () => {
    // The committed bundle as a version trained before explainers: no explainer entry, no explainer.json.
    const dir = await mkdtemp(path.join(tmpdir(), 'ui-no-explainer-'));
    let old: TestGateway | undefined;
    try {
      for (const file of ['model.onnx', 'parity.json']) await copyFile(path.join(BUNDLE_DIR, file), path.join(dir, file));
      const manifest = JSON.parse(await readFile(path.join(BUNDLE_DIR, 'manifest.json'), 'utf8')) as Record<string, unknown>;
      delete manifest['explainer'];
      await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
      old = await startTestGateway({ UI_DIR: uiDir, MODEL_DIR: dir });
      const { page } = await open(old.url);
      const list = customers(4);
      const rows = list.map(rowOf);
      await choose(page, csvText([HEADER, ...rows]));
      await poll(() => status(page)).toMatch(/^Scored 4 customers/);
      const truth = await direct(old.url, list);
      expect(truth.map((p) => p.explanation)).toEqual([null, null, null, null]);
      const version = (truth[0] as Prediction).modelVersion;
      expect(await page.getByTestId('no-explainer').textContent()).toBe(
        `Model version ${version} carries no explainer: no main reasons are shown, and the download’s risk_driver_1, risk_driver_2, risk_driver_3 columns are empty.`,
      );
      expect(await page.getByTestId('reasons-note').count()).toBe(0);
      expect(await page.getByTestId('ranked').locator('td.reasons').allTextContents()).toEqual(['—', '—', '—', '—']);
      const records = readCsvRecords((await downloaded(page)).text);
      expect(records[0]).toEqual([...HEADER, ...ADDED]);
      expect(records.slice(1).map((r) => r.slice(addedAt('risk_driver_1'), addedAt('risk_driver_3') + 1))).toEqual(list.map(() => ['', '', '']));
      // The form: one line in place of the drivers.
      await page.goto(`${old.url}/ui`);
      await page.getByRole('button', { name: 'Example: high risk' }).click();
      await poll(() => page.getByTestId('no-explainer').textContent()).toBe(`Model version ${version} carries no explainer, so it cannot say which of this customer’s values drive the score.`);
      expect(await page.getByTestId('driver').count()).toBe(0);
      await page.screenshot({ path: path.join(SHOTS, 'form-no-explainer.png'), fullPage: true });
      // Edited after, the result is for the values before; the line stays true and gets no note about drivers it does not show.
      await page.getByLabel('Tenure (months)').fill('60');
      await poll(() => page.getByTestId('stale-note').count()).toBe(1);
      expect(await page.getByTestId('drivers-stale-note').count()).toBe(0);
    } finally {
      await old?.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a file whose header is not the data set’s, naming each column, and sends nothing', async () => {
    const { page, sent } = await open(gateway.url);
    const header = HEADER.map((c) => (c === 'customerID' ? 'customerId' : c)).filter((c) => c !== 'TotalCharges');
    header.push('Region', 'gender', '');
    const row = rowOf(customers(1)[0] as CustomerInput).slice(0, -1);
    await choose(page, csvText([header, [...row, 'North', 'Male', '1']]));
    await poll(() => status(page)).toBe('customers.csv has 5 problems: nothing was sent. Fix the file and choose it again.');
    expect(await problems(page)).toEqual([
      '1 | gender | — | column "gender" appears more than once (columns 2 and 21): keep one',
      '1 | customerId | — | column 1 is named "customerId"; the data set names it "customerID": rename it',
      '1 | Region | — | column 20, "Region", is not a column of the data set: remove it (the columns are customerID, gender, SeniorCitizen, Partner, Dependents, tenure, PhoneService, MultipleLines, InternetService, OnlineSecurity, OnlineBackup, DeviceProtection, TechSupport, StreamingTV, StreamingMovies, Contract, PaperlessBilling, PaymentMethod, MonthlyCharges, TotalCharges, and Churn may be there)',
      '1 | (no name) | — | column 22 has no name (a row number or index column?): remove it',
      '1 | TotalCharges | — | the column "TotalCharges" (Total charges) is missing',
    ]);
    expect(await page.getByTestId('problem-summary').textContent()).toBe('customers.csv has 5 problems. Nothing was sent or scored; fix the file and choose it again.');
    await page.screenshot({ path: path.join(SHOTS, 'header-problems.png'), fullPage: true });
    expect(sent).toEqual([]);
  });

  it('names the line, column and value of every cell it cannot read, in the data set’s spellings, and sends nothing', async () => {
    const { page, sent } = await open(gateway.url);
    const rows = customers(8).map(rowOf);
    const set = (r: number, column: string, value: string) => ((rows[r] as string[])[HEADER.indexOf(column)] = value);
    set(1, 'Contract', 'month-to-month');
    set(2, 'tenure', '12.0');
    set(3, 'TotalCharges', '1,234.50');
    set(3, 'SeniorCitizen', 'Yes');
    set(4, 'MonthlyCharges', '');
    set(6, 'customerID', (rows[0] as string[])[0] as string);
    const text = csvText([HEADER, ...rows]).split('\n');
    // Line 7 (the sixth customer) loses its last value; a blank line comes before the last customer.
    text[6] = (text[6] as string).replace(/,[^,]*$/, '');
    text.splice(8, 0, '');
    await choose(page, text.join('\n'));
    await poll(() => status(page)).toBe('customers.csv has 8 problems: nothing was sent. Fix the file and choose it again.');
    expect(await problems(page)).toEqual([
      '3 | Contract | "month-to-month" | must be one of "Month-to-month", "One year", "Two year", spelled as the data set does: "Month-to-month"',
      '4 | tenure | "12.0" | must be a whole number of months from 0 to 1200',
      '5 | SeniorCitizen | "Yes" | must be one of "0", "1"',
      '5 | TotalCharges | "1,234.50" | must be an amount from 0 to 3.4e+38, with a point for decimals (29.85) and no sign, separator or currency; blank (one space, or empty) when not yet billed',
      '6 | MonthlyCharges | "" | must be an amount of 0 or more',
      '7 | — | — | the line has 19 values, expected 20 (one per header column)',
      '8 | customerID | "C00000" | the customer id is also on line 2: each customer once',
      '9 | — | — | the line is blank: remove it (only the end of the file may have blank lines)',
    ]);
    await page.screenshot({ path: path.join(SHOTS, 'value-problems.png'), fullPage: true });
    expect(sent).toEqual([]);
  });

  it('scores a file dropped on the page as one chosen, and sends it nowhere but this gateway’s /graphql', async () => {
    const { page, sent, offered } = await open(gateway.url);
    const requests: string[] = [];
    page.on('request', (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
    const text = csvText([HEADER, ...customers(12).map(rowOf)]);
    const transfer = await page.evaluateHandle((csv) => {
      const data = new DataTransfer();
      data.items.add(new File([csv], 'dropped.csv', { type: 'text/csv' }));
      return data;
    }, text);
    await page.dispatchEvent('[data-testid="drop-zone"]', 'dragover', { dataTransfer: transfer });
    await page.dispatchEvent('[data-testid="drop-zone"]', 'drop', { dataTransfer: transfer });
    await poll(() => status(page)).toMatch(/^Scored 12 customers from dropped\.csv/);
    expect(sent.map((r) => r.rows)).toEqual([12]);
    // The file's request, and its offers' (RetentionOffers).
    expect(offered).toHaveLength(1);
    expect(requests).toEqual(['POST /graphql', 'POST /graphql']);
  });

  it('says, for a drop of several files, that only the first is scored, one file at a time, and names the others', async () => {
    const { page, sent } = await open(gateway.url);
    const transfer = await page.evaluateHandle(
      (files) => {
        const data = new DataTransfer();
        for (const [name, csv] of files) data.items.add(new File([csv], name, { type: 'text/csv' }));
        return data;
      },
      [
        ['january.csv', csvText([HEADER, ...customers(5, 'J').map(rowOf)])],
        ['february.csv', csvText([HEADER, ...customers(6, 'F').map(rowOf)])],
        ['march.csv', csvText([HEADER, ...customers(7, 'M').map(rowOf)])],
      ] as [string, string][],
    );
    await page.dispatchEvent('[data-testid="drop-zone"]', 'drop', { dataTransfer: transfer });
    await poll(() => status(page)).toMatch(/^Scored 5 customers from january\.csv/);
    expect(await status(page)).toMatch(/ Only january\.csv is scored \(one file at a time\), not february\.csv and march\.csv: choose or drop each on its own\.$/);
    expect(sent.map((r) => r.rows)).toEqual([5]);
    // The next file alone: nothing about the others any more.
    await choose(page, csvText([HEADER, ...customers(6, 'F').map(rowOf)]), 'february.csv');
    await poll(() => status(page)).toMatch(/^Scored 6 customers from february\.csv with model version \S+: \d+ high, \d+ medium, \d+ low risk\.$/);
  });

  it('lists the first 100 problems of a file with more, and says how many there are', async () => {
    const { page, sent } = await open(gateway.url);
    const rows = customers(150).map((r) => rowOf(r).map((cell, i) => (i === HEADER.indexOf('tenure') ? `${cell} months` : cell)));
    await choose(page, csvText([HEADER, ...rows]));
    await poll(() => status(page)).toBe('customers.csv has 150 problems: nothing was sent. Fix the file and choose it again.');
    expect(await page.getByTestId('problem-summary').textContent()).toBe('customers.csv has 150 problems; the first 100 are listed. Nothing was sent or scored; fix the file and choose it again.');
    expect(await page.locator('[data-testid="problems"] caption').textContent()).toBe('Problems, the first 100 (at most 100 are listed)');
    const listed = await problems(page);
    expect(listed).toHaveLength(100);
    expect(listed[99]).toBe(`101 | tenure | "${(rows[99] as string[])[5]}" | must be a whole number of months from 0 to 1200`);
    expect(sent).toEqual([]);
  });

  it('says an empty file, a header without customers, a workbook and a Windows-1252 file are not what it reads', async () => {
    const { page, sent } = await open(gateway.url);
    const cases: [string, Buffer, string][] = [
      ['empty.csv', Buffer.from(''), '— | — | — | the file is empty: it needs a header line (customerID, gender, SeniorCitizen, …) and a line per customer'],
      ['header.csv', Buffer.from(`${HEADER.join(',')}\r\n\r\n`), '— | — | — | the file has a header but no customers'],
      ['book.xlsx', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0]), '— | — | — | this is a spreadsheet workbook (.xlsx), not a CSV file: save it as "CSV UTF-8 (comma delimited)" and choose that file'],
      [
        'latin1.csv',
        Buffer.concat([Buffer.from(`${HEADER.join(',')}\n${rowOf(customers(1)[0] as CustomerInput).join(',')}\n`), Buffer.from([0x43, 0xe9, 0x0a])]),
        '3 | — | — | the file is not UTF-8 text (a Windows-1252 or Latin-1 export?): save it as "CSV UTF-8 (comma delimited)", or convert it with iconv -f WINDOWS-1252 -t UTF-8, and choose it again',
      ],
      ['semicolons.csv', Buffer.from(`${HEADER.join(';')}\n`), '1 | — | — | the columns are separated by semicolons: this page reads comma-separated files (save as "CSV UTF-8 (comma delimited)")'],
    ];
    for (const [name, bytes, problem] of cases) {
      await choose(page, bytes, name);
      await poll(() => problems(page), 10_000).toEqual([problem]);
      expect(await status(page), name).toMatch(new RegExp(`^${name.replace('.', '\\.')} (has 1 problem|cannot be read): nothing was sent`));
    }
    expect(sent).toEqual([]);
  });

  it('reads a file with the data set’s Churn column, says the column is ignored, and keeps it in the download', async () => {
    const { page } = await open(gateway.url);
    const list = customers(30);
    const labels = list.map((_, i) => (i % 3 === 0 ? 'Yes' : 'No'));
    await choose(page, csvText([[...HEADER, 'Churn'], ...list.map((c, i) => [...rowOf(c), labels[i] as string])]), 'telco.csv');
    await poll(() => status(page)).toMatch(/^Scored 30 customers from telco\.csv/);
    expect(await page.getByTestId('label-note').textContent()).toBe("The file's Churn column is not used for scoring (the model predicts it); it is kept unchanged in the download.");
    const truth = await direct(gateway.url, list);
    const { text } = await downloaded(page);
    const read = readCsv(text);
    if (!read.ok) throw new Error(read.problem.message);
    const [header, ...records] = read.records.map((r) => r.fields);
    expect(header?.slice(20, 22)).toEqual(['Churn', 'churn_probability']);
    expect(records.map((r) => [r[0], r[20], r[21]])).toEqual(list.map((c, i) => [c.customerId, labels[i], String((truth[i] as Prediction).churnProbability)]));
  });
  it('scores its own download again (last month’s scored file, after a promotion): the earlier scores are not sent, said once, and replaced, each scoring column once', async () => {
    const { page, sent } = await open(gateway.url);
    const list = customers(30);
    const labels = list.map((_, i) => (i % 3 === 0 ? 'Yes' : 'No'));
    await choose(page, csvText([[...HEADER, 'Churn'], ...list.map((c, i) => [...rowOf(c), labels[i] as string])]), 'telco.csv');
    await poll(() => status(page)).toMatch(/^Scored 30 customers from telco\.csv/);
    expect(await page.getByTestId('earlier-scores-note').count()).toBe(0);
    const first = await downloaded(page);
    const [header, ...records] = readCsvRecords(first.text);
    expect(header).toEqual([...HEADER, 'Churn', ...ADDED]);
    const truth = await direct(gateway.url, list);
    expect(records.map((r) => r[addedAt('churn_probability', HEADER.length + 1)])).toEqual(truth.map((p) => String(p.churnProbability)));
    // The same file as another model scored it last month: every scoring cell other than today's.
    const old = (column: string) => (column === 'churn_probability' ? '0.5' : column === 'model_version' ? '1' : `earlier ${column}`);
    const lastMonth = csvText([header as string[], ...records.map((r) => [...r.slice(0, HEADER.length + 1), ...ADDED.map(old)])]);
    const note = `This file was scored before: it ends with the ${ADDED.length} columns this page adds, ${ADDED[0]} to ${ADDED.at(-1)}. Those earlier scores are not used, and the download has the new scores in their place.`;
    for (const [text, name] of [
      [first.text, first.name],
      [lastMonth, 'telco-scored-model-1-run-0e0e0e0e.csv'],
    ] as const) {
      const requests = sent.length;
      await choose(page, text, name);
      await poll(() => status(page)).toContain(`Scored 30 customers from ${name} with model version`);
      // The customers alone are sent: the same request as for the file before it was scored.
      expect(sent.slice(requests)).toEqual(sent.slice(0, 1));
      expect(await page.getByTestId('earlier-scores-note').textContent()).toBe(note);
      expect(await page.getByTestId('label-note').count()).toBe(1);
      // One set of scoring columns, with today's scores; the customers' own columns (Churn too) as they were; named after today's model.
      const again = await downloaded(page);
      expect(again.text, name).toBe(first.text);
      expect(again.name, name).toBe(first.name);
    }
    // Its problems are the customers', with the note: the scoring columns are no problem.
    const bad = records.map((r) => [...r]);
    (bad[4] as string[])[HEADER.indexOf('tenure')] = 'x';
    await choose(page, csvText([header as string[], ...bad]), first.name);
    await poll(() => status(page)).toBe(`${first.name} has 1 problem: nothing was sent. Fix the file and choose it again.`);
    expect((await problems(page)).map((l) => l.split(' | ').slice(0, 3).join(' | '))).toEqual(['6 | tenure | "x"']);
    expect(await page.getByTestId('earlier-scores-note').textContent()).toBe(note);
  });

  it('maps the rows the gateway refuses (its cross-field rules, a blank total after tenure 0) to the file’s line and column, across requests', async () => {
    const { page, sent } = await open(small.url);
    const rows = customers(120).map(rowOf);
    const set = (r: number, column: string, value: string) => ((rows[r] as string[])[HEADER.indexOf(column)] = value);
    // Not yet billed, at tenure 5: the data set's blank refused after tenure 0 (line 12, the first request).
    set(10, 'tenure', '5');
    set(10, 'TotalCharges', ' ');
    // No phone service but a multiple-lines answer (line 77, the second request: row 25 of it).
    set(75, 'PhoneService', 'No');
    set(75, 'MultipleLines', 'No');
    // No internet service but an add-on (line 112, the third request).
    for (const column of ['InternetService', 'OnlineSecurity', 'OnlineBackup', 'DeviceProtection', 'TechSupport', 'StreamingTV', 'StreamingMovies']) set(110, column, 'No internet service');
    set(110, 'InternetService', 'No');
    set(110, 'OnlineSecurity', 'Yes');
    await choose(page, csvText([HEADER, ...rows]));
    await poll(() => status(page)).toBe('The gateway refused customers.csv: 3 problems; no results are shown. Fix the file and choose it again.');
    // Every request was checked, so the count is the file's.
    expect(sent.map((r) => r.rows)).toEqual([50, 50, 20]);
    expect(await problems(page)).toEqual([
      '12 | TotalCharges | " " | Total charges may be empty (not yet billed) only when Tenure is 0; got Tenure=5: send the total billed so far',
      '77 | MultipleLines | "No" | Multiple lines must be "No phone service" exactly when Phone service is "No"; got Phone service="No" and Multiple lines="No"',
      '112 | OnlineSecurity | "Yes" | Online security must be "No internet service" exactly when Internet service is "No"; got Internet service="No" and Online security="Yes"',
    ]);
    // The gateway's own wording, folded under each, for support.
    expect(await page.locator('[data-testid="problems"] tbody tr').nth(1).locator('details code').textContent()).toBe(
      'multipleLines must be NO_PHONE_SERVICE exactly when phoneService is false; got phoneService=false and multipleLines=NO',
    );
    expect(await page.getByTestId('problem-summary').textContent()).toBe('The gateway refused customers.csv: 3 problems. No results are shown; fix the file and choose it again.');
    expect(await page.getByTestId('results').count()).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, 'gateway-problems.png'), fullPage: true });
  });

  it('says no results are shown, not that nothing was scored, when the gateway refuses one request of a file and scored the others', async () => {
    const { page, sent } = await open(small.url);
    // The predictions the gateway has counted (gateway_predictions_total, every risk level).
    const counted = async () => [...(await (await fetch(`${small.url}/metrics`)).text()).matchAll(/^gateway_predictions_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    const rows = customers(120).map(rowOf);
    // A blank total at tenure 5 on line 62: the second request of three (MAX_BATCH 50) is refused, the first and the third are scored.
    (rows[60] as string[])[HEADER.indexOf('tenure')] = '5';
    (rows[60] as string[])[HEADER.indexOf('TotalCharges')] = ' ';
    const before = await counted();
    await choose(page, csvText([HEADER, ...rows]));
    await poll(() => status(page)).toBe('The gateway refused customers.csv: 1 problem; no results are shown. Fix the file and choose it again.');
    expect(sent.map((r) => r.rows)).toEqual([50, 50, 20]);
    expect((await problems(page)).map((l) => l.split(' | ').slice(0, 2).join(' | '))).toEqual(['62 | TotalCharges']);
    expect(await page.getByTestId('problem-summary').textContent()).toBe('The gateway refused customers.csv: 1 problem. No results are shown; fix the file and choose it again.');
    expect(await page.getByTestId('results').count()).toBe(0);
    // Why the page does not say "nothing was scored": the gateway scored the 70 rows of the requests it did not refuse.
    expect((await counted()) - before).toBe(70);
  });

  it('maps a variable the gateway refuses by its type (graphql-js, one error per problem, no total) to its line and column too', async () => {
    const { page } = await open(gateway.url);
    // What the page never sends (it reads every cell first), sent anyway: the request changed in flight.
    await page.route('**/graphql', async (route) => {
      const body = JSON.parse(route.request().postData() ?? '{}') as { variables: { customers: Record<string, unknown>[] } };
      Object.assign(body.variables.customers[3] as object, { tenure: '12' });
      Object.assign(body.variables.customers[5] as object, { contract: 'MONTHLY' });
      await route.fulfill({ response: await route.fetch({ postData: JSON.stringify(body) }) });
    });
    const rows = customers(8).map(rowOf);
    await choose(page, csvText([HEADER, ...rows]));
    await poll(() => status(page)).toBe('The gateway refused customers.csv: 2 problems; no results are shown. Fix the file and choose it again.');
    const lines = await problems(page);
    expect(lines.map((l) => l.split(' | ').slice(0, 3).join(' | '))).toEqual([`5 | tenure | "${(rows[3] as string[])[5]}"`, `7 | Contract | "${(rows[5] as string[])[15]}"`]);
    expect(lines[1]).toMatch(/allowed: "Month-to-month", "One year", "Two year"/);

    // Past graphql-js's 50 errors it adds one naming no field ("Too many errors"): listed and counted on its own row.
    await page.unroute('**/graphql');
    await page.route('**/graphql', async (route) => {
      const body = JSON.parse(route.request().postData() ?? '{}') as { variables: { customers: Record<string, unknown>[] } };
      for (const customer of body.variables.customers) customer['tenure'] = '12';
      await route.fulfill({ response: await route.fetch({ postData: JSON.stringify(body) }) });
    });
    await choose(page, csvText([HEADER, ...customers(60).map(rowOf)]));
    await poll(() => status(page)).toBe('The gateway refused customers.csv: 51 problems; no results are shown. Fix the file and choose it again.');
    const many = await problems(page);
    expect(many).toHaveLength(51);
    expect(many[49]?.split(' | ').slice(0, 2)).toEqual(['51', 'tenure']);
    expect(many[50]).toMatch(/^— \| — \| — \| Too many errors/);
  });

  it('sends a file over MAX_BATCH in several requests and shows it scored by one model, as a direct predictBatch scores it', async () => {
    const { page, sent, offered } = await open(small.url);
    const list = customers(120);
    await choose(page, csvText([HEADER, ...list.map(rowOf)]));
    await poll(() => status(page)).toMatch(/^Scored 120 customers from customers\.csv with model version \S+: /);
    expect(sent.map((r) => r.rows)).toEqual([50, 50, 20]);
    const truth = await direct(gateway.url, list);
    // The offers of the customers likely to churn, within MAX_BATCH too.
    const tried = list.filter((_, i) => (truth[i] as Prediction).willChurn).flatMap((c) => offersFor(c)).length;
    expect(offered.reduce((a, b) => a + b, 0)).toBe(tried);
    expect(offered.every((n) => n <= 50)).toBe(true);
    const version = (truth[0] as Prediction).modelVersion;
    expect(await page.getByTestId('summary-requests').textContent()).toBe(`3 predictBatch requests (at most 50 customers and 5,242,880 bytes each), all answered by model version ${version}`);
    const { text } = await downloaded(page);
    const read = readCsv(text);
    if (!read.ok) throw new Error(read.problem.message);
    expect(read.records.slice(1).map((r) => [r.fields[0], r.fields[20]])).toEqual(list.map((c, i) => [c.customerId, String((truth[i] as Prediction).churnProbability)]));
  });

  it('scores the offers of a file of at-risk customers in requests within MAX_BATCH', async () => {
    const { page, sent, offered } = await open(small.url);
    // 20 high-risk customers, each with 8 offers to try (month-to-month, electronic check, no add-ons).
    const high = EXAMPLES[0]?.customer as CustomerInput;
    const list = Array.from({ length: 20 }, (_, i) => ({ ...high, customerId: `H-${i}` }));
    expect(offersFor(high)).toHaveLength(8);
    await choose(page, csvText([HEADER, ...list.map(rowOf)]));
    await poll(() => status(page)).toMatch(/^Scored 20 customers/);
    expect(sent.map((r) => r.rows)).toEqual([20]);
    expect(offered).toEqual([50, 50, 50, 10]);
    expect(await page.getByTestId('offers-note').textContent()).toMatch(/ 160 offers for 20 customers scored;/);
    const one = await direct(gateway.url, list.slice(0, 1));
    const [best] = await bestOffers(gateway.url, list.slice(0, 1), one);
    const [keeping] = await bestOffers(gateway.url, list.slice(0, 1), one, { keepingContract: true });
    expect(new Set(await page.getByTestId('ranked').locator('td.best-offer').allTextContents())).toEqual(new Set([offerShown(best as Best, one[0]?.threshold as number)]));
    expect(new Set(await page.getByTestId('ranked').locator('td.best-offer-keeping-contract').allTextContents())).toEqual(new Set([offerShown(keeping as Best, one[0]?.threshold as number)]));
  });

  it('scores the whole file again when a promotion lands between its requests, and never shows two models’ scores', async () => {
    const { page, sent } = await open(small.url);
    const list = customers(120);
    // The second request of the first pass is answered by "another model" (a promotion in between).
    await rewriteAnswers(page, (predictions, answer) => {
      if (answer === 2) for (const p of predictions) p.modelVersion = 'promoted';
    });
    const said: string[] = [];
    await page.exposeFunction('noteStatus', (text: string) => said.push(text));
    await page.evaluate(() => {
      const status = document.getElementById('batch-status') as HTMLElement;
      new MutationObserver(() => void (window as unknown as { noteStatus(t: string): void }).noteStatus(status.textContent ?? '')).observe(status, { childList: true, characterData: true, subtree: true });
    });
    await choose(page, csvText([HEADER, ...list.map(rowOf)]));
    await poll(() => status(page)).toMatch(/^Scored 120 customers from customers\.csv with model version \S+ \(scored again after the model changed\): /);
    const truth = await direct(gateway.url, list);
    const version = (truth[0] as Prediction).modelVersion;
    // Each request as it is sent; the change said once, as the second pass starts.
    expect(said.slice(0, 6)).toEqual([
      'Reading customers.csv…',
      'Scoring 120 customers: request 1 of 3…',
      'Scoring 120 customers: request 2 of 3…',
      `The model changed from version ${version} to promoted while the file was being scored: scoring all of it again with one model. Scoring 120 customers: request 1 of 3…`,
      'Scoring 120 customers: request 2 of 3…',
      'Scoring 120 customers: request 3 of 3…',
    ]);
    // Two requests of the first pass, then all three again.
    expect(sent.map((r) => r.rows)).toEqual([50, 50, 50, 50, 20]);
    expect(await page.getByTestId('summary-model-version').textContent()).toBe(version);
    const runId = await servingRun(small.url);
    expect(await page.getByTestId('summary-run-id').textContent()).toBe(runId);
    const { name, text } = await downloaded(page);
    expect(name).toBe(`customers-scored-model-${version}-run-${runId.slice(0, 8)}.csv`);
    expect(new Set(readCsvRecords(text).slice(1).map((r) => `${r[addedAt('model_version')]} ${r[addedAt('model_run_id')]}`))).toEqual(new Set([`${version} ${runId}`]));
  });

  it('scores the file again when another model with the same version number answers between its requests (its run differs), so no row loses its reasons', async () => {
    const { page, sent } = await open(small.url);
    const list = customers(60);
    // The second request is answered by another run under the same version number, without an
    // explainer: MLflow's version 2 replacing the packaged bundle's version 2, trained before explainers.
    await rewriteAnswers(page, (predictions, answer) => {
      if (answer === 2) for (const p of predictions) Object.assign(p, { modelRunId: 'another-run', explanation: null });
    });
    await choose(page, csvText([HEADER, ...list.map(rowOf)]));
    await poll(() => status(page)).toMatch(/^Scored 60 customers from customers\.csv with model version \S+ \(scored again after the model changed\): /);
    expect(sent.map((r) => r.rows)).toEqual([50, 10, 50, 10]);
    const truth = await direct(gateway.url, list);
    expect(await page.getByTestId('no-explainer').count()).toBe(0);
    expect(await page.getByTestId('reasons-note').count()).toBe(1);
    // Every row's reasons are the gateway's, the last ten's (the second request's) included.
    const records = readCsvRecords((await downloaded(page)).text);
    expect(records.slice(1).map((r) => r.slice(addedAt('risk_driver_1'), addedAt('risk_driver_3') + 1))).toEqual(list.map((_, i) => reasonColumns(truth[i] as Prediction, HEADER, rowOf(list[i] as CustomerInput))));
    // Every row names the serving model's run, not the other run of the same version number that answered once.
    const runId = await servingRun(small.url);
    expect(await page.getByTestId('summary-run-id').textContent()).toBe(runId);
    expect(new Set(records.slice(1).map((r) => `${r[addedAt('model_version')]} ${r[addedAt('model_run_id')]}`))).toEqual(new Set([`${(truth[0] as Prediction).modelVersion} ${runId}`]));
  });

  it('says so, and shows nothing, when the model changes during every attempt', async () => {
    const { page, sent } = await open(small.url);
    await rewriteAnswers(page, (predictions, answer) => {
      for (const p of predictions) p.modelVersion = `v${answer}`;
    });
    await choose(page, csvText([HEADER, ...customers(60).map(rowOf)]));
    await poll(() => status(page)).toBe('customers.csv was not scored: the model kept changing.');
    expect(await page.locator('#batch-output .problem').textContent()).toBe(
      'The model changed while the file was being scored, in each of 3 attempts (versions v1, v2, v3, v4, v5, v6): nothing is shown, since one file is scored by one model. Choose the file again once the promotion is over.',
    );
    expect(sent).toHaveLength(6);
    expect(await page.getByTestId('results').count()).toBe(0);
  });

  it('keeps every request within BODY_LIMIT_BYTES, counted as the body is sent, so none is refused with 413', async () => {
    const limit = 8192;
    const tight = await startTestGateway({ UI_DIR: uiDir, BODY_LIMIT_BYTES: String(limit) });
    try {
      const { page, sent } = await open(tight.url);
      // Ids of characters UTF-8 writes in 2, 3 and 4 bytes: the body is counted in bytes, not characters
      // (up to 40 emoji an id, 160 bytes, so a miscount of any of them shows).
      const list = customers(90).map((c, i) => ({ ...c, customerId: `${'é'.repeat(i % 7)}${'€'.repeat(i % 5)}${'😀'.repeat((i % 3) * 20)}-${i}` }));
      await choose(page, csvText([HEADER, ...list.map(rowOf)]));
      await poll(() => status(page)).toMatch(/^Scored 90 customers/);
      expect(sent.reduce((n, r) => n + r.rows, 0)).toBe(90);
      expect(Math.max(...sent.map((r) => r.bytes))).toBeLessThanOrEqual(limit);
      // Packed: every request but the last would have passed the limit with its next row (and the comma before it).
      sent.slice(0, -1).forEach((r, k) => expect(r.bytes + Buffer.byteLength(JSON.stringify(list[sent.slice(0, k + 1).reduce((n, s) => n + s.rows, 0)])) + 1, `request ${k + 1}`).toBeGreaterThan(limit));
      const truth = await direct(tight.url, list.slice(0, 10));
      expect(await page.getByTestId('ranked').locator('tbody th').count()).toBe(90);
      const { text } = await downloaded(page);
      expect(readCsvRecords(text).slice(1, 11).map((r) => [r[0], r[20]])).toEqual(list.slice(0, 10).map((c, i) => [c.customerId, String((truth[i] as Prediction).churnProbability)]));
    } finally {
      await tight.close();
    }
  });

  it('packs requests to the byte: a body exactly at BODY_LIMIT_BYTES is sent whole, one byte less splits it a row earlier', async () => {
    // Twelve customers of one size: a request of n of them is `empty` + n rows + (n - 1) commas.
    const base = customers(1)[0] as CustomerInput;
    const list = Array.from({ length: 12 }, (_, i) => ({ ...base, customerId: `U${String(i).padStart(4, '0')}` }));
    const row = Buffer.byteLength(JSON.stringify(list[0]));
    const file = csvText([HEADER, ...list.map(rowOf)]);
    const first = await open(gateway.url);
    await choose(first.page, file);
    await poll(() => status(first.page)).toMatch(/^Scored 12 customers/);
    const empty = (first.sent[0] as { bytes: number }).bytes - 12 * row - 11;
    const five = empty + 5 * row + 4;
    for (const [limit, requests] of [
      [five, [5, 5, 2]],
      [five - 1, [4, 4, 4]],
    ] as const) {
      const tight = await startTestGateway({ UI_DIR: uiDir, BODY_LIMIT_BYTES: String(limit) });
      try {
        await (tab as TestPage).close();
        const { page, sent } = await open(tight.url);
        await choose(page, file);
        await poll(() => status(page)).toMatch(/^Scored 12 customers/);
        expect(sent.map((r) => r.rows), `BODY_LIMIT_BYTES=${limit}`).toEqual(requests);
        expect((sent[0] as { bytes: number }).bytes).toBe(empty + requests[0] * row + requests[0] - 1);
      } finally {
        await tight.close();
      }
    }
  });

  it('scores a generated 10,000-row file (MAX_BATCH) in one request, showing its first 200 rows', async () => {
    const { page, sent } = await open(gateway.url);
    await choose(page, csvText([HEADER, ...customers(10_000).map(rowOf)]), 'big.csv');
    await poll(() => status(page), 45_000).toMatch(/^Scored 10,000 customers from big\.csv/);
    expect(sent.map((r) => r.rows)).toEqual([10_000]);
    expect(await page.getByTestId('ranked').locator('tbody tr').count()).toBe(200);
    await page.getByRole('button', { name: 'Show 200 more' }).click();
    expect(await page.getByTestId('ranked').locator('tbody tr').count()).toBe(400);
    expect(await page.getByTestId('summary-customers-scored').textContent()).toBe('10,000');
  });

  it.skipIf(!existsSync(DATA_SET))('scores the real data set (7,043 rows, 11 blank totals at tenure 0, Churn) as predictBatch does', async () => {
    const { page, sent } = await open(gateway.url);
    const bytes = await readFile(DATA_SET);
    await choose(page, bytes, 'telco-customer-churn.csv');
    await poll(() => status(page), 45_000).toMatch(/^Scored 7,043 customers from telco-customer-churn\.csv/);
    expect(sent.map((r) => r.rows)).toEqual([7043]);
    expect(await page.getByTestId('label-note').count()).toBe(1);
    expect(await page.getByTestId('offers-note').textContent()).toMatch(/^Best offer, for each customer likely to churn: .* [\d,]+ offers for [\d,]+ customers scored;/);
    const { text } = await downloaded(page);
    const records = readCsvRecords(text);
    const input = readCsvRecords(bytes.toString('utf8'));
    expect(records).toHaveLength(input.length);
    // Every row's own cells, untouched, in the file's order.
    records.forEach((r, i) => expect(r.slice(0, 21), `line ${i + 1}`).toEqual(input[i]));
    // The gateway's scores for the same customers, asked directly (the data set's spellings turned into GraphQL's by the contract).
    const byColumn = new Map(CUSTOMER_FIELDS.map((f) => [f.column, f]));
    const header = input[0] as string[];
    const asInput = (cells: readonly string[]): CustomerInput => {
      const customer: Record<string, unknown> = { customerId: cells[0] };
      header.forEach((column, i) => {
        const f = byColumn.get(column as CustomerField['column']);
        if (!f) return;
        const cell = cells[i] as string;
        customer[f.field] =
          f.kind === 'enum'
            ? Object.entries(CONTRACT_ENUMS[f.enumName]).find(([, v]) => v === cell)?.[0]
            : f.kind === 'yesNo'
              ? cell === 'Yes'
              : f.kind === 'flag01'
                ? cell === '1'
                : cell.trim() === ''
                  ? null
                  : Number(cell);
      });
      return customer as CustomerInput;
    };
    const truth = await direct(gateway.url, input.slice(1).map(asInput));
    expect(records.slice(1).map((r) => r[21])).toEqual(truth.map((p) => String(p.churnProbability)));
    expect(new Set(records.slice(1).map((r) => r[addedAt('model_run_id', 21)]))).toEqual(new Set([await servingRun(gateway.url)]));
    // Each row's reasons are its own drivers' (the same model scored and explained it), in the data set's names and spellings.
    expect(records[0]?.slice(21)).toEqual(ADDED);
    expect(records.slice(1).map((r) => r.slice(addedAt('risk_driver_1', 21), addedAt('risk_driver_3', 21) + 1))).toEqual(truth.map((p, i) => reasonColumns(p, header, input[i + 1] as string[])));
    // docs/ui.md's account of the best offers ("Score a file"): a two-year contract for every
    // customer likely to churn, and what keeps the contract varies.
    const tally = (column: string) => {
      const at = ADDED.indexOf(column) + 21;
      const counts: Record<string, number> = {};
      for (const r of records.slice(1)) if (r[at] !== '') counts[r[at] as string] = (counts[r[at] as string] ?? 0) + 1;
      return counts;
    };
    expect(tally('best_offer')).toEqual({ 'Contract = Two year': 2205 });
    expect(tally('best_offer_keeping_contract')).toEqual({
      'OnlineSecurity = Yes': 1610,
      'TechSupport = Yes': 267,
      'PaymentMethod = Bank transfer (automatic)': 209,
      'PaymentMethod = Credit card (automatic)': 68,
      'OnlineBackup = Yes': 18,
      '(no offer keeping the contract lowers the score by a percentage point)': 22,
      '(nothing to try but a longer contract)': 11,
    });
    const cell = (r: readonly string[], column: string) => r[ADDED.indexOf(column) + 21] as string;
    expect(records.slice(1).filter((r) => cell(r, 'best_offer_keeping_contract_churn_probability') !== '' && Number(cell(r, 'best_offer_keeping_contract_churn_probability')) < Number(cell(r, 'threshold'))).length).toBe(593);
    // docs/ui.md's account of the demographic columns among the reasons ("The ranked table"), as
    // this run's download gives them: how many customers have each as their first, second, third reason.
    const asReason = (column: string) => [1, 2, 3].map((k) => records.slice(1).filter((r) => cell(r, `risk_driver_${k}`).startsWith(`${column} = `)).length);
    const [first, second, third] = asReason('SeniorCitizen');
    const uiDoc = (await readFile(path.join(REPO_ROOT, 'docs/ui.md'), 'utf8')).replace(/\s+/g, ' ');
    expect(asReason('gender')).toEqual([0, 0, 0]);
    expect(uiDoc).toContain(`gender is a reason for none of the data set's customers, and SeniorCitizen (\`SeniorCitizen = 1\`) for ${(first ?? 0) + (second ?? 0) + (third ?? 0)} of them: ${first} as the first reason, ${second} as the second, ${third} as the third`);
  });

  it('reads a file as Excel saves "CSV UTF-8" (byte order mark, CRLF, its own column order) and gives it back so: every shown cell, the ranking among equals and each =, +, -, @ value pointed out', async () => {
    const { page, sent } = await open(gateway.url);
    const list = customers(12, 'X');
    const set = (i: number, change: Partial<CustomerInput>) => (list[i] = { ...(list[i] as CustomerInput), ...change });
    // Line breaks inside quotes (CRLF, and a lone CR as old Mac exports write it): every later customer starts a line further down.
    set(1, { customerId: 'two\r\nlines' });
    set(6, { customerId: 'old\rmac' });
    // Values a spreadsheet may run as formulas, one per starting character docs/ui.md names (= is in the first test).
    set(3, { customerId: '+1 555 0100' });
    set(4, { customerId: '-X-4' });
    set(5, { customerId: '@SUM(A1)' });
    // Two customers alike but for the id: equal probabilities, ranked in the file's order.
    set(2, { customerId: 'DUP-A' });
    list[9] = { ...(list[2] as CustomerInput), customerId: 'DUP-B' };
    // The columns in an order of the file's own: Churn first, the id last.
    const columns = ['Churn', ...HEADER.slice(1).reverse(), 'customerID'];
    const rows = list.map((c, i) => {
      const cells = rowOf(c);
      return columns.map((column) => (column === 'Churn' ? (i % 2 ? 'Yes' : 'No') : (cells[HEADER.indexOf(column)] as string)));
    });
    const lineOf = (i: number) => 2 + i + (i > 1 ? 1 : 0) + (i > 6 ? 1 : 0);
    await choose(page, Buffer.from(`\uFEFF${[columns, ...rows].map(csvLine).join('\r\n')}\r\n`), 'Customers.CSV');
    await poll(() => status(page)).toMatch(/^Scored 12 customers from Customers\.CSV/);
    expect(sent.map((s) => s.rows)).toEqual([12]);

    const truth = await direct(gateway.url, list);
    const best = await bestOffers(gateway.url, list, truth);
    const keeping = await bestOffers(gateway.url, list, truth, { keepingContract: true });
    const { modelVersion: version, threshold } = truth[0] as Prediction;
    expect((truth[2] as Prediction).churnProbability).toBe((truth[9] as Prediction).churnProbability);
    const band = (level: string) => truth.filter((p) => p.riskLevel === level).length;
    expect(band('HIGH')).not.toBe(band('LOW'));
    expect(await status(page)).toBe(`Scored 12 customers from Customers.CSV with model version ${version}: ${band('HIGH')} high, ${band('MEDIUM')} medium, ${band('LOW')} low risk.`);
    expect(await page.getByTestId('summary-requests').textContent()).toBe('one predictBatch request');

    // Every cell of the ranked table: rank, id, probability (at the decimals that agree with the decision), risk, decision, line.
    const order = list.map((c, i) => ({ c, i, p: truth[i] as Prediction })).sort((a, b) => b.p.churnProbability - a.p.churnProbability || a.i - b.i);
    expect(order.findIndex((e) => e.c.customerId === 'DUP-A')).toBe(order.findIndex((e) => e.c.customerId === 'DUP-B') - 1);
    const shown = await page.getByTestId('ranked').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent ?? '')));
    expect(shown).toEqual(
      order.map(({ c, i, p }, rank) => [
        String(rank + 1),
        c.customerId,
        `${(p.churnProbability * 100).toFixed(agreeingDigits(p.churnProbability, p.threshold, p.willChurn) ?? 1)}%`,
        RISK_WORDS[p.riskLevel],
        p.willChurn ? 'Likely to churn' : 'Not likely to churn',
        reasonsShown(p, c).join('') || 'None: no value raises the risk by 0.05 log-odds or more',
        offerShown(best[i] as Best, threshold),
        offerShown(keeping[i] as Best, threshold),
        String(lineOf(i)),
      ]),
    );
    // One reason a line, in the form's words, as the gateway's drivers give them.
    const items = await page.getByTestId('ranked').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td.reasons li')].map((li) => li.textContent ?? '')));
    expect(items).toEqual(order.map(({ c, p }) => reasonsShown(p, c)));
    expect(items.flat().length).toBeGreaterThan(12);
    expect(await page.getByTestId('ranked').locator('thead th').allTextContents()).toEqual(['Rank', 'Customer ID', 'Churn probability', 'Risk level', 'Decision', 'Main reasons (raise the risk)', 'Best offer (the model’s score with it)', 'Best offer keeping the contract', 'Line']);
    expect(await page.getByTestId('reasons-note').textContent()).toBe(
      'Main reasons: the customer’s values that raise the risk most (up to 3, each by at least 0.05 log-odds, about one percentage point of probability near 50 %), as the model accounts for its own score; the download has them as risk_driver_1, risk_driver_2, risk_driver_3.',
    );
    expect(await page.getByTestId('formula-note').textContent()).toBe(
      `3 values in the file begin with =, +, -, @ or a tab (the first: line ${lineOf(3)}, customerID "+1 555 0100"). A spreadsheet may run such a value as a formula: the download keeps every value as written, so import those columns as text.`,
    );

    // Byte for byte: the byte order mark, CRLF, the file's columns in its order and its cells as written, then the scores.
    const { name, text } = await downloaded(page);
    const runId = await servingRun(gateway.url);
    expect(name).toBe(`Customers-scored-model-${version}-run-${runId.slice(0, 8)}.csv`);
    const scored = rows.map((cells, i) => {
      const p = truth[i] as Prediction;
      return [...cells, String(p.churnProbability), p.willChurn ? 'Yes' : 'No', p.riskLevel, String(threshold), version, runId, ...reasonColumns(p, columns, cells), ...offerColumns(best[i] as Best), ...offerColumns(keeping[i] as Best)];
    });
    expect(text).toBe(`\uFEFF${[[...columns, ...ADDED], ...scored].map(csvLine).join('\r\n')}\r\n`);
  });

  it('names the problems of cells typed by hand (spaces, a blank total of two spaces, tenure 1201 but not 1200, an id too long) at their lines after quoted line breaks, and what stops a file being read', async () => {
    const { page, sent } = await open(gateway.url);
    const rows = customers(10, 'P').map(rowOf);
    const set = (r: number, column: string, value: string) => ((rows[r] as string[])[HEADER.indexOf(column)] = value);
    set(0, 'customerID', 'q\r\nr');
    set(1, 'customerID', 's\rt');
    set(2, 'tenure', '');
    set(3, 'tenure', '1201');
    set(4, 'tenure', '1200');
    set(5, 'TotalCharges', '  ');
    set(6, 'Contract', ' One year');
    set(7, 'customerID', '   ');
    set(8, 'customerID', 'x'.repeat(257));
    set(9, 'PaymentMethod', 'Mailed\tcheck');
    await choose(page, csvText([HEADER, ...rows]));
    await poll(() => status(page)).toBe('customers.csv has 7 problems: nothing was sent. Fix the file and choose it again.');
    const payment = allowedColumnValues(CUSTOMER_FIELDS.find((f) => f.column === 'PaymentMethod') as CustomerField) ?? [];
    expect(await problems(page)).toEqual([
      '6 | tenure | "" | must be a whole number of months from 0 to 1200',
      '7 | tenure | "1201" | must be a whole number of months from 0 to 1200',
      '9 | TotalCharges | "  " | is blank with 2 characters: a total not yet billed is one space, or empty',
      '10 | Contract | " One year" | must be one of "Month-to-month", "One year", "Two year", spelled as the data set does: "One year"',
      '11 | customerID | "   " | the customer id is empty: each customer needs the id it is known by',
      `12 | customerID | "${'x'.repeat(63)}…" | the customer id has 257 characters; at most 256 are accepted`,
      `13 | PaymentMethod | "Mailed\\tcheck" | must be one of ${payment.map((v) => `"${v}"`).join(', ')}`,
    ]);

    // A pandas index column saved with the file, and a name typed with a space (with the data set's Churn, said to be ignored).
    await choose(page, csvText([['Unnamed: 0', ...HEADER.map((c) => (c === 'gender' ? ' gender' : c)), 'Churn'], ['0', ...(rows[4] as string[]), 'No']]));
    await poll(() => status(page)).toBe('customers.csv has 2 problems: nothing was sent. Fix the file and choose it again.');
    expect(await problems(page)).toEqual([
      '1 | Unnamed: 0 | — | column 1 has no name (a row number or index column?): remove it',
      '1 |  gender | — | column 3 is named " gender"; the data set names it "gender" (Gender): rename it',
    ]);
    expect(await page.getByTestId('label-note').count()).toBe(1);

    const good = csvLine(rows[4] as string[]);
    const cases: [string, Buffer, string][] = [
      ['blank.csv', Buffer.from(' \r\n\r\n'), '— | — | — | the file is empty: it needs a header line (customerID, gender, SeniorCitizen, …) and a line per customer'],
      // Windows-1252 with the classic Mac's CR line ends: the line is still found.
      ['mac.csv', Buffer.concat([Buffer.from(`${HEADER.join(',')}\r${good}\r`), Buffer.from([0x43, 0xe9, 0x0d])]), '3 | — | — | the file is not UTF-8 text (a Windows-1252 or Latin-1 export?): save it as "CSV UTF-8 (comma delimited)", or convert it with iconv -f WINDOWS-1252 -t UTF-8, and choose it again'],
      ['tabs.csv', Buffer.from(`${HEADER.join('\t')}\n`), '1 | — | — | the columns are separated by tabs: this page reads comma-separated files (save as "CSV UTF-8 (comma delimited)")'],
      ['utf16.csv', Buffer.from(`\uFEFF${HEADER.join(',')}\r\n`, 'utf16le'), '— | — | — | the file is UTF-16 text: save it as "CSV UTF-8 (comma delimited)" and choose that file'],
      ['after.csv', Buffer.from(`${HEADER.join(',')}\n${good}\n"C1"x,${good.slice(good.indexOf(',') + 1)}\n`), '3 | — | — | text after a closing quote ("C1"x): put the whole value in quotes, with any quote inside it doubled'],
      ['open.csv', Buffer.from(`${HEADER.join(',')}\n"a\nb","Female,${good.slice(good.indexOf(',') + 1)}\n${good}\n`), '3 | — | — | a quote (") opened on line 3 is never closed: it takes in every line after it'],
    ];
    for (const [name, bytes, problem] of cases) {
      await choose(page, bytes, name);
      await poll(() => problems(page), 10_000).toEqual([problem]);
      expect(await status(page), name).toMatch(new RegExp(`^${name.replace('.', '\\.')} (has 1 problem|cannot be read): nothing was sent`));
    }
    expect(sent).toEqual([]);
  });

  it('says which line alone is over BODY_LIMIT_BYTES and sends nothing, and says the gateway could not be reached once it is gone', async () => {
    const limit = 1536;
    const tight = await startTestGateway({ UI_DIR: uiDir, BODY_LIMIT_BYTES: String(limit) });
    let closed = false;
    try {
      const { page, sent } = await open(tight.url);
      const list = customers(3);
      // 256 characters (the most an id may have), 4 bytes each in UTF-8: with the rest of the customer, over 1,536 bytes.
      list[1] = { ...(list[1] as CustomerInput), customerId: '😀'.repeat(256) };
      await choose(page, csvText([HEADER, ...list.map(rowOf)]));
      await poll(() => status(page)).toBe('customers.csv was not scored: see the message below.');
      expect(await page.locator('#batch-output .problem').textContent()).toBe(`The file was not scored: line 3's customer alone makes a request larger than this gateway reads (BODY_LIMIT_BYTES, ${limit} bytes)`);
      // The page's own words: there is no gateway's message to show beside them.
      expect(await page.locator('#batch-output details.gateway-wording').count()).toBe(0);
      expect(sent).toEqual([]);

      await tight.close();
      closed = true;
      await choose(page, csvText([HEADER, ...customers(3).map(rowOf)]));
      await poll(() => status(page)).toBe('customers.csv was not scored: see the message below.');
      expect(await page.locator('#batch-output .problem').textContent()).toMatch(/^The file was not scored: The gateway could not be reached \(.+\)\.$/);
      expect(await page.locator('#batch-output details.gateway-wording').count()).toBe(0);
      expect(await page.getByTestId('results').count()).toBe(0);
      // The refused connection is the browser's console error here, and the point of the test.
      const errors = (tab as TestPage).consoleErrors;
      expect(errors.filter((e) => !/ERR_CONNECTION_REFUSED/.test(e))).toEqual([]);
      errors.length = 0;
    } finally {
      if (!closed) await tight.close();
    }
  });

  it('lists the first 100 of more problems the gateway finds, and says how many, in one request and across requests', async () => {
    const rows = customers(150).map(rowOf);
    // Every customer breaks a cross-field rule: no phone service, but a multiple-lines answer.
    for (const row of rows) {
      row[HEADER.indexOf('PhoneService')] = 'No';
      row[HEADER.indexOf('MultipleLines')] = 'No';
    }
    // The columns in an order of the file's own, the id last: each problem's value is read from its column.
    const columns = [...HEADER.slice(1).reverse(), 'customerID'];
    const file = csvText([columns, ...rows.map((row) => columns.map((column) => row[HEADER.indexOf(column)] as string))]);
    for (const [target, requests] of [
      [gateway, [150]],
      [small, [50, 50, 50]],
    ] as const) {
      if (tab) await tab.close();
      const { page, sent } = await open(target.url);
      await choose(page, file);
      await poll(() => status(page)).toBe('The gateway refused customers.csv: 150 problems; no results are shown. Fix the file and choose it again.');
      expect(sent.map((s) => s.rows)).toEqual(requests);
      expect(await page.getByTestId('problem-summary').textContent()).toBe('The gateway refused customers.csv: 150 problems; the first 100 are listed. No results are shown; fix the file and choose it again.');
      const listed = await problems(page);
      expect(listed.map((l) => l.split(' | ').slice(0, 3).join(' | '))).toEqual(rows.slice(0, 100).map((_, i) => `${i + 2} | MultipleLines | "No"`));
      expect(listed[99]).toMatch(/ \| Multiple lines must be "No phone service" exactly when Phone service is "No"/);
    }
  });

  it('shows the file chosen last: an earlier file’s answer arriving after it is dropped', async () => {
    const { page, sent } = await open(gateway.url);
    // The first file's answer is held until the second file is scored.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let answered = 0;
    const firstDone = new Promise<void>((resolve) => {
      void page.route('**/graphql', async (route) => {
        const response = await route.fetch();
        if (++answered === 1) {
          await held;
          await route.fulfill({ response });
          resolve();
        } else {
          await route.fulfill({ response });
        }
      });
    });
    await choose(page, csvText([HEADER, ...customers(30, 'A').map(rowOf)]), 'first.csv');
    await poll(() => sent.length).toBe(1);
    await choose(page, csvText([HEADER, ...customers(5, 'B').map(rowOf)]), 'second.csv');
    await poll(() => status(page)).toMatch(/^Scored 5 customers from second\.csv/);
    const said = await status(page);
    release();
    await firstDone;
    // Time for the page to read the late answer (a JSON body of 30 predictions) and to drop it.
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 250)));
    expect(await status(page)).toBe(said);
    expect(await page.getByTestId('summary-file').textContent()).toBe('second.csv');
    expect(await page.getByTestId('ranked').locator('tbody th').allTextContents()).toHaveLength(5);
  });
  it('stops scoring a file once another is chosen or Cancel is pressed: its request in flight is aborted and none of its other requests is sent', async () => {
    const { page, sent } = await open(small.url);
    const aborted: string[] = [];
    page.on('requestfailed', (r) => {
      if (r.url().endsWith('/graphql')) aborted.push(r.failure()?.errorText ?? '');
    });
    // 200 rows: 4 requests of MAX_BATCH 50, the first held at the gateway until the end.
    const held = holdRuns(small, 50);
    try {
      await choose(page, csvText([HEADER, ...customers(200, 'A').map(rowOf)]), 'first.csv');
      await poll(() => held.started()).toBe(1);
      expect(await page.getByTestId('cancel').textContent()).toBe('Cancel scoring first.csv');
      await choose(page, csvText([HEADER, ...customers(5, 'B').map(rowOf)]), 'second.csv');
      await poll(() => status(page)).toMatch(/^Scored 5 customers from second\.csv/);
      await poll(() => aborted).toEqual(['net::ERR_ABORTED']);
      expect(await page.getByTestId('cancel').isHidden()).toBe(true);

      // Cancel, pressed while the file's first request is in flight.
      await choose(page, csvText([HEADER, ...customers(200, 'A').map(rowOf)]), 'first.csv');
      await poll(() => held.started()).toBe(2);
      await page.getByTestId('cancel').click();
      expect(await status(page)).toBe('Scoring first.csv was cancelled: nothing is shown. Choose a file to score.');
      expect(await page.locator('#batch-output').textContent()).toBe('');
      expect(await page.getByTestId('cancel').isHidden()).toBe(true);
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('batch-file');
      await poll(() => aborted).toHaveLength(2);
    } finally {
      held.restore();
    }
    // The abandoned files' held requests are answered now: the page sends none of their others.
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 1_000)));
    expect(sent.map((s) => s.rows)).toEqual([50, 5, 50]);
    expect(await status(page)).toBe('Scoring first.csv was cancelled: nothing is shown. Choose a file to score.');
  });

  it('scores a file whose answer comes down a slow link for longer than the page waits, as long as it keeps arriving; and gives up on one that stops', async () => {
    // REQUEST_TIMEOUT_MS 1 s: the page waits 6 s for an answer.
    const quick = await startTestGateway({ UI_DIR: uiDir, REQUEST_TIMEOUT_MS: '1000' });
    /** How the proxy passes ScoreFile's answer on: in 16 pieces, one each 500 ms (8 s in all); or its first piece only. */
    let link: 'slow' | 'stalled' = 'slow';
    // In front of the real gateway, as a slow link between the browser and it: everything passes through, ScoreFile's answer slowly.
    const proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const forwarded = httpRequest(`${quick.url}${req.url ?? '/'}`, { method: req.method, headers: { ...req.headers, host: new URL(quick.url).host } }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          if (!body.includes('"ScoreFile"')) return void answer.pipe(res);
          const parts: Buffer[] = [];
          answer.on('data', (c: Buffer) => parts.push(c));
          answer.on('end', () => {
            const whole = Buffer.concat(parts);
            const size = Math.ceil(whole.length / 16);
            let at = 0;
            const next = () => {
              if (res.destroyed) return;
              res.write(whole.subarray(at, at + size));
              at += size;
              if (link === 'stalled') return void setTimeout(() => res.destroy(), 10_000);
              if (at < whole.length) setTimeout(next, 500);
              else res.end();
            };
            next();
          });
        });
        forwarded.end(body);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    try {
      const { page } = await open(origin);
      const started = Date.now();
      await choose(page, csvText([HEADER, ...customers(20).map(rowOf)]));
      await poll(() => status(page), 30_000).toMatch(/^Scored 20 customers from customers\.csv/);
      expect(Date.now() - started).toBeGreaterThan(7_500);

      link = 'stalled';
      await choose(page, csvText([HEADER, ...customers(20).map(rowOf)]));
      await poll(() => status(page), 30_000).toBe('customers.csv was not scored: see the message below.');
      expect(await page.locator('#batch-output .problem').textContent()).toBe('The file was not scored: The gateway did not answer within 6 s: the connection may have been lost. Try again.');
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
      await quick.close();
    }
  });

  /**
   * The file of `rows` customers ends scored, after at least one request sent again: the page's
   * requests (`pageRequest` log lines from the browser's user agent) refused 503 first, then
   * answered 200; no console error but the refused loads'.
   */
  async function scoredAfterRefusal(page: Page, gw: TestGateway, sent: readonly unknown[], rows: number, pageRequest: (line: Record<string, unknown>) => boolean) {
    await poll(() => status(page)).toMatch(new RegExp(`^Scored ${rows} customers from customers\\.csv`));
    expect(sent.length).toBeGreaterThanOrEqual(2);
    const answered = gw.logs.filter((l) => pageRequest(l) && /Chrome/.test(String(l['userAgent']))).map((l) => l['status']);
    expect(answered[0]).toBe(503);
    expect(answered.at(-1)).toBe(200);
    const errors = (tab as TestPage).consoleErrors;
    expect(errors.filter((e) => !/status of 503/.test(e))).toEqual([]);
    errors.length = 0;
  }

  it('sends a request again after Retry-After while the gateway is busy explaining another file (503 OVERLOADED), saying so, and scores the file', async () => {
    // MAX_BATCH 100: one request of 100 rows holds the whole budget of risk drivers; 100 rows is past the 64 never refused.
    const busy = await startTestGateway({ UI_DIR: uiDir, MAX_BATCH: '100' });
    const held = holdRuns(busy, 100);
    try {
      const { page, sent } = await open(busy.url);
      // Another analyst's file, scoring.
      const other = gql(busy.url, ScoreFileDocument, { customers: customers(100, 'O') });
      await poll(() => held.started()).toBe(1);
      await choose(page, csvText([HEADER, ...customers(100).map(rowOf)]));
      await poll(() => status(page)).toBe('The gateway is busy with other requests: trying again in 1 second…');
      expect(await page.locator('#batch-output').textContent()).toBe('');
      held.restore();
      expect((await other).status).toBe(200);
      await scoredAfterRefusal(page, busy, sent, 100, (l) => l['operation'] === 'ScoreFile');
    } finally {
      held.restore();
      await busy.close();
    }
  });

  it('sends a request again after Retry-After while other uploads fill the budget of request bodies (503 OVERLOADED, problem details), saying so, and scores the file', async () => {
    // One request of the page's 300 rows (~140 KB) is past the first 64 KiB never refused; another upload holds the rest of the budget.
    const limit = 200_000;
    const busy = await startTestGateway({ UI_DIR: uiDir, BODY_LIMIT_BYTES: String(limit), MAX_BODY_BYTES_IN_FLIGHT: String(limit) });
    const upload = connect(Number(new URL(busy.url).port), '127.0.0.1');
    upload.on('error', () => undefined);
    try {
      const { page, sent } = await open(busy.url);
      // Another client's upload, still arriving: all but its last byte (its first 64 KiB held apart, not counted in the budget).
      upload.write(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${limit}\r\n\r\n${' '.repeat(limit - 1)}`);
      await poll(async () => /gateway_request_body_bytes_in_flight (\d+)/.exec(await (await fetch(`${busy.url}/metrics`)).text())?.[1]).toBe(String(limit - 1 - 64 * 1024));
      await choose(page, csvText([HEADER, ...customers(300).map(rowOf)]));
      await poll(() => status(page)).toBe('The gateway is busy with other requests: trying again in 1 second…');
      expect(await page.locator('#batch-output').textContent()).toBe('');
      upload.destroy();
      // Refused before GraphQL read it: its log line names the route, not the operation.
      await scoredAfterRefusal(page, busy, sent, 300, (l) => l['route'] === 'graphql');
    } finally {
      upload.destroy();
      await busy.close();
    }
  });

  it(`sends a request again while the gateway is still starting (503 MODEL_NOT_READY), and says so in the analyst's words, without a request id, after ${MAX_PASSING_WAIT_MS / 1000} s of it`, async () => {
    const { page, sent } = await open(gateway.url);
    const notReady = () =>
      Object.defineProperty(gateway.slot, 'current', {
        configurable: true,
        get: () => {
          throw new NotReadyError();
        },
      });
    notReady();
    try {
      await choose(page, csvText([HEADER, ...customers(3).map(rowOf)]));
      await poll(() => status(page)).toBe('The gateway is still starting: trying again in 1 second…');
    } finally {
      Reflect.deleteProperty(gateway.slot, 'current');
    }
    await poll(() => status(page)).toMatch(/^Scored 3 customers from customers\.csv/);
    expect(sent.length).toBeGreaterThanOrEqual(2);

    // Still starting after the longest wait: the file is not scored, with nothing to quote to support.
    sent.length = 0;
    notReady();
    try {
      await choose(page, csvText([HEADER, ...customers(3).map(rowOf)]));
      await poll(() => status(page), MAX_PASSING_WAIT_MS + 15_000).toBe('customers.csv was not scored: see the message below.');
    } finally {
      Reflect.deleteProperty(gateway.slot, 'current');
    }
    expect(await page.locator('#batch-output .problem').textContent()).toBe(
      `The file was not scored: the gateway is still starting: its model is not loaded yet, after ${MAX_PASSING_WAIT_MS / 1000} s of trying again. Choose the file again in a minute.`,
    );
    expect(await page.locator('#batch-output .request-id').count()).toBe(0);
    expect(await page.locator('#batch-output details.gateway-wording code').textContent()).toBe('the gateway is still starting: its model is not loaded yet; repeat the request in a few seconds');
    // Every second (Retry-After: 1), for as long as the page waits in all.
    expect(sent).toHaveLength(MAX_PASSING_WAIT_MS / 1000 + 1);
    const errors = (tab as TestPage).consoleErrors;
    expect(errors.filter((e) => !/status of 503/.test(e))).toEqual([]);
    errors.length = 0;
  }, MAX_PASSING_WAIT_MS + 60_000);
});
