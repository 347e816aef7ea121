/**
 * What a page says in itself when its script did not run (a 404 for its hashed file from a task
 * serving another build, a proxy cutting it short): left alone, the page stayed blank or half
 * drawn, the cause only in the console. One wording for GraphiQL (ui/src/graphiql/boot.ts),
 * /docs (ui/src/docs/boot.ts), /ui and /ui/batch (ui/src/app/page-check.ts).
 */

/** Why a page could not start when the script it loads did not run. */
export const SCRIPT_NOT_LOADED = 'its script did not load';

/** The next step when nothing else on the page can stand in for what did not start. */
export const RELOAD = 'reload the page';

export const couldNotStart = (what: string, why: string, next: string) => `${what} could not start (${why}); ${next}.`;

/** Puts `text` in `root` in place of what it held, as an alert: said by screen readers too, without a search for it. */
export function sayNotStarted(root: Element, text: string, className?: string): void {
  const said = document.createElement('p');
  if (className) said.className = className;
  said.setAttribute('role', 'alert');
  said.textContent = text;
  root.replaceChildren(said);
}
