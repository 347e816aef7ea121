/** Where the bench scripts write their results (bench/result-files.ts): a run of the same day never overwrites an earlier one's files. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freeResultName } from '../bench/result-files.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('bench result file names (bench/result-files.ts)', () => {
  it("names the day's first run by its date, and later ones -2, -3, … past any name whose .json or .md exists", async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'bench-results-'));
    expect(await freeResultName(dir, '2026-12-01')).toBe('2026-12-01');
    await writeFile(path.join(dir, '2026-12-01.json'), '{}');
    expect(await freeResultName(dir, '2026-12-01')).toBe('2026-12-01-2');
    await writeFile(path.join(dir, '2026-12-01-2.md'), '');
    expect(await freeResultName(dir, '2026-12-01')).toBe('2026-12-01-3');
  });
});
