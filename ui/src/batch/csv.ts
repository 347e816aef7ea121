/**
 * CSV as RFC 4180 writes it, read and written in the browser for /ui/batch: comma-separated,
 * a field in double quotes may hold commas, quotes (doubled) and line breaks. Lines end in CRLF,
 * LF or CR; each record keeps the physical line it starts on (a quoted line break puts every later
 * record one line further down), so a problem can name the line a person finds in an editor.
 * Nothing is trimmed: a cell is read exactly as written.
 */

export interface CsvRecord {
  /** The 1-based physical line the record starts on. */
  readonly line: number;
  readonly fields: readonly string[];
}

/** What stops the reading of a file: one problem, at a line (and a field index, 0-based, when known). */
export interface CsvSyntaxProblem {
  readonly line: number;
  readonly field: number | null;
  readonly message: string;
}

export type CsvRead = { ok: true; records: CsvRecord[] } | { ok: false; problem: CsvSyntaxProblem };

/**
 * The records of `text` (a byte order mark already removed). Blank lines are kept as records of
 * one empty field, so the checker can tell a blank line inside the data (a problem) from the
 * newlines at the very end (ignored). A quote never closed, or text after a closing quote, stops
 * the reading: every field after it would be in the wrong place.
 */
export function readCsv(text: string): CsvRead {
  const records: CsvRecord[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let value: string;
      if (text.charCodeAt(i) === 34 /* " */) {
        const opened = line;
        let parts = '';
        let from = i + 1;
        for (;;) {
          const q = text.indexOf('"', from);
          if (q < 0) {
            return {
              ok: false,
              problem: { line: opened, field: fields.length, message: `a quote (") opened on line ${opened} is never closed: it takes in every line after it` },
            };
          }
          parts += text.slice(from, q);
          if (text.charCodeAt(q + 1) === 34) {
            parts += '"';
            from = q + 2;
            continue;
          }
          i = q + 1;
          break;
        }
        // Line breaks inside the quotes are lines of the file.
        for (let k = 0; k < parts.length; k++) {
          const c = parts.charCodeAt(k);
          if (c === 10 || (c === 13 && parts.charCodeAt(k + 1) !== 10)) line++;
        }
        value = parts;
        const next = text.charCodeAt(i);
        if (i < n && next !== 44 && next !== 10 && next !== 13) {
          let end = i;
          while (end < n && text.charCodeAt(end) !== 44 && text.charCodeAt(end) !== 10 && text.charCodeAt(end) !== 13) end++;
          const after = text.slice(i, Math.min(end, i + 20));
          return {
            ok: false,
            problem: {
              line,
              field: fields.length,
              message: `text after a closing quote ("${value.slice(0, 20)}"${after}): put the whole value in quotes, with any quote inside it doubled`,
            },
          };
        }
      } else {
        let end = i;
        while (end < n) {
          const c = text.charCodeAt(end);
          if (c === 44 || c === 10 || c === 13) break;
          end++;
        }
        value = text.slice(i, end);
        i = end;
      }
      fields.push(value);
      const c = text.charCodeAt(i);
      if (c === 44) {
        i++;
        continue;
      }
      // End of the record: a line break (CRLF counts once) or the end of the text.
      if (c === 13) i += text.charCodeAt(i + 1) === 10 ? 2 : 1;
      else if (c === 10) i++;
      line++;
      break;
    }
    records.push({ line: start, fields });
  }
  return { ok: true, records };
}

/** A value as RFC 4180 writes it: in quotes (quotes inside doubled) when it holds a comma, a quote or a line break. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One record, without its line ending. */
export const csvRecord = (values: readonly string[]): string => values.map(csvField).join(',');
