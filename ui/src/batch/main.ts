/**
 * Entry point of /ui/batch, "Score a file": a customer file (CSV, the IBM Telco columns) is read
 * and checked in this browser, scored through the ScoreFile operation (predictBatch with each
 * customer's risk drivers), and shown ranked by churn probability with each customer's main
 * reasons and, for those likely to churn, the best of the form's offers (RetentionOffers), with
 * the scored file to download. Bundled by ui/src/build.ts.
 *
 * Nothing is sent before the whole file is checked; the file goes nowhere but this gateway's
 * /graphql. The table shows the first ROWS_SHOWN customers and more on request: the ranked list
 * of a 7,043-row file is 42,000 cells, which a screen reader's table navigation and a phone
 * handle badly and nobody reads whole; the download has every row.
 */
import { MAX_LISTED_ISSUES } from '../../../src/contract.js';
import { byId, h } from '../app/dom.js';
import { agreeingDigits, gatewayWording, percent, renderMessage, RISK_LABEL, RUN_ID_TERM, runIdCode } from '../app/panels.js';
import { offerText } from '../app/retention-offers.js';
import { pageLimits, type Limits } from '../app/request-split.js';
import { driverInFormWords, raisingDrivers, REASON_MIN_CONTRIBUTION, REASONS_SHOWN } from '../app/risk-drivers.js';
import { checkCustomerFile, decodeFile, LABEL_COLUMN, quoted, REQUIRED_COLUMNS, type CustomerFile, type FileProblem, type FileRow } from './customer-file.js';
import { formulaLikeCells, SCORE_COLUMNS, scoredCsv, scoredFileName, type OffersByRow } from './download.js';
import { MAX_ATTEMPTS, scoreBestOffers, scoreFile, type KeepingContractOffer, type OffersResult, type Prediction, type RowOffer, type Waiting } from './scoring.js';

/** A reasons cell when no value raises the risk by REASON_MIN_CONTRIBUTION. */
const NO_REASON = `None: no value raises the risk by ${REASON_MIN_CONTRIBUTION} log-odds or more`;

/** The ranked table's column of each customer's main reasons. */
const REASONS_HEADER = 'Main reasons (raise the risk)';

/** Rows of the ranked table shown at first, and added by "Show more". */
const ROWS_SHOWN = 200;

const root = byId('batch-root');
const status = byId('batch-status');
const output = byId('batch-output');

const count = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, one: string, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;

/** Lets the page paint (the status line) before a long step. */
const breathe = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Each file chosen starts a run; a run's late answers are dropped once another file is chosen. */
let run = 0;

/**
 * The run scoring now, aborted when another file is chosen or Cancel is pressed: its request in
 * flight is aborted and no more of its requests are sent, so an abandoned file (a 70,000-row one
 * holds the gateway's risk-driver budget for 20 s) does not get the file chosen after it refused.
 */
let scoring: { readonly controller: AbortController; readonly name: string } | null = null;

/** Shown while a file is being scored: stops it. */
const cancelButton = h('button', { type: 'button', class: 'secondary', hidden: true, 'data-testid': 'cancel' }, 'Cancel scoring');

/** While the gateway is busy or starting, what the page does about it, in the analyst's words. */
const waitingWords = (w: Waiting) =>
  `${w.why === 'busy' ? 'The gateway is busy with other requests' : 'The gateway is still starting'}: trying again in ${plural(w.seconds, 'second')}`;

/** Said after everything the status line says of a run: the files of a drop that are not scored (several dropped at once). */
let notScored = '';

function say(text: string): void {
  status.textContent = `${text}${notScored}`;
}

/** "a", "a and b", "a, b and c". */
const listed = (names: readonly string[]) => (names.length < 2 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1) ?? ''}`);

const labelNote = (file: { hasLabel: boolean }) =>
  file.hasLabel ? h('p', { class: 'notice', role: 'note', 'data-testid': 'label-note' }, `The file's ${LABEL_COLUMN} column is not used for scoring (the model predicts it); it is kept unchanged in the download.`) : '';

/** Column names, each in <code> (where a long one may break, on a narrow screen), between `separator`s. */
const columnNames = (names: readonly string[], separator: string): (Node | string)[] => names.flatMap((name, i) => [...(i > 0 ? [separator] : []), h('code', {}, name)]);

