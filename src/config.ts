/**
 * The gateway's configuration: parsed from the environment once, with every problem
 * reported together. No other module reads process.env.
 */
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { corsOriginEntries, originProblem } from './cors-origins.js';
import { editDistance } from './edit-distance.js';
import { modelUriProblem } from './model/model-uri.js';

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .optional()
    .transform((v) => (v === undefined ? fallback : v === 'true' || v === '1' || v === 'yes'));

/** Empty means unset, as an empty value in a compose or task file usually means. */
const unsetWhenEmpty = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema);

/** An integer setting; unset (or empty) is `fallback`, which is undefined for one derived from another setting. */
const int = <F extends number | undefined>(fallback: F, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx): number | F => {
      if (v === undefined || v === '') return fallback;
      // Decimal digits only: Number() would also take "0x1F90", "1e3" and " 80 ".
      const n = /^\d{1,16}$/.test(v) ? Number(v) : NaN;
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be an integer from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

/** A non-empty string (zod's own message for an empty one is "Too small: expected string to have >=1 characters"). */
const nonEmpty = () => z.string().min(1, 'must not be empty');

/** One of `values`, named in the refusal as the README's table lists them. */
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { message: `must be one of ${values.map((v) => `"${v}"`).join(', ')}` });

/** pino's levels, the values LOG_LEVEL takes. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const DEFAULT_LOG_LEVEL = 'info';

/** Node's headers timeout when HEADERS_TIMEOUT_MS is unset: 10 s, or REQUEST_TIMEOUT_MS when that is shorter. */
const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
const BODY_LIMIT_MAX_BYTES = 256 * 1024 * 1024;
/** Where `npm run build:ui` (ui/src/build.ts) writes the UI when given no folder, and UI_DIR's default. */
export const BUILT_UI_DIR = 'ui/dist';

