/** Where the bench scripts write their results (bench/results/), without overwriting a run's. */
import { access } from 'node:fs/promises';
import path from 'node:path';

const exists = (file: string): Promise<boolean> =>
  access(file).then(
    () => true,
    () => false,
  );

/**
 * The name (without extension) a run writes its .json and .md under in `dir`: `stem`, or
 * `stem-2`, `stem-3`, … when a run of the same day already wrote that name, so a second run
 * of the day keeps the first's files.
 */
export async function freeResultName(dir: string, stem: string): Promise<string> {
  for (let n = 1; ; n++) {
    const name = n === 1 ? stem : `${stem}-${n}`;
    if (!(await exists(path.join(dir, `${name}.json`))) && !(await exists(path.join(dir, `${name}.md`)))) return name;
  }
}