/** Once, for a file this page scored before (its download, chosen again): its scoring columns are replaced, not read. */
const earlierScoresNote = (file: { earlierScores: boolean }) =>
  file.earlierScores
    ? h(
        'p',
        { class: 'notice', role: 'note', 'data-testid': 'earlier-scores-note' },
        `This file was scored before: it ends with the ${SCORE_COLUMNS.length} columns this page adds, `,
        ...columnNames([SCORE_COLUMNS[0], ...SCORE_COLUMNS.slice(-1)], ' to '),
        '. Those earlier scores are not used, and the download has the new scores in their place.',
      )
    : '';

/** What the file has that the page leaves alone: the Churn column, an earlier download's scores. */
type FileNotes = { readonly hasLabel: boolean; readonly earlierScores: boolean };

function renderProblems(fileName: string, problems: readonly FileProblem[], total: number, notes: FileNotes, by: 'page' | 'gateway'): void {
  const shown = `${plural(total, 'problem')}${problems.length < total ? `; the first ${count(problems.length)} are listed` : ''}`;
  output.replaceChildren(
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'problems-title', 'data-testid': 'problems' },
      h('h2', { id: 'problems-title' }, 'Problems in the file'),
      h(
        'p',
        { 'data-testid': 'problem-summary' },
        by === 'gateway'
          ? `The gateway refused ${fileName}: ${shown}. No results are shown; fix the file and choose it again.`
          : `${fileName} has ${shown}. Nothing was sent or scored; fix the file and choose it again.`,
      ),
      labelNote(notes),
      earlierScoresNote(notes),
      h(
        'table',
        { class: 'data problems' },
        h('caption', {}, problems.length < total ? `Problems, the first ${count(problems.length)} (at most ${MAX_LISTED_ISSUES} are listed)` : 'Problems'),
        h('thead', {}, h('tr', {}, ...['Line', 'Column', 'Value', 'Problem'].map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          {},
          ...problems.map((p) =>
            h(
              'tr',
              {},
              h('td', { class: 'num' }, p.line === null ? '—' : String(p.line)),
              h('td', { class: 'column' }, p.column === null ? '—' : h('code', {}, p.column === '' ? '(no name)' : p.column)),
              h('td', { class: 'value' }, p.value === null ? '—' : h('code', {}, quoted(p.value))),
              h('td', {}, p.message, p.original ? gatewayWording(p.original) : ''),
            ),
          ),
        ),
      ),
    ),
  );
}

interface Ranked {
  readonly row: FileRow;
  readonly id: string;
  readonly p: Prediction;
  /** Undefined when the offers could not be scored. */
  readonly best: RowOffer | undefined;
  readonly keepingContract: KeepingContractOffer | undefined;
}

/** The ranked rows: highest probability first, the file's order among equals. */
function ranked(file: CustomerFile, predictions: readonly Prediction[], offers: OffersByRow | null): Ranked[] {
  return file.rows
    .map((row, i) => ({ row, id: row.customer.customerId ?? '', p: predictions[i] as Prediction, best: offers?.best[i], keepingContract: offers?.keepingContract[i] }))
    .sort((a, b) => b.p.churnProbability - a.p.churnProbability);
}

/** The ranked table's columns of each customer's best offer, and of the best that keeps the contract. */
const OFFER_HEADER = 'Best offer (the model’s score with it)';
const KEEPING_CONTRACT_HEADER = 'Best offer keeping the contract';

/** A customer's best offer (of either column) in the form's words with its score; why there is none otherwise. */
function offerCellOf(offer: RowOffer | KeepingContractOffer | undefined, p: Prediction, className: string): HTMLTableCellElement {
  const cell = (text: string) => h('td', { class: className }, text);
  if (offer === undefined || offer === null) return cell('—');
  if (offer === 'none-lowers') return cell('None lowers the score by a percentage point');
  if (offer === 'nothing-to-try') return cell('Nothing to try: already has every offer that applies');
  if (offer === 'only-contract') return cell('Nothing to try but a longer contract');
  if (offer === 'none-keeping-lowers') return cell('None keeping the contract lowers the score by a percentage point');
  const { churnProbability: q, willChurn } = offer;
  const digits = agreeingDigits(q, p.threshold, willChurn) ?? 1;
  return cell(`${offerText(offer.offer)}, scored ${(q * 100).toFixed(digits)}%${willChurn ? '' : ', under the threshold'}`);
}

