/**
 * A customer file in the IBM Telco format (the training CSV's columns, `Churn` optional), read
 * and checked in the browser before anything is sent: the header, then every cell against what
 * its column allows, in the data set's own spellings ("Month-to-month", "No phone service",
 * SeniorCitizen 0/1). The columns, their kinds and the spellings are the gateway's contract
 * (src/contract.ts, the table the REST route reads the same spellings with); the labels are the
 * form's (customer-fields.ts). The cross-field rules are the gateway's alone (src/customer-rules.ts):
 * predictBatch names the rows that break them, which the page maps back to lines (scoring.ts).
 */
import {
  CONTRACT_ENUMS,
  CUSTOMER_FIELDS,
  CUSTOMER_ID_MAX_LENGTH,
  MAX_CHARGE,
  MAX_LISTED_ISSUES,
  MAX_TENURE_MONTHS,
  allowedColumnValues,
  customerIdFits,
  type CustomerField,
} from '../../../src/contract.js';
import type { CustomerInput } from '../../../src/generated/graphql.js';
import type { FieldName } from '../app/customer-fields.js';
import { fieldLabel } from '../app/form-words.js';
import { readCsv } from './csv.js';
// download.ts imports this module too: SCORE_COLUMNS is read only when a file is checked, never as the modules load.
import { SCORE_COLUMNS } from './download.js';

/** The file's id column (GraphQL customerId): not a feature, but how a retention team finds the customer. */
export const ID_COLUMN = 'customerID';
/** The data set's label column: allowed in the file and ignored (the model predicts it). */
export const LABEL_COLUMN = 'Churn';

/** A problem with the file, named as a person finds it: the line, the column, the value as written. */
export interface FileProblem {
  /** 1-based physical line of the file; null for the file as a whole. */
  readonly line: number | null;
  /** The column's name in the data set (or as the file wrote it, for a header problem); null for none. */
  readonly column: string | null;
  /** The cell as written; null when the problem is not about one cell. */
  readonly value: string | null;
  readonly message: string;
  /** The gateway's own wording, when the page reworded its message (kept for support). */
  readonly original?: string;
}

/** The problems of a file: the first MAX_LISTED_ISSUES (as the gateway lists them), and how many there are. */
export class Problems {
  readonly listed: FileProblem[] = [];
  count = 0;
  add(problem: FileProblem): void {
    this.count++;
    if (this.listed.length < MAX_LISTED_ISSUES) this.listed.push(problem);
  }
}

/** One customer of the file, as written and as sent. */
export interface FileRow {
  /** The line it starts on. */
  readonly line: number;
  /** Its cells as written, in the file's column order (its own columns: an earlier download's scores left out). */
  readonly cells: readonly string[];
  readonly customer: CustomerInput;
}

export interface CustomerFile {
  /** The header as written: the file's own columns, without an earlier download's scoring columns (`earlierScores`). */
  readonly header: readonly string[];
  /** Every customer, in the file's order. */
  readonly rows: readonly FileRow[];
  /** The file started with a UTF-8 byte order mark (kept in the download). */
  readonly byteOrderMark: boolean;
  /** The file has the data set's Churn column, which is not used. */
  readonly hasLabel: boolean;
  /**
   * The file is one this page scored: its last columns are SCORE_COLUMNS, exactly as the download
   * writes them after the file's own. They are not read or sent, are left out of `header` and of
   * each row's `cells`, and the new download writes them again with the new scores.
   */
  readonly earlierScores: boolean;
  /** Where each column of the data set is, by its name. */
  readonly columnIndex: ReadonlyMap<string, number>;
}

export type FileCheck = { ok: true; file: CustomerFile } | { ok: false; problems: Problems; hasLabel: boolean; earlierScores: boolean };

/**
 * Whether a header ends with the columns the page's download adds (SCORE_COLUMNS), each once, in
 * the download's order, after at least one column of the file's own: a file this page scored,
 * chosen again (after a promotion, last month's scored file). Anything else with those names
 * (some of them, another order, or before the file's own columns) is not, and is refused as
 * columns that are not the data set's.
 */
