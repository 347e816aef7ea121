/**
 * The scored file a retention team downloads: every row of the file in its order, its cells
 * exactly as read (quoted per RFC 4180 where a value needs it), with the prediction's columns
 * after them. The added columns are named as the REST answer names its fields (snake_case);
 * model_run_id, which REST does not carry, is GraphQL's modelRunId so named.
 */
import { raisingDrivers, ratioOf, ratioValue, REASONS_SHOWN, type RiskDriver } from '../app/risk-drivers.js';
import { CUSTOMER_FIELDS } from '../../../src/contract.js';
import type { Offer } from '../app/retention-offers.js';
import { csvRecord } from './csv.js';
import { datasetSpellings, type CustomerFile, type FileRow } from './customer-file.js';
import type { KeepingContractOffer, OffersResult, Prediction, RowOffer } from './scoring.js';

/**
 * The columns added after the file's own: the scores and the model that made them, by its version
 * and its MLflow run (one model scores a file, so the same in every row; a version number alone can
 * name two models, and an auditor keeping the file ties it to the run), then the customer's main
 * reasons (the drivers that raise the risk most, as the page's table shows them), empty where fewer
 * drivers raise it, or all empty when the model carries no explainer; then, for a customer likely
 * to churn, the best offer and its score, and the best that keeps the contract and its score
 * (offerColumns), empty for the others.
 */
export const SCORE_COLUMNS = [
  'churn_probability',
  'will_churn',
  'risk_level',
  'threshold',
  'model_version',
  'model_run_id',
  ...Array.from({ length: REASONS_SHOWN }, (_, i) => `risk_driver_${i + 1}`),
  'best_offer',
  'best_offer_churn_probability',
  'best_offer_keeping_contract',
  'best_offer_keeping_contract_churn_probability',
] as const;

/** Each row's offers for the download, as scoreBestOffers scored them. */
export type OffersByRow = Pick<Extract<OffersResult, { kind: 'scored' }>, 'best' | 'keepingContract'>;

/**
 * A best offer as the download writes it, in the data set's names and spellings, as the reasons:
 * `Contract = Two year`, `OnlineSecurity = Yes`.
 */
export function offerCell(offer: Pick<Offer, 'field' | 'value'>): string {
  const column = CUSTOMER_FIELDS.find((f) => f.field === offer.field)?.column ?? offer.field;
  return `${column} = ${datasetSpellings(offer.field)?.[offer.value] ?? offer.value}`;
}

/**
 * A reason as the download writes it, in the data set's names and spellings (the file is joined
 * back to the CRM): `Contract = Month-to-month`, the cell as the file wrote it; a derived feature
 * by the model's name, `TotalCharges/tenure = 74.40`.
 */
export function reasonCell(file: CustomerFile, row: FileRow, d: RiskDriver): string {
  const cell = (column: string) => {
    const at = file.columnIndex.get(column);
    const value = at === undefined ? undefined : row.cells[at];
    return value === undefined ? '?' : value.trim() === '' ? '(not yet billed)' : value;
  };
  const ratio = ratioOf(d);
  if (ratio) return `${d.name} = ${ratioValue(row.customer, ratio, ratio[1])}`;
  if (d.fields.length === 1 && d.fields[0] === d.name) return `${d.name} = ${cell(d.name)}`;
  return `${d.name} = ${d.fields.map((c) => `${c} ${cell(c)}`).join(', ')}`;
}

/**
 * The file with its scores: CRLF line ends (RFC 4180), a UTF-8 byte order mark when the file had
 * one (Excel's "CSV UTF-8"). Numbers as the gateway sent them (every digit), the decision in the
 * data set's spelling of its Churn column (Yes/No).
 */