/** What the best offers are and what they are not; or why there are none. */
function offersNote(offers: OffersResult): HTMLElement {
  const columns = SCORE_COLUMNS.filter((c) => c.startsWith('best_offer'));
  const offerNames = columns.filter((c) => !c.endsWith('_churn_probability'));
  if (offers.kind === 'failed') {
    return h(
      'div',
      { class: 'notice', role: 'note', 'data-testid': 'offers-note' },
      h('p', {}, `No best offers: ${offers.message.replace(/\.$/, '')}. The scores stand; the download says “(offers not scored)” in `, ...columnNames(offerNames, ' and '), ' for each customer likely to churn.'),
      offers.requestId ? h('p', { class: 'request-id' }, 'Request id: ', h('code', {}, offers.requestId)) : '',
    );
  }
  const alreadyAll = offers.nothingToTry > 0 ? ` ${plural(offers.nothingToTry, 'customer')} likely to churn already ${offers.nothingToTry === 1 ? 'has' : 'have'} every offer that applies.` : '';
  if (offers.offers === 0) {
    return h('p', { class: 'muted', 'data-testid': 'offers-note' }, `No best offers: ${offers.nothingToTry === 0 ? 'no customer in the file is likely to churn.' : `nothing to try.${alreadyAll}`}`);
  }
  return h(
    'p',
    { class: 'muted', 'data-testid': 'offers-note' },
    `Best offer, for each customer likely to churn: of the form’s offers (a longer contract, automatic payment for a customer paying by check, a protective add-on included), the one the model scores lowest, among those that lower the score by a percentage point or more or take it under the threshold; everything else as it is, the charges too. ` +
      `Best offer keeping the contract: the same among the offers that leave the customer’s contract as it is, for a customer who will not sign a longer one. ` +
      `The model learned from customers who had these, not from customers moved to them: a lower score says where a conversation may pay off, not what an offer will do. ` +
      `${plural(offers.offers, 'offer')} for ${plural(offers.customers, 'customer')} scored; the download has them as `,
    ...columnNames(columns, ', '),
    `.${alreadyAll}`,
  );
}

/** A customer's main reasons, in the form's words with the customer's value: the drivers that raise the risk most (by REASON_MIN_CONTRIBUTION or more). */
function reasonsCell(entry: Ranked): HTMLTableCellElement {
  const { explanation } = entry.p;
  if (explanation === null) return h('td', { class: 'reasons' }, '—');
  const reasons = raisingDrivers(explanation.drivers);
  if (reasons.length === 0) return h('td', { class: 'reasons' }, NO_REASON);
  return h(
    'td',
    { class: 'reasons' },
    h(
      'ul',
      {},
      ...reasons.map((d) => {
        const { label, value } = driverInFormWords(d, entry.row.customer);
        return h('li', {}, `${label}: ${value}`);
      }),
    ),
  );
}

/** What the reasons are, or that the model has none to give (a model version without an explainer). */
function reasonsNote(predictions: readonly Prediction[], modelVersion: string): HTMLElement {
  const columns = SCORE_COLUMNS.filter((c) => c.startsWith('risk_driver_'));
  if (predictions.some((p) => p.explanation === null)) {
    return h(
      'p',
      { class: 'notice', role: 'note', 'data-testid': 'no-explainer' },
      `Model version ${modelVersion} carries no explainer: no main reasons are shown, and the download’s `,
      ...columnNames(columns, ', '),
      ' columns are empty.',
    );
  }
  return h(
    'p',
    { class: 'muted', 'data-testid': 'reasons-note' },
    `Main reasons: the customer’s values that raise the risk most (up to ${REASONS_SHOWN}, each by at least ${REASON_MIN_CONTRIBUTION} log-odds, about one percentage point of probability near 50 %), as the model accounts for its own score; the download has them as `,
    ...columnNames(columns, ', '),
    '.',
  );
}

function rankRow(rank: number, entry: Ranked): HTMLTableRowElement {
  const { churnProbability: p, threshold, willChurn, riskLevel } = entry.p;
  const digits = agreeingDigits(p, threshold, willChurn);
  return h(
    'tr',
    { 'data-risk': riskLevel },
    h('td', { class: 'num' }, String(rank)),
    h('th', { scope: 'row', class: 'id' }, entry.id),
    h('td', { class: 'num', 'data-testid': 'row-probability' }, `${(p * 100).toFixed(digits ?? 1)}%`),
    h('td', {}, h('span', { class: `risk risk-${riskLevel.toLowerCase()}` }, RISK_LABEL[riskLevel])),
    h('td', {}, willChurn ? 'Likely to churn' : 'Not likely to churn'),
    reasonsCell(entry),
    offerCellOf(entry.best, entry.p, 'best-offer'),
    offerCellOf(entry.keepingContract, entry.p, 'best-offer-keeping-contract'),
    h('td', { class: 'num' }, String(entry.row.line)),
  );
}