const variables = z.object({
  NODE_ENV: oneOf(['production', 'development', 'test']).default('development'),
  PORT: int(8000, 0, 65535),
  HOST: nonEmpty().default('0.0.0.0'),
  // A second listener answering GET / and GET /metrics only, for the load balancer's health check
  // and a scraper (unset: none). Node accepts one connection per turn of its event loop, so on a
  // busy gateway a health check sent to PORT waited behind every connection queued before it: 5-8 s
  // on half a vCPU under a flood of large batches, past the ALB's 5 s. On its own port it waits only
  // for the turn in progress (docs/performance.md, "Health checks under a flood of large batches").
  OPS_PORT: int(undefined, 0, 65535),
  // Relative paths are taken from the working directory (the repo root, or /app in the image).
  MODEL_DIR: nonEmpty()
    .default('model/bundle')
    .transform((dir) => path.resolve(dir)),
  LOG_LEVEL: oneOf(LOG_LEVELS).default(DEFAULT_LOG_LEVEL),
  MAX_BATCH: int(10_000, 1, 1_000_000),
  // At most 256 MiB: a body becomes one JS string (json-body.ts bodyText), and V8 cannot make one
  // past 0x1fffffe8 characters (~512 MiB), so the 1 GiB once allowed answered 500 to a body between;
  // JSON.parse of 256 MiB already holds the event loop for seconds.
  BODY_LIMIT_BYTES: int(5 * 1024 * 1024, 1024, BODY_LIMIT_MAX_BYTES),
  // Request bodies held at once past each one's first SMALL_BODY_BYTES, counted as they arrive
  // (http.ts BodyBudget; those first bytes are never refused, held apart and bounded by
  // MAX_CONNECTIONS): 32 MiB, 6 at the limit. A 4.4 MB batch takes ~30 MB while it is parsed and
  // scored: 80 concurrent ones peaked at 749 MB RSS, 1.2 GB without a budget. Bodies buffered at
  // once stay under it + MAX_CONNECTIONS × SMALL_BODY_BYTES.
  MAX_BODY_BYTES_IN_FLIGHT: int(32 * 1024 * 1024, 1024, 16 * 1024 * 1024 * 1024),
  // Connections open at once on PORT (app.ts portConnection; OPS_PORT's are not counted): a request
  // on one past it is answered 503 OVERLOADED before its body is read. Each may hold a body's first
  // SMALL_BODY_BYTES, never refused: an upload stalled after them cost ~70 KB of RSS (14,000 took a
  // gateway from 175 MB to 1.2 GB, past infra's 1 GiB task). 2,048 such cost ~145 MB at most, beside
  // the 749 MB MAX_BODY_BYTES_IN_FLIGHT's batches peaked at: ~0.9 GB, under the 1 GiB task.
  MAX_CONNECTIONS: int(2048, 1, 1_000_000),
  REQUEST_TIMEOUT_MS: int(30_000, 100, 600_000),
  // Above the ALB's 60 s idle timeout, so the ALB, not the gateway, closes idle connections.
  KEEP_ALIVE_TIMEOUT_MS: int(65_000, 1_000, 600_000),
  HEADERS_TIMEOUT_MS: int(undefined, 1_000, 600_000),
  // Below ECS's stopTimeout (30 s in infra/), so the gateway exits before it is killed.
  SHUTDOWN_TIMEOUT_MS: int(20_000, 0, 600_000),
  // How many proxies in front of the gateway append to X-Forwarded-For (the ALB: 1, set by infra/):
  // the access line's `client` is the address the farthest of them saw (src/client-address.ts). 0: the
  // socket's peer is the client, and X-Forwarded-For, which anyone can send, is not read.
  TRUSTED_PROXY_HOPS: int(0, 0, 10),
  // Concurrent small requests share one session.run (see Predictor); off only to measure it.
  COALESCE_PREDICTIONS: bool(true),
  GRAPHIQL_ENABLED: bool(true),
  // /docs (Swagger UI, whose "Try it out" sends real requests) and /redoc; GET /openapi.json stays on either way.
  DOCS_ENABLED: bool(true),
  GRAPHQL_MAX_DEPTH: int(8, 2, 100),
  GRAPHQL_MAX_ALIASES: int(5, 0, 1000),
  GRAPHQL_MAX_TOKENS: int(1000, 50, 100_000),
  GRAPHQL_MAX_COST: int(5000, 10, 10_000_000),
  // The built /ui (npm run build:ui); relative to the working directory like MODEL_DIR.
  UI_DIR: nonEmpty()
    .default(BUILT_UI_DIR)
    .transform((dir) => path.resolve(dir)),
  INTROSPECTION_ENABLED: bool(true),
  // Compared as strings with the Origin header (app.ts), so an entry that is not exactly an origin never matches.
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const entries = corsOriginEntries(v);
      for (const entry of entries) {
        const problem = originProblem(entry);
        if (problem) ctx.addIssue({ code: 'custom', message: problem, params: { quotesSent: true } });
      }
      return entries;
    }),
  // The REST API only: file://, sqlite:// or a bare host:port ("mlflow:5000" parses as scheme mlflow:) are refused.
  MLFLOW_TRACKING_URI: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL such as http://mlflow:5000' })
    // fetch refuses URLs with credentials, and the URL is shown in GET /, modelInfo and logs:
    // a user:password in it would not work and would be published.
    .refine((u) => !/^https?:\/\/[^/]*@/i.test(u), 'must not contain credentials (user:password@); set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN')
    // MLflow's API paths are appended to it: after a ? or # they would land in the query or fragment.
    .refine((u) => !/[?#]/.test(u), 'must not contain a query (?…) or fragment (#…): MLflow API paths are appended to it (a path prefix, as in http://mlflow:5000/mlflow, is fine)')
    .optional(),
  MODEL_URI: z
    .string()
    // What the MLflow source can resolve, read by its own parser rather than a second regex beside it.
    .superRefine((uri, ctx) => {
      const problem = modelUriProblem(uri);
      if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  MLFLOW_STRICT: bool(false),
  MLFLOW_POLL_INTERVAL_MS: int(60_000, 0, 86_400_000),
  MLFLOW_TIMEOUT_MS: int(10_000, 100, 600_000),
  // MLflow's own variables (its Python client and the training command read them too): HTTP Basic
  // with a username and password, or a bearer token, sent on every MLflow call. Empty means unset.
  MLFLOW_TRACKING_USERNAME: unsetWhenEmpty(z.string().optional()),
  MLFLOW_TRACKING_PASSWORD: unsetWhenEmpty(z.string().optional()),
  MLFLOW_TRACKING_TOKEN: unsetWhenEmpty(z.string().optional()),
  // Empty means unset: reloadModel disabled. Sent as `Authorization: Bearer <token>`, whose value
  // Node trims of surrounding whitespace and reads as Latin-1: a token with either could never
  // match, and every reloadModel would be refused as if sent without it. Never quoted (a secret).
  ADMIN_TOKEN: unsetWhenEmpty(
    z
      .string()
      .min(16, 'must be at least 16 characters')
      .refine((t) => t.trim() === t, 'begins or ends with whitespace (a newline from the file it was written from?), which an Authorization header cannot carry')
      .refine((t) => /^[\x20-\x7e]*$/.test(t.trim()), 'has a character outside visible ASCII (or a control character), which an Authorization header cannot carry as it is')
      .optional(),
  ),
  // The commit the gateway was built from, written on the `ready` line so the logs say which code
  // each task runs (the image sets it from its GIT_COMMIT build arg; `unknown` when built without
  // one). Checked, because a value that is not a commit (an unexpanded "${GIT_COMMIT}", a branch
  // name) would have the logs name code that no commit is.
  GATEWAY_REVISION: unsetWhenEmpty(
    z
      .string()
      .regex(/^(?:[0-9a-f]{7,64}|unknown)$/, 'must be the git commit the gateway was built from (7 to 64 lower-case hex digits, as `git rev-parse HEAD` prints it) or "unknown"')
      .default('unknown'),
  ),
});

// The checks between variables run once every variable is valid on its own (`when`): zod would
// otherwise run them after a refinement's failure (a text variable's), and a variable with a problem
// would also be reported as missing its partner, or twice.
const envSchema = variables
  .superRefine(
    (env, ctx) => {
      if ((env.MLFLOW_TRACKING_USERNAME === undefined) !== (env.MLFLOW_TRACKING_PASSWORD === undefined)) {
        ctx.addIssue({ code: 'custom', path: [env.MLFLOW_TRACKING_USERNAME === undefined ? 'MLFLOW_TRACKING_USERNAME' : 'MLFLOW_TRACKING_PASSWORD'], message: 'MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD must be set together' });
      }
      if (env.MLFLOW_TRACKING_TOKEN !== undefined && env.MLFLOW_TRACKING_USERNAME !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['MLFLOW_TRACKING_TOKEN'], message: 'set either MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, not both' });
      }
      const credentials = ['MLFLOW_TRACKING_USERNAME', 'MLFLOW_TRACKING_PASSWORD', 'MLFLOW_TRACKING_TOKEN'] as const;
      if (env.MLFLOW_TRACKING_URI === undefined) {
        for (const name of credentials) if (env[name] !== undefined) ctx.addIssue({ code: 'custom', path: [name], message: 'is only used with MLFLOW_TRACKING_URI, which is not set' });
        // Asked to serve MLflow's model or nothing, the gateway would otherwise serve its packaged bundle without a word.
        if (env.MLFLOW_STRICT) {
          ctx.addIssue({ code: 'custom', path: ['MLFLOW_STRICT'], message: 'is true, but MLFLOW_TRACKING_URI and MODEL_URI are not set, so the packaged bundle would be served: set them, or MLFLOW_STRICT=false' });
        }
      }
      if ((env.MLFLOW_TRACKING_URI === undefined) !== (env.MODEL_URI === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['MODEL_URI'], message: 'MLFLOW_TRACKING_URI and MODEL_URI must be set together' });
      }
      if (env.MAX_BODY_BYTES_IN_FLIGHT < env.BODY_LIMIT_BYTES) {
        // Said with its value: when only BODY_LIMIT_BYTES was raised, this one is its default, which the operator never typed.
        ctx.addIssue({ code: 'custom', path: ['MAX_BODY_BYTES_IN_FLIGHT'], message: `is ${env.MAX_BODY_BYTES_IN_FLIGHT}, and must be at least BODY_LIMIT_BYTES (${env.BODY_LIMIT_BYTES}), or a body at the limit could never be read: raise it with BODY_LIMIT_BYTES` });
      }
      // 0 on both is two ports the system picks (tests), never the same one.
      if (env.OPS_PORT !== undefined && env.OPS_PORT !== 0 && env.OPS_PORT === env.PORT) {
        ctx.addIssue({ code: 'custom', path: ['OPS_PORT'], message: `must differ from PORT (${env.PORT}): it is a second listener beside it` });
      }
      if (env.HEADERS_TIMEOUT_MS !== undefined && env.HEADERS_TIMEOUT_MS > env.REQUEST_TIMEOUT_MS) {
        ctx.addIssue({ code: 'custom', path: ['HEADERS_TIMEOUT_MS'], message: `must be at most REQUEST_TIMEOUT_MS (${env.REQUEST_TIMEOUT_MS})` });
      }
    },
    { when: (payload) => payload.issues.length === 0 },
  )
  .transform((env) => ({ ...env, HEADERS_TIMEOUT_MS: env.HEADERS_TIMEOUT_MS ?? Math.min(DEFAULT_HEADERS_TIMEOUT_MS, env.REQUEST_TIMEOUT_MS) }));

