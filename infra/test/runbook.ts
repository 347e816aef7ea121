/**
 * infra/README.md's runbook ("When an alarm fires"), read the way its tests check it:
 * runbook.test.ts (alarms, saved queries, dashboard graphs, commands, GET / and modelInfo fields)
 * and saved-queries.test.ts (the log fields it asks for are in the real gateway's lines).
 *
 * The runbook's conventions, which these readers rely on: a saved query is named as Logs Insights
 * lists it, `ChurnGateway/<name>`; the fields to read in a query's results, in `GET /`'s answer or in
 * `modelInfo` follow it as "(read `a`, `b`)"; a dashboard graph is named by its title in *italics*,
 * and nothing else in the section is in italics; commands are in ```bash blocks, run from infra/.
 */
import { readFileSync } from 'node:fs';

export const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

const HEADING = '## When an alarm fires';

/** The runbook section: from its heading to the next `## ` heading. */
export function runbookSection(readme: string = README): string {
  const start = readme.indexOf(`\n${HEADING}\n`);
  if (start < 0) throw new Error(`infra/README.md has no "${HEADING}" section`);
  const rest = readme.slice(start + 1);
  const end = rest.slice(HEADING.length).search(/^## /m);
  return end < 0 ? rest : rest.slice(0, HEADING.length + end);
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes (as test/readme.test.ts at the root). */
export function anchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\- _]/gu, '').replace(/ /g, '-');
}

/** Every heading of a markdown text, with its anchor and the text up to the next heading of any level. */
export function headings(text: string): { level: number; title: string; anchor: string; body: string }[] {
  const found = [...text.matchAll(/^(#+) (.+)$/gm)];
  return found.map((m, i) => ({
    level: (m[1] ?? '').length,
    title: m[2] ?? '',
    anchor: anchor(m[2] ?? ''),
    body: text.slice((m.index ?? 0) + m[0].length, found[i + 1]?.index ?? text.length),
  }));
}

/** Prose only: fenced blocks removed, runs of white space one space (a name may wrap). */
function prose(text: string): string {
  return text.replace(/```[\s\S]*?```/g, ' ').replace(/\s+/g, ' ');
}

/** The saved queries a text names, as `ChurnGateway/<name>` (the stack's name and the query's). */
export function savedQueriesNamed(text: string): string[] {
  return [...prose(text).matchAll(/`(ChurnGateway\/[^`]+)`/g)].map((m) => m[1] ?? '');
}

/** The dashboard graphs a text names: every *italic* span (code spans and **bold** left out). */
export function graphsNamed(text: string): string[] {
  const plain = prose(text).replace(/`[^`]*`/g, ' ').replace(/\*\*[^*]+\*\*/g, ' ');
  return [...plain.matchAll(/\*([^*]+)\*/g)].map((m) => m[1] ?? '');
}

/** Where the runbook sends the operator to read fields: a saved query (`ChurnGateway/<name>`), `GET /` or `modelInfo`. */
export interface FieldsToRead {
  readonly source: string;
  readonly fields: readonly string[];
}

/** Each "(read `a`, `b`)" with what it follows; throws on one that follows no query, `GET /` or `modelInfo`. */
export function fieldsToRead(text: string): FieldsToRead[] {
  const flat = prose(text);
  const found = [...flat.matchAll(/(`ChurnGateway\/[^`]+`|`GET \/`|`modelInfo`) \(read ([^)]*)\)/g)].map((m) => ({
    source: (m[1] ?? '').slice(1, -1),
    fields: [...(m[2] ?? '').matchAll(/`([^`]+)`/g)].map((f) => f[1] ?? ''),
  }));
  const all = flat.split('(read ').length - 1;
  if (found.length !== all) throw new Error(`${all - found.length} "(read …)" in the runbook follow no saved query, \`GET /\` or \`modelInfo\``);
  return found;
}

/** The commands of a text's ```bash blocks: a line continued with `\` joined, comments and blank lines dropped. */
export function bashCommands(text: string): string[] {
  return [...text.matchAll(/```bash\n([\s\S]*?)```/g)].flatMap((block) =>
    (block[1] ?? '')
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
}