function download(text: string, name: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const link = h('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has the file once the click is handled; the URL is let go after.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function renderScored(
  fileName: string,
  file: CustomerFile,
  result: { predictions: readonly Prediction[]; modelVersion: string; modelRunId: string; threshold: number; requests: number },
  offers: OffersResult,
  limits: Limits,
): void {
  const { predictions, modelVersion, modelRunId, threshold, requests } = result;
  const byRow = offers.kind === 'scored' ? offers : null;
  const bands = { HIGH: 0, MEDIUM: 0, LOW: 0 };
  for (const p of predictions) bands[p.riskLevel]++;
  const order = ranked(file, predictions, byRow);
  const formulas = formulaLikeCells(file);

  const body = h('tbody', {});
  // Above the box the table scrolls in (a <caption> would scroll away with it on a phone); the table's name.
  const caption = h('p', { class: 'table-caption', id: 'ranked-caption', 'data-testid': 'ranked-caption' });
  const table = h('table', { class: 'data ranked', tabindex: '-1', 'aria-labelledby': 'ranked-caption', 'data-testid': 'ranked' }, h('thead', {}, h('tr', {}, ...['Rank', 'Customer ID', 'Churn probability', 'Risk level', 'Decision', REASONS_HEADER, OFFER_HEADER, KEEPING_CONTRACT_HEADER, 'Line'].map((c) => h('th', { scope: 'col' }, c)))), body);
  const more = h('button', { type: 'button', class: 'secondary' });
  let shown = 0;
  const showMore = () => {
    const until = Math.min(order.length, shown + ROWS_SHOWN);
    const rows: HTMLTableRowElement[] = [];
    for (let i = shown; i < until; i++) rows.push(rankRow(i + 1, order[i] as (typeof order)[number]));
    body.append(...rows);
    shown = until;
    caption.textContent = `Customers by churn probability, highest first: ${shown === order.length ? `all ${count(order.length)}` : `the first ${count(shown)} of ${count(order.length)}`}`;
    const left = order.length - shown;
    more.textContent = `Show ${count(Math.min(ROWS_SHOWN, left))} more`;
    more.hidden = left === 0;
  };
  more.addEventListener('click', () => {
    showMore();
    say(`Showing ${count(shown)} of ${count(order.length)} customers.`);
    // The button is gone once every row is shown: focus goes to the table rather than the page's top.
    if (more.hidden) table.focus();
  });
  showMore();

  // The table scrolls sideways within this box on a narrow screen: a tab stop then, so a keyboard can scroll it.
  const wrap = h('div', { class: 'table-wrap', role: 'region', 'aria-labelledby': 'ranked-caption' }, table);
  const fit = () => {
    if (wrap.scrollWidth > wrap.clientWidth) wrap.setAttribute('tabindex', '0');
    else wrap.removeAttribute('tabindex');
  };
  new ResizeObserver(fit).observe(wrap);

  // The model by its version and its run, as the form's model panel names it and the download's model_version and model_run_id do.
  const facts: [term: string, value: string | Node][] = [
    ['File', fileName],
    ['Customers scored', count(predictions.length)],
    ['High risk', count(bands.HIGH)],
    ['Medium risk', count(bands.MEDIUM)],
    ['Low risk', count(bands.LOW)],
    ['Threshold', percent(threshold)],
    ['Model version', modelVersion],
    [RUN_ID_TERM, runIdCode(modelRunId)],
    ['Requests', requests === 1 ? 'one predictBatch request' : `${count(requests)} predictBatch requests (at most ${count(limits.maxBatch)} customers and ${count(limits.bodyLimitBytes)} bytes each), all answered by model version ${modelVersion}`],
  ];

  const downloadButton = h('button', { type: 'button', class: 'primary', 'data-testid': 'download' }, 'Download the scored file (CSV)');
  downloadButton.addEventListener('click', () => download(scoredCsv(file, predictions, byRow), scoredFileName(fileName, { version: modelVersion, runId: modelRunId }, file.earlierScores)));

  output.replaceChildren(
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'results-title', 'data-testid': 'results' },
      h('h2', { id: 'results-title' }, 'Scored customers'),
      h(
        'dl',
        { class: 'facts', 'data-testid': 'summary' },
        ...facts.flatMap(([term, value]) => [h('dt', {}, term), h('dd', { 'data-testid': `summary-${term.toLowerCase().replaceAll(' ', '-')}` }, value)]),
      ),
      labelNote(file),
      earlierScoresNote(file),
      reasonsNote(predictions, modelVersion),
      offersNote(offers),
      formulas.first
        ? h(
            'p',
            { class: 'notice', role: 'note', 'data-testid': 'formula-note' },
            `${plural(formulas.count, 'value')} in the file ${formulas.count === 1 ? 'begins' : 'begin'} with =, +, -, @ or a tab (the first: line ${formulas.first.line}, ${formulas.first.column} ${quoted(formulas.first.value)}). ` +
              'A spreadsheet may run such a value as a formula: the download keeps every value as written, so import those columns as text.',
          )
        : '',
      h('div', { class: 'actions' }, downloadButton),
      caption,
      wrap,
      h('div', { class: 'actions' }, more),
    ),
  );
  // At once, not only at the observer's next frame: the page is usable as soon as it says it is scored.
  fit();
}