function endsWithScoreColumns(header: readonly string[]): boolean {
  const own = header.length - SCORE_COLUMNS.length;
  return own > 0 && SCORE_COLUMNS.every((column, k) => header[own + k] === column);
}

const FIELD_BY_COLUMN = new Map<string, CustomerField>(CUSTOMER_FIELDS.map((f) => [f.column, f]));
/** The columns a file must have, in the data set's order. */
export const REQUIRED_COLUMNS: readonly string[] = [ID_COLUMN, ...CUSTOMER_FIELDS.map((f) => f.column)];

/** The data set's spelling of each GraphQL value of a field (an enum value, or true/false). */
export function datasetSpellings(field: FieldName): Readonly<Record<string, string>> | null {
  const f = CUSTOMER_FIELDS.find((c) => c.field === field);
  switch (f?.kind) {
    case 'enum':
      return CONTRACT_ENUMS[f.enumName];
    case 'yesNo':
      return { true: 'Yes', false: 'No' };
    case 'flag01':
      return { true: '1', false: '0' };
    default:
      return null;
  }
}

/** GraphQL value by the data set's spelling, per categorical column: the contract's table, turned around. */
const VALUE_BY_SPELLING = new Map<string, ReadonlyMap<string, string | boolean>>(
  CUSTOMER_FIELDS.flatMap((f) => {
    const spellings = datasetSpellings(f.field);
    if (!spellings) return [];
    const values = Object.entries(spellings).map(([value, spelling]): [string, string | boolean] => [spelling, value === 'true' ? true : value === 'false' ? false : value]);
    return [[f.column, new Map(values)]];
  }),
);

/** A value as a problem quotes it: at most 64 characters, control characters as escapes (a tab as \t), quotes inside as they are. */
export function quoted(value: string): string {
  const cut = value.length > 64 ? `${value.slice(0, 63)}…` : value;
  return `"${cut.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1))}"`;
}

const listed = (values: readonly string[]) => values.map((v) => `"${v}"`).join(', ');

/** Whole numbers and decimals with a point, nothing else: the training data's own cells (no sign, exponent, separator or currency). */
const WHOLE = /^\d+$/;
const DECIMAL = /^\d+(?:\.\d+)?$/;

/** A blank total, as the data set writes it (one space) or as a spreadsheet may save it (empty): not yet billed. */
const NOT_YET_BILLED = new Set([' ', '']);

/** A column name as a person may have typed it: the data set's name it stands for, if it is one differing only in case or spaces. */
function meantColumn(name: string, missing: ReadonlySet<string>): string | undefined {
  const plain = name.trim().toLowerCase();
  return [...missing].find((m) => m.toLowerCase() === plain);
}

function checkHeader(header: readonly string[], problems: Problems): Map<string, number> {
  const index = new Map<string, number>();
  const seen = new Map<string, number>();
  const unknown: { name: string; position: number }[] = [];
  header.forEach((name, i) => {
    const first = seen.get(name);
    if (first !== undefined) {
      problems.add({ line: 1, column: name, value: null, message: `column "${name}" appears more than once (columns ${first + 1} and ${i + 1}): keep one` });
      return;
    }
    seen.set(name, i);
    if (REQUIRED_COLUMNS.includes(name) || name === LABEL_COLUMN) index.set(name, i);
    else unknown.push({ name, position: i + 1 });
  });
  const missing = new Set(REQUIRED_COLUMNS.filter((c) => !index.has(c)));
  const renamed = new Set<string>();
  for (const { name, position } of unknown) {
    const meant = meantColumn(name, missing);
    if (meant !== undefined) {
      renamed.add(meant);
      const field = FIELD_BY_COLUMN.get(meant);
      problems.add({ line: 1, column: name, value: null, message: `column ${position} is named "${name}"; the data set names it "${meant}"${field ? ` (${fieldLabel(field.field)})` : ''}: rename it` });
    } else if (name.trim() === '' || /^Unnamed: \d+$/.test(name)) {
      problems.add({ line: 1, column: name, value: null, message: `column ${position} has no name (a row number or index column?): remove it` });
    } else {
      problems.add({ line: 1, column: name, value: null, message: `column ${position}, "${name}", is not a column of the data set: remove it (the columns are ${REQUIRED_COLUMNS.join(', ')}, and ${LABEL_COLUMN} may be there)` });
    }
  }
  for (const column of missing) {
    if (renamed.has(column)) continue;
    const field = FIELD_BY_COLUMN.get(column);
    problems.add({ line: 1, column, value: null, message: `the column "${column}"${field ? ` (${fieldLabel(field.field)})` : ' (the customer id)'} is missing` });
  }
  return index;
}