export type Config = Readonly<z.infer<typeof envSchema>>;

/** Every environment variable the gateway reads (the README's configuration table lists them all). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(variables.shape);

/**
 * A name's words (split on '_', in upper case), each folder word read as DIR: MODEL_PATH means MODEL_DIR.
 * Empty words (a doubled '_') are dropped.
 */
const nameWords = (name: string): Set<string> =>
  new Set(
    name
      .toUpperCase()
      .split('_')
      .filter((w) => w !== '')
      .map((w) => (['PATH', 'FOLDER', 'DIRECTORY'].includes(w) ? 'DIR' : w)),
  );

/** Last words that only say a setting's unit or kind: REQUEST_TIMEOUT_MS is, in words, REQUEST_TIMEOUT. */
const UNIT_WORDS: readonly string[] = ['MS', 'BYTES', 'ENABLED'];

/**
 * Whether `given`'s words are `meant`'s with a unit or kind word dropped or another added, or with
 * a word of their own added or dropped: REQUEST_TIMEOUT and REQUEST_TIMEOUT_SEC for
 * REQUEST_TIMEOUT_MS, CHURN_MAX_BATCH and MAX_BATCH_SIZE for MAX_BATCH, TRACKING_URI for
 * MLFLOW_TRACKING_URI. At most one word more (MLflow's MLFLOW_HTTP_REQUEST_TIMEOUT is two more
 * than REQUEST_TIMEOUT) and at least two shared, unless `given` is exactly the name without its
 * unit (GRAPHIQL): one shared word is too common a thing (a PORT, a DIR) to mean a setting.
 */