async function scoreChosen(chosen: File): Promise<void> {
  const mine = ++run;
  scoring?.controller.abort();
  cancelButton.hidden = true;
  const name = chosen.name;
  const controller = new AbortController();
  scoring = { controller, name };
  const cancel = controller.signal;
  output.replaceChildren();
  const limits = pageLimits();
  if (!limits) {
    renderMessage(output, 'This page does not state the gateway’s limits (MAX_BATCH, BODY_LIMIT_BYTES): open it from the gateway at /ui/batch.', 'error');
    say('The file cannot be scored from this page.');
    return;
  }
  say(`Reading ${name}…`);
  await breathe();
  const bytes = new Uint8Array(await chosen.arrayBuffer());
  if (mine !== run) return;
  const decoded = decodeFile(bytes);
  if (!decoded.ok) {
    renderProblems(name, [decoded.problem], 1, { hasLabel: false, earlierScores: false }, 'page');
    say(`${name} cannot be read: nothing was sent. See the problem below.`);
    return;
  }
  const checked = checkCustomerFile(decoded.text, decoded.byteOrderMark);
  if (!checked.ok) {
    renderProblems(name, checked.problems.listed, checked.problems.count, checked, 'page');
    say(`${name} has ${plural(checked.problems.count, 'problem')}: nothing was sent. Fix the file and choose it again.`);
    return;
  }
  const { file } = checked;
  cancelButton.hidden = false;
  cancelButton.textContent = `Cancel scoring ${name}`;
  try {
    await scoreChecked(name, file, limits, mine, cancel);
  } finally {
    if (mine === run) {
      // Gone: the keyboard's place goes to the chooser, not to the page's top.
      if (document.activeElement === cancelButton) input.focus();
      cancelButton.hidden = true;
    }
  }
}

