/**
 * checkCustomerFile (ui/src/batch/customer-file.ts), the /ui/batch page's reading of a file, run
 * here in Node for what needs no browser: the wording of a line's problem. The page's behaviour in
 * a browser is test/ui-batch.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { REQUIRED_COLUMNS, checkCustomerFile } from '../ui/src/batch/customer-file.js';

describe('a line with the wrong number of values', () => {
  it('counts them in words: "1 value", "2 values"', () => {
    const header = REQUIRED_COLUMNS.join(',');
    const checked = checkCustomerFile(`${header}\nonly-an-id\na,b\n`, false);
    expect(checked.ok).toBe(false);
    const messages = checked.ok ? [] : checked.problems.listed.map((p) => `${p.line}: ${p.message}`);
    expect(messages).toEqual([
      `2: the line has 1 value, expected ${REQUIRED_COLUMNS.length} (one per header column)`,
      `3: the line has 2 values, expected ${REQUIRED_COLUMNS.length} (one per header column)`,
    ]);
  });
});