/** The cell's value for GraphQL, or the problem with it (in the form's words, naming what is allowed). */
function readCell(field: CustomerField, cell: string): { value: unknown } | { problem: string } {
  switch (field.kind) {
    case 'enum':
    case 'yesNo':
    case 'flag01': {
      const value = VALUE_BY_SPELLING.get(field.column)?.get(cell);
      if (value !== undefined) return { value };
      const allowed = allowedColumnValues(field) ?? [];
      const near = allowed.find((a) => a.toLowerCase() === cell.trim().toLowerCase());
      return { problem: `must be one of ${listed(allowed)}${near === undefined ? '' : `, spelled as the data set does: "${near}"`}` };
    }
    case 'months':
      if (WHOLE.test(cell) && Number(cell) <= MAX_TENURE_MONTHS) return { value: Number(cell) };
      return { problem: `must be a whole number of months from 0 to ${MAX_TENURE_MONTHS}` };
    case 'money': {
      if (field.nullable && NOT_YET_BILLED.has(cell)) return { value: null };
      if (DECIMAL.test(cell) && Number(cell) <= MAX_CHARGE) return { value: Number(cell) };
      const blank = field.nullable ? '; blank (one space, or empty) when not yet billed' : '';
      if (cell.trim() === '' && !field.nullable) return { problem: 'must be an amount of 0 or more' };
      if (cell.trim() === '') return { problem: `is blank with ${JSON.stringify(cell).length - 2} characters: a total not yet billed is one space, or empty` };
      return { problem: `must be an amount from 0 to ${MAX_CHARGE}, with a point for decimals (29.85) and no sign, separator or currency${blank}` };
    }
  }
}

/** Decodes the file's bytes as UTF-8, or says why it cannot be read as the CSV the page takes. */
export function decodeFile(bytes: Uint8Array): { ok: true; text: string; byteOrderMark: boolean } | { ok: false; problem: FileProblem } {
  const whole = (message: string) => ({ ok: false as const, problem: { line: null, column: null, value: null, message } });
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) {
    return whole('this is a spreadsheet workbook (.xlsx), not a CSV file: save it as "CSV UTF-8 (comma delimited)" and choose that file');
  }
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return whole('the file is UTF-16 text: save it as "CSV UTF-8 (comma delimited)" and choose that file');
  }
  const byteOrderMark = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const body = byteOrderMark ? bytes.subarray(3) : bytes;
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body), byteOrderMark };
  } catch {
    // Where: the first character the lenient decoder could not read.
    const lenient = new TextDecoder('utf-8', { ignoreBOM: true }).decode(body);
    const at = lenient.indexOf('\uFFFD');
    const line = at < 0 ? null : lenient.slice(0, at).split(/\r\n|\r|\n/).length;
    return {
      ok: false,
      problem: {
        line,
        column: null,
        value: null,
        message: 'the file is not UTF-8 text (a Windows-1252 or Latin-1 export?): save it as "CSV UTF-8 (comma delimited)", or convert it with iconv -f WINDOWS-1252 -t UTF-8, and choose it again',
      },
    };
  }
}

