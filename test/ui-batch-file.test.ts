/**
 * checkCustomerFile (ui/src/batch/customer-file.ts), the /ui/batch page's reading of a file, and
 * scoredFileName (download.ts), the name of its download, run here in Node for what needs no
 * browser: the wording of a line's problem; the name of an unregistered model's download. The
 * page's behaviour in a browser is test/ui-batch.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { REQUIRED_COLUMNS, checkCustomerFile } from '../ui/src/batch/customer-file.js';
import { scoredFileName } from '../ui/src/batch/download.js';

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

describe("the download's name", () => {
  const runId = '5b2ac2847dc844a0be722b59c1a44b36';
  it("carries the model's version and the first 8 characters of its run", () => {
    expect(scoredFileName('customers.csv', { version: '2', runId })).toBe('customers-scored-model-2-run-5b2ac284.csv');
    expect(scoredFileName('.CSV', { version: '2', runId })).toBe('customers-scored-model-2-run-5b2ac284.csv');
  });
  it('names the run once when the version is the run (run-<id>, an unregistered model)', () => {
    expect(scoredFileName('Customers.CSV', { version: `run-${runId}`, runId })).toBe(`Customers-scored-model-run-${runId}.csv`);
  });
});
