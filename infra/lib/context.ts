import type { Node } from 'constructs';
import { DEFAULT_SETTINGS, type GatewaySettings } from './gateway-stack.js';
import { editDistance } from '../../src/edit-distance.js';
import { PropsValidationError } from './validation.js';

/** integer: counts, sizes, ports, percentages the stack takes whole; number: the alarm thresholds, which take decimals. */
type Kind = 'string' | 'integer' | 'number' | 'boolean';
/** Every context key the app reads, with its type (infra/README.md's parameter table lists them all). */
export const KINDS: Readonly<Record<keyof GatewaySettings, Kind>> = {
  image: 'string',
  cpu: 'integer',
  memoryMiB: 'integer',
  desiredCount: 'integer',
  maxCount: 'integer',
  natGateways: 'integer',
  logRetentionDays: 'integer',
  logLevel: 'string',
  shutdownTimeoutMs: 'integer',
  graphiqlEnabled: 'boolean',
  docsEnabled: 'boolean',
  corsOrigins: 'string',
  mlflowStrict: 'boolean',
  cpuTargetPercent: 'integer',
  requestsPerTarget: 'integer',
  fiveXxRatePercent: 'number',
  p99LatencySeconds: 'number',
  singlePredictionP99Ms: 'number',
  certificateArn: 'string',
  adminTokenSecretArn: 'string',
  mlflowCredentialsSecretArn: 'string',
  mlflowTokenSecretArn: 'string',
  secretsKmsKeyArn: 'string',
  modelDir: 'string',
  modelUri: 'string',
  mlflowTrackingUri: 'string',
  mlflowPort: 'integer',
  mlflowCidr: 'string',
  alarmTopicArn: 'string',
  metricsScraperSecurityGroupId: 'string',
};

/**
 * Context keys that would be one of this app's settings. CDK's own keys carry a prefix with `:` or
 * `/` (`aws:cdk:enable-path-metadata`, `@aws-cdk/core:…` feature flags, cached lookups such as
 * `availability-zones:account=…`), so they never look like one.
 */
const SETTING_LIKE = /^[A-Za-z][A-Za-z0-9_-]*$/;

/**
 * Reads GatewaySettings from CDK context (cdk.json or `cdk deploy -c key=value`). Values given on the
 * command line arrive as strings, so numbers and booleans are parsed here; every bad value is reported at once.
 * Empty strings mean "not set" so optional settings can be cleared with `-c certificateArn=`.
 * A key that looks like a setting but is none (`-c desiredcount=3`) is refused, naming the
 * setting it is closest to: ignored, the deploy would run the default.
 */
export function settingsFromContext(node: Node): GatewaySettings {
  const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  const problems: string[] = [];
  const given = Object.keys(node.getAllContext() as Record<string, unknown>);
  for (const key of given) {
    if (!Object.hasOwn(KINDS, key) && SETTING_LIKE.test(key)) problems.push(unknownKeyProblem(key));
  }
  for (const [key, kind] of Object.entries(KINDS) as [keyof GatewaySettings, Kind][]) {
    const raw: unknown = node.tryGetContext(key);
    if (raw === undefined || raw === null || raw === '') continue;
    const value = parse(raw, kind);
    if (value === undefined) problems.push(`context "${key}" must be ${EXPECTED[kind]}, got ${JSON.stringify(raw)}${kind === 'boolean' ? ': use true or false' : ''}`);
    else settings[key] = value;
  }
  if (problems.length > 0) throw new PropsValidationError('context', problems);
  return settings as unknown as GatewaySettings;
}

/** The refusal of a context key this app does not read, with the setting it most likely meant. */
function unknownKeyProblem(key: string): string {
  const head = `context "${key}" is not a setting of this app, so it would change nothing`;
  const meant = closestSetting(key);
  return meant !== undefined
    ? `${head}; did you mean "${meant}"?`
    : `${head}; the settings are ${Object.keys(KINDS).join(', ')} (infra/README.md, "Parameters (CDK context)")`;
}

/**
 * The setting whose name is the same but for case, `-` and `_`, or one typo away (`cpus`);
 * undefined when none is. Not further: `minCount` is 2 edits from `maxCount`, which it does not mean.
 */
function closestSetting(key: string): string | undefined {
  const plain = (name: string) => name.toLowerCase().replace(/[-_]/g, '');
  let best: { name: string; distance: number } | undefined;
  for (const name of Object.keys(KINDS)) {
    const distance = editDistance(plain(key), plain(name));
    if (distance <= 1 && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** What each kind of setting takes, as its refusal says it. */
const EXPECTED: Readonly<Record<Kind, string>> = {
  string: 'a string',
  integer: 'an integer in decimal digits, like 3',
  number: 'a number in decimal digits, like 3 or 0.75',
  boolean: 'a boolean',
};

/**
 * What an operator types: decimal digits (a minus sign, so a negative value meets the setting's own
 * range check), and for a number one decimal point. Not what Number() also reads: 0x3 (3), 0b11,
 * 1e1 (10), +3, " 3", Infinity, nor 3.0 for an integer: nobody types those meaning the number, and
 * read as it they deploy a value the operator never wrote.
 */
const INTEGER = /^-?\d+$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * A context value as its kind: -c gives strings; cdk.json gives JSON values, so a JSON number or
 * boolean is taken as it is (a JSON number is already a number, however it was written).
 */
function parse(raw: unknown, kind: Kind): string | number | boolean | undefined {
  if (kind === 'string') return typeof raw === 'string' ? raw.trim() : undefined;
  if (kind === 'integer' || kind === 'number') {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && (kind === 'integer' ? INTEGER : DECIMAL).test(raw) ? Number(raw) : NaN;
    return (kind === 'integer' ? Number.isSafeInteger(n) : Number.isFinite(n)) ? n : undefined;
  }
  if (typeof raw === 'boolean') return raw;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  return undefined;
}