export function scoredCsv(file: CustomerFile, predictions: readonly Prediction[], offers: OffersByRow | null): string {
  const lines = [csvRecord([...file.header, ...SCORE_COLUMNS])];
  file.rows.forEach((row, i) => {
    const p = predictions[i] as Prediction;
    const reasons = p.explanation ? raisingDrivers(p.explanation.drivers).map((d) => reasonCell(file, row, d)) : [];
    const padded = Array.from({ length: REASONS_SHOWN }, (_, k) => reasons[k] ?? '');
    const notScored = p.willChurn ? 'not-scored' : null;
    const offerCells = [...offerColumns(offers === null ? notScored : (offers.best[i] ?? null)), ...offerColumns(offers === null ? notScored : (offers.keepingContract[i] ?? null))];
    lines.push(csvRecord([...row.cells, String(p.churnProbability), p.willChurn ? 'Yes' : 'No', p.riskLevel, String(p.threshold), p.modelVersion, p.modelRunId, ...padded, ...offerCells]));
  });
  return `${file.byteOrderMark ? '\uFEFF' : ''}${lines.join('\r\n')}\r\n`;
}

/**
 * best_offer and best_offer_churn_probability of a row (or the two best_offer_keeping_contract
 * columns): the offer and its score; for a customer likely to churn without one, why, in
 * parentheses (the file travels without the page's note); empty for a customer not likely to churn.
 */
function offerColumns(offer: RowOffer | KeepingContractOffer | 'not-scored'): [string, string] {
  if (offer === null) return ['', ''];
  if (offer === 'not-scored') return ['(offers not scored)', ''];
  if (offer === 'only-contract') return ['(nothing to try but a longer contract)', ''];
  if (offer === 'none-keeping-lowers') return ['(no offer keeping the contract lowers the score by a percentage point)', ''];
  if (offer === 'none-lowers') return ['(no offer lowers the score by a percentage point)', ''];
  if (offer === 'nothing-to-try') return ['(nothing to try)', ''];
  return [offerCell(offer.offer), String(offer.churnProbability)];
}

/** Characters of the run id the download's name carries. */
const RUN_IN_NAME = 8;

/** What the download's name adds after the file's: `-scored-model-<version>`, then the run. */
const SCORED_BY = '-scored-model-';

/**
 * The download's name: the file's, with what scored it: the model's version and the first
 * RUN_IN_NAME characters of its run (customers-scored-model-2-run-5b2ac284.csv). The version alone
 * would give two models of one number the same name in a folder (the packaged bundle's version 2
 * and MLflow's, once MLflow answers); the whole 32-character id would make the name longer than a
 * folder view shows, and the model_run_id column has it whole. A version that is the run already
 * (run-<id>, an unregistered model) names it whole, so nothing is added. A file this page scored
 * before (`earlierScores`) has its scores replaced, and so has the earlier model in its name:
 * customers-scored-model-2-run-5b2ac284.csv scored by version 3 is customers-scored-model-3-run-….csv.
 */
export function scoredFileName(name: string, model: { readonly version: string; readonly runId: string }, earlierScores = false): string {
  const named = name.replace(/\.csv$/i, '');
  const before = earlierScores ? named.indexOf(SCORED_BY) : -1;
  const base = (before > 0 ? named.slice(0, before) : named) || 'customers';
  const run = model.version === `run-${model.runId}` ? '' : `-run-${model.runId.slice(0, RUN_IN_NAME)}`;
  return `${base}${SCORED_BY}${model.version}${run}.csv`;
}

/**
 * Characters that make a spreadsheet read a cell as a formula (OWASP's CSV injection list). Only
 * the file's free-text cells can start with one (customerID, Churn): every other column was checked
 * against its values or as a number without sign.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** The cells a spreadsheet could run as formulas: how many, and the first (its line and column). */
export function formulaLikeCells(file: CustomerFile): { count: number; first: { line: number; column: string; value: string } | null } {
  let count = 0;
  let first: { line: number; column: string; value: string } | null = null;
  for (const row of file.rows) {
    row.cells.forEach((cell, i) => {
      if (!FORMULA_START.test(cell)) return;
      count++;
      first ??= { line: row.line, column: file.header[i] as string, value: cell };
    });
  }
  return { count, first };
}
