/**
 * MODEL_URI's three forms, read in one place: start-up's check of MODEL_URI (src/config.ts) and the
 * MLflow source that resolves it both use parseModelUri, so a MODEL_URI the gateway starts with is
 * one it can load. Training refuses a registered model name or alias these forms cannot name
 * (model/churn_model/config.py; test/one-source.test.ts asks both sides the same names).
 */

export type ModelUri =
  | { readonly kind: 'alias'; readonly name: string; readonly alias: string }
  | { readonly kind: 'version'; readonly name: string; readonly version: string }
  | { readonly kind: 'run'; readonly runId: string; readonly bundlePath: string };

// A registered model's name: no '/' or ':' (MLflow refuses both, so no such model can exist) and no '@'
// (it would end the name in models:/<name>@<alias>); anything else, Unicode included, as MLflow takes it.
// An alias: ASCII letters, digits, '_' and '-'.
const NAME = '[^/:@]+';
const ALIAS = '[A-Za-z0-9_-]+';
const ALIAS_URI = new RegExp(`^models:/(${NAME})@(${ALIAS})$`);
const VERSION_URI = new RegExp(`^models:/(${NAME})/(\\d+)$`);
const RUN_URI = /^runs:\/([0-9a-zA-Z]+)(?:\/(.*))?$/;
/** A version number as MLflow writes it (models:/telco-churn/03 is version 3). */
const versionNumber = (digits: string): string => digits.replace(/^0+(?=\d)/, '');

/** What MODEL_URI must look like: start-up's refusal of a form parseModelUri does not read. */
const MODEL_URI_FORMS = 'must look like models:/telco-churn@champion, models:/telco-churn/3 or runs:/<run id>/bundle';

/**
 * Why MLflow can never resolve a well-formed `models:/` URI, or null. MLflow refuses to create a model
 * named "." or beginning with ".." (it reads as a path) or only of white space, and to set an alias v<number> (it reads as a
 * version; MLflow resolves @latest, so that one is taken). Training refuses the same
 * (model/churn_model/config.py); the gateway took them, and then served its bundle with a warning.
 */
function unresolvable(name: string, alias: string | null): string | null {
  if (name === '.' || name.startsWith('..')) return `names the model ${JSON.stringify(name)}, which MLflow cannot hold (a name that is "." or begins with "..")`;
  // MLflow refuses a name that is blank once stripped (`model_name.strip() == ""`): "missing value for name".
  if (name.trim() === '') return `names the model ${JSON.stringify(name)}, only white space, which MLflow cannot hold`;
  if (alias !== null && /^[vV]\d+$/.test(alias)) {
    const version = versionNumber(alias.slice(1));
    return `names the alias ${JSON.stringify(alias)}, which MLflow never sets (it reads as a version): for version ${version} use models:/${name}/${version}`;
  }
  return null;
}

/** `uri` read, or why the gateway cannot resolve it (the text after "MODEL_URI: "). */
function read(uri: string): ModelUri | { readonly problem: string } {
  let m = ALIAS_URI.exec(uri);
  if (m) {
    const [, name = '', alias = ''] = m;
    const problem = unresolvable(name, alias);
    return problem === null ? { kind: 'alias', name, alias } : { problem };
  }
  m = VERSION_URI.exec(uri);
  if (m) {
    const [, name = '', version = ''] = m;
    const problem = unresolvable(name, null);
    // As MLflow writes it: the poller compares it with the version MLflow reports, and a mismatch
    // reloaded the same model at every poll.
    return problem === null ? { kind: 'version', name, version: versionNumber(version) } : { problem };
  }
  m = RUN_URI.exec(uri);
  if (m) return { kind: 'run', runId: m[1] as string, bundlePath: (m[2] ?? '').replace(/^\/+|\/+$/g, '') || 'bundle' };
  return { problem: MODEL_URI_FORMS };
}

/** models:/<name>@<alias>, models:/<name>/<version> or runs:/<run id>[/<bundle path>] (default path: bundle). */
export function parseModelUri(uri: string): ModelUri {
  const parsed = read(uri);
  if ('problem' in parsed) throw new Error(`unsupported MODEL_URI ${uri}: ${parsed.problem}`);
  return parsed;
}

/** Why the gateway cannot resolve `uri` (the text after "MODEL_URI: "), or null: start-up's check of MODEL_URI, so the gateway starts only with one it can. */
export function modelUriProblem(uri: string): string | null {
  const parsed = read(uri);
  return 'problem' in parsed ? parsed.problem : null;
}

/** Whether parseModelUri reads `uri`. */
export const isModelUri = (uri: string): boolean => modelUriProblem(uri) === null;