async function scoreChecked(name: string, file: CustomerFile, limits: Limits, mine: number, cancel: AbortSignal): Promise<void> {
  const rows = file.rows.length;
  const result = await scoreFile(
    file,
    limits,
    (p) => {
      if (mine !== run) return;
      const again = p.modelChanged ? `The model changed from version ${p.modelChanged.from} to ${p.modelChanged.to} while the file was being scored: scoring all of it again with one model. ` : '';
      const request = p.requests > 1 ? ` (request ${p.request} of ${p.requests})` : '';
      if (p.waiting) say(`${again}${waitingWords(p.waiting)}${request}…`);
      else say(`${again}Scoring ${plural(rows, 'customer')}${p.requests > 1 ? `: request ${p.request} of ${p.requests}` : ''}…`);
    },
    cancel,
  );
  if (mine !== run || result.kind === 'cancelled') return;
  switch (result.kind) {
    case 'refused':
      renderProblems(name, result.problems, result.count, file, 'gateway');
      say(`The gateway refused ${name}: ${plural(result.count, 'problem')}; no results are shown. Fix the file and choose it again.`);
      return;
    case 'failed':
      // The gateway's own words only where it sent some and the page reworded them.
      renderMessage(output, `The file was not scored: ${result.message}`, 'error', { ...(result.original !== undefined && result.original !== result.message ? { original: result.original } : {}), requestId: result.requestId });
      say(`${name} was not scored: see the message below.`);
      return;
    case 'unsettled':
      renderMessage(output, `The model changed while the file was being scored, in each of ${MAX_ATTEMPTS} attempts (versions ${result.versions.join(', ')}): nothing is shown, since one file is scored by one model. Choose the file again once the promotion is over.`, 'error');
      say(`${name} was not scored: the model kept changing.`);
      return;
    case 'scored': {
      const offers = await scoreBestOffers(
        file,
        result.predictions,
        limits,
        (request, requests, waiting) => {
          if (mine !== run) return;
          if (waiting) say(`${waitingWords(waiting)} to score the offers${requests > 1 ? ` (request ${request} of ${requests})` : ''}…`);
          else say(`Scoring the offers for the customers likely to churn${requests > 1 ? `: request ${request} of ${requests}` : ''}…`);
        },
        cancel,
      );
      if (mine !== run || offers.kind === 'cancelled') return;
      renderScored(name, file, result, offers, limits);
      const bands = { HIGH: 0, MEDIUM: 0, LOW: 0 };
      for (const p of result.predictions) bands[p.riskLevel]++;
      const again = result.attempts > 1 ? ' (scored again after the model changed)' : '';
      say(`Scored ${plural(rows, 'customer')} from ${name} with model version ${result.modelVersion}${again}: ${count(bands.HIGH)} high, ${count(bands.MEDIUM)} medium, ${count(bands.LOW)} low risk.`);
      return;
    }
  }
}

function start(files: FileList | null | undefined): void {
  const chosen = files?.[0];
  if (!chosen) return;
  // Several files dropped at once: the first is scored, and the status line names the others all along.
  const others = [...(files ?? [])].slice(1).map((f) => f.name);
  notScored = others.length === 0 ? '' : ` Only ${chosen.name} is scored (one file at a time), not ${listed(others)}: choose or drop ${others.length === 1 ? 'it' : 'each'} on its own.`;
  void scoreChosen(chosen).catch((err: unknown) => {
    renderMessage(output, `The file could not be read: ${(err as Error).message}`, 'error');
    say('The file could not be read.');
  });
}

const input = h('input', { type: 'file', id: 'batch-file', accept: '.csv,text/csv', 'aria-describedby': 'batch-file-hint' });
cancelButton.addEventListener('click', () => {
  if (!scoring) return;
  const { name } = scoring;
  run++;
  scoring.controller.abort();
  scoring = null;
  notScored = '';
  output.replaceChildren();
  input.focus();
  cancelButton.hidden = true;
  say(`Scoring ${name} was cancelled: nothing is shown. Choose a file to score.`);
});
input.addEventListener('change', () => {
  start(input.files);
  // The same file, fixed and chosen again, is a change too.
  input.value = '';
});
const zone = h(
  'div',
  { class: 'drop-zone', 'data-testid': 'drop-zone' },
  h('label', { for: 'batch-file' }, 'Customer file (CSV)'),
  input,
  h('p', { class: 'hint', id: 'batch-file-hint' }, 'Choose the file, or drop it here: one line per customer, with the training data’s columns. It is checked in this browser; the customers are sent only to this gateway.'),
  h(
    'details',
    { class: 'columns' },
    h('summary', {}, 'The columns a file needs'),
    h(
      'p',
      {},
      `${REQUIRED_COLUMNS.join(', ')}, with the data set’s values (“Month-to-month”, “No phone service”, SeniorCitizen 0 or 1, TotalCharges blank when not yet billed). A ${LABEL_COLUMN} column may be there; it is not used. ` +
        'A file this page scored may be chosen again as it was downloaded: its scoring columns are replaced by the new scores.',
    ),
  ),
);
zone.addEventListener('dragover', (event) => {
  event.preventDefault();
  zone.classList.add('over');
});
zone.addEventListener('dragleave', () => zone.classList.remove('over'));
zone.addEventListener('drop', (event) => {
  event.preventDefault();
  zone.classList.remove('over');
  start(event.dataTransfer?.files);
});
root.replaceChildren(zone);
// Under the status line that says how far the scoring is.
status.after(cancelButton);