function wordsMatch(given: string, meant: string): boolean {
  const words = nameWords(given);
  const all = [...nameWords(meant)];
  const core = UNIT_WORDS.includes(all.at(-1) ?? '') ? all.slice(0, -1) : all;
  const extra = [...words].filter((w) => !core.includes(w)).length;
  if (core.every((w) => words.has(w)) && (extra === 0 || (extra === 1 && core.length >= 2))) return true;
  // A word of the name dropped (its unit, or another): every word given is one of it.
  return words.size >= 2 && words.size === all.length - 1 && [...words].every((w) => all.includes(w));
}

/**
 * Variables in `env` that look like a misspelling of one the gateway reads: the same name in
 * another case, at most 1 edit away (2 for names of 9+ characters), or the same words with one
 * added or dropped (wordsMatch: a unit suffix left off, a prefix of the service's name). A
 * misspelled setting is otherwise silently its default. PORT and HOST are left out: HOME,
 * HOSTNAME, DB_PORT and the like are too close to them to mean anything.
 */
export function misspelledVariables(env: Readonly<Record<string, string | undefined>>): { given: string; meant: string }[] {
  const found: { given: string; meant: string }[] = [];
  const checked = CONFIG_VARIABLES.filter((meant) => meant.length >= 6);
  for (const given of Object.keys(env)) {
    if (CONFIG_VARIABLES.includes(given)) continue;
    const upper = given.toUpperCase();
    const meant =
      checked.find((m) => upper === m || editDistance(upper, m) <= (m.length >= 9 ? 2 : 1)) ??
      checked.find((m) => wordsMatch(given, m));
    if (meant !== undefined) found.push({ given, meant });
  }
  return found;
}

/**
 * MLflow's own TLS variables, which its Python client and the training command read (an operator may
 * share their environment with the gateway, as the credential variables are shared), each with what
 * the gateway does instead. It reads none of them, and a private CA's server read as "unreachable".
 */
const MLFLOW_TLS_VARIABLES = {
  MLFLOW_TRACKING_INSECURE_TLS: "the gateway always checks an https:// MLflow's certificate; for one from a private CA set NODE_EXTRA_CA_CERTS to that CA's PEM file (docs/mlflow.md)",
  MLFLOW_TRACKING_SERVER_CERT_PATH: 'set NODE_EXTRA_CA_CERTS to that file instead, which Node reads at start (docs/mlflow.md)',
  MLFLOW_TRACKING_CLIENT_CERT_PATH: 'the gateway sends no client certificate, so an MLflow that asks for one (mutual TLS) refuses it',
} as const;

