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

/** models:/<name>@<alias>, models:/<name>/<version> or runs:/<run id>[/<bundle path>] (default path: bundle). */
export function parseModelUri(uri: string): ModelUri {
  let m = ALIAS_URI.exec(uri);
  if (m) return { kind: 'alias', name: m[1] as string, alias: m[2] as string };
  m = VERSION_URI.exec(uri);
  // As MLflow writes it (models:/telco-churn/03 is version 3): the poller compares it with the
  // version MLflow reports, and a mismatch reloaded the same model at every poll.
  if (m) return { kind: 'version', name: m[1] as string, version: (m[2] as string).replace(/^0+(?=\d)/, '') };
  m = /^runs:\/([0-9a-zA-Z]+)(?:\/(.*))?$/.exec(uri);
  if (m) return { kind: 'run', runId: m[1] as string, bundlePath: (m[2] ?? '').replace(/^\/+|\/+$/g, '') || 'bundle' };
  throw new Error(`unsupported MODEL_URI ${uri}: use models:/<name>@<alias>, models:/<name>/<version> or runs:/<run id>/bundle`);
}

/** Whether parseModelUri reads `uri`: start-up's check of MODEL_URI, so the gateway starts only with one it can resolve. */
export function isModelUri(uri: string): boolean {
  try {
    parseModelUri(uri);
    return true;
  } catch {
    return false;
  }
}
