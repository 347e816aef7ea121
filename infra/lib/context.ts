import type { Node } from 'constructs';
import { DEFAULT_SETTINGS, type GatewaySettings } from './gateway-stack.js';
import { PropsValidationError } from './validation.js';

type Kind = 'string' | 'number' | 'boolean';
/** Every context key the app reads, with its type (infra/README.md's parameter table lists them all). */
export const KINDS: Readonly<Record<keyof GatewaySettings, Kind>> = {
  image: 'string',
  cpu: 'number',
  memoryMiB: 'number',
  desiredCount: 'number',
  maxCount: 'number',
  natGateways: 'number',
  logRetentionDays: 'number',
  logLevel: 'string',
  shutdownTimeoutMs: 'number',
  graphiqlEnabled: 'boolean',
  mlflowStrict: 'boolean',
  cpuTargetPercent: 'number',
  requestsPerTarget: 'number',
  fiveXxRatePercent: 'number',
  p99LatencySeconds: 'number',
  singlePredictionP99Ms: 'number',
  certificateArn: 'string',
  adminTokenSecretArn: 'string',
  mlflowCredentialsSecretArn: 'string',
  mlflowTokenSecretArn: 'string',
  modelDir: 'string',
  modelUri: 'string',
  mlflowTrackingUri: 'string',
  mlflowPort: 'number',
  mlflowCidr: 'string',
  alarmTopicArn: 'string',
};

/**
 * Reads GatewaySettings from CDK context (cdk.json or `cdk deploy -c key=value`). Values given on the
 * command line arrive as strings, so numbers and booleans are parsed here; every bad value is reported at once.
 * Empty strings mean "not set" so optional settings can be cleared with `-c certificateArn=`.
 */
export function settingsFromContext(node: Node): GatewaySettings {
  const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  const problems: string[] = [];
  for (const [key, kind] of Object.entries(KINDS) as [keyof GatewaySettings, Kind][]) {
    const raw: unknown = node.tryGetContext(key);
    if (raw === undefined || raw === null || raw === '') continue;
    const value = parse(raw, kind);
    if (value === undefined) problems.push(`context "${key}" must be a ${kind}, got ${JSON.stringify(raw)}`);
    else settings[key] = value;
  }
  if (problems.length > 0) throw new PropsValidationError('context', problems);
  return settings as unknown as GatewaySettings;
}

function parse(raw: unknown, kind: Kind): string | number | boolean | undefined {
  if (kind === 'string') return typeof raw === 'string' ? raw.trim() : undefined;
  if (kind === 'number') {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    return Number.isFinite(n) ? n : undefined;
  }
  if (typeof raw === 'boolean') return raw;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  return undefined;
}