/** A warning for each of MLflow's TLS variables set in `env` (MLFLOW_TLS_VARIABLES): not read by the gateway, and what to use instead. */
export function mlflowTlsWarnings(env: Readonly<Record<string, string | undefined>>): { variables: string[]; text: string }[] {
  return Object.entries(MLFLOW_TLS_VARIABLES)
    .filter(([name]) => (env[name] ?? '') !== '')
    .map(([name, instead]) => ({ variables: [name], text: `${name} is set, but only MLflow's own client reads it, not the gateway: ${instead}` }));
}

/** What `name` reads as in the environment `env`: undefined when it stays unset, or when `env` is refused. */
function readAs(env: Readonly<Record<string, string>>, name: string): { refused: boolean; value: unknown } {
  const result = envSchema.safeParse(env);
  return result.success ? { refused: false, value: (result.data as Readonly<Record<string, unknown>>)[name] } : { refused: true, value: undefined };
}

/**
 * The warning for `given`, which looks like a misspelling of `meant` (misspelledVariables): it is
 * not read, and the parenthesis says what is read for `meant` in `env`: its own value when set;
 * its default when unset or empty where empty means unset (a number, CORS_ORIGINS); or nothing,
 * when it has no default (ADMIN_TOKEN, the MLflow variables), so it stays unset.
 */
export function misspellingWarning(given: string, meant: string, env: Readonly<Record<string, string | undefined>>): string {
  const value = env[meant];
  const unset = readAs({}, meant).value;
  const empty = value === '' ? readAs({ [meant]: '' }, meant) : undefined;
  const readsAsUnset = value === undefined || (empty !== undefined && !empty.refused && isDeepStrictEqual(empty.value, unset));
  const fallback = unset === undefined ? 'stays unset' : 'keeps its default';
  const what = !readsAsUnset ? `${meant} is set, and is what is read` : value === '' ? `${meant} is empty, so it ${fallback}` : `${meant} ${fallback}`;
  return `environment variable ${given} is not read by the gateway; did you mean ${meant}? (${what})`;
}

/**
 * Variables whose value a refusal never shows (it is printed on stderr and logged): the
 * problem is named, what was sent is not.
 */
export const SECRET_VARIABLES: readonly string[] = ['ADMIN_TOKEN', 'MLFLOW_TRACKING_PASSWORD', 'MLFLOW_TRACKING_TOKEN'];

/** What a refusal shows of a value: at most this many characters of it. */
const MAX_SHOWN_CHARS = 200;

/**
 * A URL with a host part (scheme://), which may carry a `user:password@`. Not MODEL_URI's own forms,
 * whose `@` names an alias (models:/telco-churn@champion), even mistyped with a second slash.
 */
const URL_WITH_HOST = /^(?!models:|runs:)[a-z][a-z0-9+.-]*:\/\//i;

/**
 * `value` as a refusal may show it: nothing for a secret; a URL's `user:password@` (everything
 * up to its last `@`, whatever the scheme, or without one) as `***@`; the query and fragment of
 * the tracking URI, or of any value with a scheme and host (from its first `?` or `#`), as `?***`
 * or `#***`, where a token for a proxy is often put (`?token=…` was refused, and printed whole
 * to the log and stderr); cut at MAX_SHOWN_CHARS.
 * MODEL_URI holds no credentials: only a URL pasted into it (the tracking URI, by mistake) is
 * masked so, and a malformed model URI (telco-churn@champion, models:telco-churn@champion) is
 * shown whole, the part at fault included.
 */