/** Reads and checks a customer file's text; a file with any problem gives its problems, and no customers. */
export function checkCustomerFile(text: string, byteOrderMark: boolean): FileCheck {
  const problems = new Problems();
  const fail = (problem: FileProblem, hasLabel = false, earlierScores = false): FileCheck => {
    problems.add(problem);
    return { ok: false, problems, hasLabel, earlierScores };
  };
  if (text.trim() === '') return fail({ line: null, column: null, value: null, message: `the file is empty: it needs a header line (${REQUIRED_COLUMNS.slice(0, 3).join(', ')}, …) and a line per customer` });
  const read = readCsv(text);
  if (!read.ok) return fail({ line: read.problem.line, column: null, value: null, message: read.problem.message });
  const [headerRecord, ...records] = read.records;
  const header = (headerRecord as (typeof read.records)[number]).fields;
  if (header.length === 1 && /[;\t|]/.test(header[0] as string)) {
    const separator = /;/.test(header[0] as string) ? 'semicolons' : /\t/.test(header[0] as string) ? 'tabs' : 'bars (|)';
    return fail({ line: 1, column: null, value: null, message: `the columns are separated by ${separator}: this page reads comma-separated files (save as "CSV UTF-8 (comma delimited)")` });
  }
  // A file this page scored: its scoring columns are neither checked nor sent, and the download replaces them.
  const earlierScores = endsWithScoreColumns(header);
  const own = earlierScores ? header.slice(0, header.length - SCORE_COLUMNS.length) : header;
  const columnIndex = checkHeader(own, problems);
  const hasLabel = columnIndex.has(LABEL_COLUMN);
  if (problems.count > 0) return { ok: false, problems, hasLabel, earlierScores };
  // Blank lines at the very end are the file's last newlines; a blank line before a customer is a problem.
  let end = records.length;
  while (end > 0 && (records[end - 1] as (typeof records)[number]).fields.length === 1 && records[end - 1]?.fields[0] === '') end--;
  if (end === 0) return fail({ line: null, column: null, value: null, message: 'the file has a header but no customers' }, hasLabel, earlierScores);

  const rows: FileRow[] = [];
  const idLines = new Map<string, number>();
  const idAt = columnIndex.get(ID_COLUMN) as number;
  for (let r = 0; r < end; r++) {
    const { line, fields } = records[r] as (typeof records)[number];
    if (fields.length === 1 && fields[0] === '') {
      problems.add({ line, column: null, value: null, message: 'the line is blank: remove it (only the end of the file may have blank lines)' });
      continue;
    }
    if (fields.length !== header.length) {
      problems.add({ line, column: null, value: null, message: `the line has ${fields.length} ${fields.length === 1 ? 'value' : 'values'}, expected ${header.length} (one per header column)${fields.length > header.length ? ': a value holding a comma must be in quotes' : ''}` });
      continue;
    }
    const before = problems.count;
    const id = fields[idAt] as string;
    if (id.trim() === '') problems.add({ line, column: ID_COLUMN, value: id, message: 'the customer id is empty: each customer needs the id it is known by' });
    else if (!customerIdFits(id)) problems.add({ line, column: ID_COLUMN, value: id, message: `the customer id has ${[...id].length} characters; at most ${CUSTOMER_ID_MAX_LENGTH} are accepted` });
    else {
      const first = idLines.get(id);
      if (first !== undefined) problems.add({ line, column: ID_COLUMN, value: id, message: `the customer id is also on line ${first}: each customer once` });
      else idLines.set(id, line);
    }
    const values: Record<string, unknown> = { customerId: id };
    for (const field of CUSTOMER_FIELDS) {
      const cell = fields[columnIndex.get(field.column) as number] as string;
      const read = readCell(field, cell);
      if ('problem' in read) problems.add({ line, column: field.column, value: cell, message: read.problem });
      else values[field.field] = read.value;
    }
    // Every field was read (no problem on this line): values holds each of CustomerInput's fields.
    if (problems.count === before) rows.push({ line, cells: fields.slice(0, own.length), customer: values as CustomerInput });
  }
  if (problems.count > 0) return { ok: false, problems, hasLabel, earlierScores };
  return { ok: true, file: { header: own, rows, byteOrderMark, hasLabel, earlierScores, columnIndex } };
}
