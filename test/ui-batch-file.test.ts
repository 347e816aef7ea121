/**
 * checkCustomerFile (ui/src/batch/customer-file.ts), the /ui/batch page's reading of a file, and
 * scoredFileName (download.ts), the name of its download, run here in Node for what needs no
 * browser: the wording of a line's problem; the name of an unregistered model's download. The
 * page's behaviour in a browser is test/ui-batch.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { REQUIRED_COLUMNS, checkCustomerFile } from '../ui/src/batch/customer-file.js';
import { SCORE_COLUMNS, scoredFileName } from '../ui/src/batch/download.js';

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
  it('names the new model in place of the earlier one when a file this page scored is scored again, and only then', () => {
    const next = { version: '3', runId: 'abcdef1234567890abcdef1234567890' };
    expect(scoredFileName('customers-scored-model-2-run-5b2ac284.csv', next, true)).toBe('customers-scored-model-3-run-abcdef12.csv');
    expect(scoredFileName(`customers-scored-model-run-${runId}.csv`, next, true)).toBe('customers-scored-model-3-run-abcdef12.csv');
    // A name the page did not write is kept whole, as is any name of a file without earlier scores.
    expect(scoredFileName('march.csv', next, true)).toBe('march-scored-model-3-run-abcdef12.csv');
    expect(scoredFileName('customers-scored-model-2-run-5b2ac284.csv', next)).toBe('customers-scored-model-2-run-5b2ac284-scored-model-3-run-abcdef12.csv');
  });
});

describe('a file this page scored, chosen again', () => {
  /** A customer line of the data set's values (REQUIRED_COLUMNS' order), then what an earlier download added. */
  const CUSTOMER = '7590-VHVEG,Female,0,Yes,No,1,No,No phone service,DSL,No,Yes,No,No,No,No,Month-to-month,Yes,Electronic check,29.85,29.85';
  const SCORES = '0.72,Yes,HIGH,0.375,2,5b2ac2847dc844a0be722b59c1a44b36,Contract = Month-to-month,tenure = 1,,Contract = Two year,0.2,OnlineSecurity = Yes,0.5';
  const problemsOf = (text: string) => {
    const checked = checkCustomerFile(text, false);
    return checked.ok ? [] : checked.problems.listed.map((p) => `${p.line} ${p.column}: ${p.message}`);
  };

  it('is read with its scoring columns left out of the header and every row, and says it had them', () => {
    expect(SCORE_COLUMNS).toHaveLength(SCORES.split(',').length);
    const checked = checkCustomerFile(`${REQUIRED_COLUMNS.join(',')},Churn,${SCORE_COLUMNS.join(',')}\n${CUSTOMER},No,${SCORES}\n`, false);
    if (!checked.ok) throw new Error(checked.problems.listed.map((p) => p.message).join('; '));
    expect(checked.file.earlierScores).toBe(true);
    expect(checked.file.hasLabel).toBe(true);
    expect(checked.file.header).toEqual([...REQUIRED_COLUMNS, 'Churn']);
    expect(checked.file.rows.map((r) => r.cells.join(','))).toEqual([`${CUSTOMER},No`]);
    expect(checked.file.rows[0]?.customer.customerId).toBe('7590-VHVEG');
    // A file the page did not score has no earlier scores.
    const plain = checkCustomerFile(`${REQUIRED_COLUMNS.join(',')}\n${CUSTOMER}\n`, false);
    expect(plain.ok && plain.file.earlierScores).toBe(false);
  });

  it('still needs every line to have a value per header column, the scoring columns counted', () => {
    expect(problemsOf(`${REQUIRED_COLUMNS.join(',')},${SCORE_COLUMNS.join(',')}\n${CUSTOMER}\n`)).toEqual([
      `2 null: the line has ${REQUIRED_COLUMNS.length} values, expected ${REQUIRED_COLUMNS.length + SCORE_COLUMNS.length} (one per header column)`,
    ]);
  });

  it('is only a header ending with every scoring column once, in the order the page writes them: anything else with their names is refused as today', () => {
    const notDataSet = (name: string, position: number) => `1 ${name}: column ${position}, "${name}", is not a column of the data set: remove it (the columns are ${REQUIRED_COLUMNS.join(', ')}, and Churn may be there)`;
    const own = REQUIRED_COLUMNS.length;
    // Two of them swapped.
    const swapped = [...SCORE_COLUMNS];
    [swapped[0], swapped[1]] = [swapped[1] as string, swapped[0] as string];
    expect(problemsOf(`${REQUIRED_COLUMNS.join(',')},${swapped.join(',')}\n`)).toEqual(swapped.map((c, k) => notDataSet(c, own + k + 1)));
    // One missing (a download of an earlier build, without the last).
    const fewer = SCORE_COLUMNS.slice(0, -1);
    expect(problemsOf(`${REQUIRED_COLUMNS.join(',')},${fewer.join(',')}\n`)).toEqual(fewer.map((c, k) => notDataSet(c, own + k + 1)));
    // Before the file's own columns.
    expect(problemsOf(`${SCORE_COLUMNS.join(',')},${REQUIRED_COLUMNS.join(',')}\n`)).toEqual(SCORE_COLUMNS.map((c, k) => notDataSet(c, k + 1)));
    // Followed by another column of the file.
    expect(problemsOf(`${REQUIRED_COLUMNS.join(',')},${SCORE_COLUMNS.join(',')},Churn\n`)).toEqual(SCORE_COLUMNS.map((c, k) => notDataSet(c, own + k + 1)));
    // Alone, after none of the file's own columns: refused, and the data set's columns are missing.
    const alone = problemsOf(`${SCORE_COLUMNS.join(',')}\n`);
    expect(alone.slice(0, SCORE_COLUMNS.length)).toEqual(SCORE_COLUMNS.map((c, k) => notDataSet(c, k + 1)));
    expect(alone.slice(SCORE_COLUMNS.length).map((p) => p.replace(/ \(.*/, ''))).toEqual(REQUIRED_COLUMNS.map((c) => `1 ${c}: the column "${c}"`));
  });
});
