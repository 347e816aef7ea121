/**
 * The scored file a retention team downloads: every row of the file in its order, its cells
 * exactly as read (quoted per RFC 4180 where a value needs it), with the prediction's columns
 * after them. The added columns are named as the REST answer names its fields (snake_case).
 */
import { csvRecord } from './csv.js';
import type { CustomerFile } from './customer-file.js';
import type { Prediction } from './scoring.js';

/** The columns added after the file's own. */
export const SCORE_COLUMNS = ['churn_probability', 'will_churn', 'risk_level', 'threshold', 'model_version'] as const;

/**
 * The file with its scores: CRLF line ends (RFC 4180), a UTF-8 byte order mark when the file had
 * one (Excel's "CSV UTF-8"). Numbers as the gateway sent them (every digit), the decision in the
 * data set's spelling of its Churn column (Yes/No).
 */
export function scoredCsv(file: CustomerFile, predictions: readonly Prediction[]): string {
  const lines = [csvRecord([...file.header, ...SCORE_COLUMNS])];
  file.rows.forEach((row, i) => {
    const p = predictions[i] as Prediction;
    lines.push(csvRecord([...row.cells, String(p.churnProbability), p.willChurn ? 'Yes' : 'No', p.riskLevel, String(p.threshold), p.modelVersion]));
  });
  return `${file.byteOrderMark ? '\uFEFF' : ''}${lines.join('\r\n')}\r\n`;
}

/** The download's name: the file's, with what scored it. */
export function scoredFileName(name: string, modelVersion: string): string {
  const base = name.replace(/\.csv$/i, '') || 'customers';
  return `${base}-scored-model-${modelVersion}.csv`;
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