function shownValue(variable: string, value: string): string | undefined {
  if (SECRET_VARIABLES.includes(variable)) return undefined;
  let shown = value;
  const query = variable === 'MLFLOW_TRACKING_URI' || URL_WITH_HOST.test(shown) ? shown.search(/[?#]/) : -1;
  if (query >= 0) shown = `${shown.slice(0, query + 1)}***`;
  const at = shown.lastIndexOf('@');
  if (at >= 0 && (variable !== 'MODEL_URI' || URL_WITH_HOST.test(shown))) {
    const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(shown)?.[0] ?? '';
    shown = `${scheme}***${shown.slice(at)}`;
  }
  return shown.length > MAX_SHOWN_CHARS ? `${shown.slice(0, MAX_SHOWN_CHARS)}…` : shown;
}

/** One reason the configuration is refused. */
export interface ConfigProblem {
  /** The variable at fault (`environment` for a problem of no one variable). */
  readonly variable: string;
  /** What is wrong with it, and what is allowed. */
  readonly problem: string;
  /** What was sent, as shownValue shows it; absent when the variable is unset or a secret. */
  readonly sent?: string;
}

export class ConfigError extends Error {
  /** Each problem on one line, `VARIABLE: problem; got "value"`, as the refusal prints them. */
  readonly problems: readonly string[];

  constructor(readonly details: readonly ConfigProblem[]) {
    const problems = details.map((d) => `${d.variable}: ${d.problem}${d.sent === undefined ? '' : `; got ${JSON.stringify(d.sent)}`}`);
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * A millisecond setting from 1 to 999 is far more likely seconds written without the unit (60 for a
 * minute's poll, 20 for a 20 s drain) than meant. Warned about, not refused as REQUEST_TIMEOUT_MS=30
 * is by its minimum: tests poll MLflow every 100 ms and drain for 300 ms (and 0 means off, or no drain).
 */
const SECONDS_LIKE_BELOW_MS = 1000;
const secondsLike = (variable: string, ms: number, meaning: string) => ({
  variables: [variable],
  text: `${variable} is ${ms}, in milliseconds: ${meaning}; a value in seconds? For ${ms} s set ${ms * 1000}`,
});

/**
 * Settings that are valid together but leave a feature that is on unable to work, or a millisecond
 * setting that reads as seconds: each is a warning at start-up, naming the variables and what to
 * set. (Not refused: the rest works.)
 */
export function configWarnings(
  config: Pick<Config, 'GRAPHIQL_ENABLED' | 'INTROSPECTION_ENABLED' | 'MODEL_URI' | 'MLFLOW_POLL_INTERVAL_MS' | 'SHUTDOWN_TIMEOUT_MS'>,
): { variables: string[]; text: string }[] {
  const warnings: { variables: string[]; text: string }[] = [];
  const poll = config.MLFLOW_POLL_INTERVAL_MS;
  // Without MODEL_URI nothing polls.
  if (config.MODEL_URI !== undefined && poll > 0 && poll < SECONDS_LIKE_BELOW_MS) {
    warnings.push(secondsLike('MLFLOW_POLL_INTERVAL_MS', poll, `each task asks MLflow whether the model moved every ${poll} ms, ${Math.round(1000 / poll)} times a second`));
  }
  const drain = config.SHUTDOWN_TIMEOUT_MS;
  if (drain > 0 && drain < SECONDS_LIKE_BELOW_MS) {
    warnings.push(secondsLike('SHUTDOWN_TIMEOUT_MS', drain, `a request still running ${drain} ms after SIGTERM is cut off with 503 SHUTTING_DOWN`));
  }
  if (config.GRAPHIQL_ENABLED && !config.INTROSPECTION_ENABLED) {
    warnings.push({
      variables: ['GRAPHIQL_ENABLED', 'INTROSPECTION_ENABLED'],
      text:
        'GRAPHIQL_ENABLED is true but INTROSPECTION_ENABLED is false: /ui/graphiql cannot read the schema, so it shows no documentation ' +
        'and neither completes nor checks what is typed (operations still run); set GRAPHIQL_ENABLED=false as well, or INTROSPECTION_ENABLED=true',
    });
  }
  return warnings;
}

/**
 * The level for the log line that reports a refused configuration: LOG_LEVEL when it is
 * one of LOG_LEVELS (so `silent` keeps stdout empty), else the default, since LOG_LEVEL
 * itself may be what is refused.
 */
export function refusalLogLevel(env: Readonly<Record<string, string | undefined>>): (typeof LOG_LEVELS)[number] {
  const level = env['LOG_LEVEL'];
  return LOG_LEVELS.find((l) => l === level) ?? DEFAULT_LOG_LEVEL;
}

/** Parses an environment (process.env in main, a plain object in tests). */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const variable = issue.path.length === 1 && typeof issue.path[0] === 'string' ? issue.path[0] : issue.path.join('.') || 'environment';
        const value = env[variable];
        // A problem that quotes the part of the value at fault (a CORS_ORIGINS entry) shows no more of it.
        const quotesSent = issue.code === 'custom' && issue.params?.['quotesSent'] === true;
        const sent = value === undefined || quotesSent ? undefined : shownValue(variable, value);
        return { variable, problem: issue.message, ...(sent === undefined ? {} : { sent }) };
      }),
    );
  }
  return Object.freeze(result.data);
}
