/**
 * Every setting an operator can give (cdk.json context or `cdk deploy -c key=value`) takes effect in
 * the template. A setting the stack parses and validates but then drops is a silent default: the
 * deploy succeeds and runs the default. Here each key is given as the CLI gives it (a string) with a
 * value other than its default, read by the app's own context parser, synthesized, and found where
 * it acts. A new setting fails the completeness check until its effect is checked too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { KINDS, settingsFromContext } from '../lib/context.js';
import { createGatewayApp } from '../lib/app.js';
import { DEFAULT_SETTINGS, type GatewaySettings, type GatewayStack } from '../lib/gateway-stack.js';
import { OPS_PORT } from '../lib/network.js';
import { ADMIN_SECRET_ARN, CERTIFICATE_ARN, MLFLOW_CREDENTIALS_SECRET_ARN, MLFLOW_TOKEN_SECRET_ARN, SECRETS_KMS_KEY_ARN, TEST_IMAGE, containerOf, kmsDecryptGrants, propsOf, propsOfType, type Props } from './helpers.js';

const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:churn-alerts';

/** Every key, as `-c key=value` strings, none at its default (the token secret is the credentials' alternative: TOKEN_CONTEXT). */
const CONTEXT: Record<string, string> = {
  image: 'ghcr.io/acme/churn-gateway:2.0.0',
  cpu: '1024',
  memoryMiB: '3072',
  desiredCount: '3',
  maxCount: '9',
  natGateways: '2',
  logRetentionDays: '90',
  logLevel: 'debug',
  shutdownTimeoutMs: '25500',
  graphiqlEnabled: 'true',
  docsEnabled: 'false',
  corsOrigins: 'https://app.example, http://localhost:5173',
  mlflowStrict: 'true',
  cpuTargetPercent: '45',
  requestsPerTarget: '30000',
  fiveXxRatePercent: '2.5',
  p99LatencySeconds: '0.75',
  singlePredictionP99Ms: '25.5',
  certificateArn: CERTIFICATE_ARN,
  adminTokenSecretArn: ADMIN_SECRET_ARN,
  mlflowCredentialsSecretArn: MLFLOW_CREDENTIALS_SECRET_ARN,
  modelDir: '/app/model/other',
  modelUri: 'models:/telco-churn/7',
  mlflowTrackingUri: 'http://mlflow.internal:5005',
  mlflowPort: '5005',
  mlflowCidr: '10.20.0.0/16',
  alarmTopicArn: TOPIC_ARN,
  metricsScraperSecurityGroupId: 'sg-0123456789abcdef0',
  secretsKmsKeyArn: SECRETS_KMS_KEY_ARN,
};
const TOKEN_CONTEXT: Record<string, string> = { ...CONTEXT, mlflowCredentialsSecretArn: '', mlflowTokenSecretArn: MLFLOW_TOKEN_SECRET_ARN };

function synthFromContext(context: Record<string, string>): { settings: GatewaySettings; stack: GatewayStack; template: Template } {
  const { app, stack } = createGatewayApp({ context });
  return { settings: settingsFromContext(app.node), stack, template: Template.fromStack(stack) };
}

type Synthesized = ReturnType<typeof synthFromContext>;
const env = ({ stack, template }: Synthesized) =>
  Object.fromEntries(((containerOf(template, stack, stack.gateway.taskDefinition).Environment ?? []) as { Name: string; Value: string }[]).map((e) => [e.Name, e.Value]));
const secrets = ({ stack, template }: Synthesized) =>
  Object.fromEntries(((containerOf(template, stack, stack.gateway.taskDefinition).Secrets ?? []) as { Name: string; ValueFrom: string }[]).map((e) => [e.Name, e.ValueFrom]));
const scalingTargets = ({ template }: Synthesized) =>
  propsOfType(template, 'AWS::ApplicationAutoScaling::ScalingPolicy').map((p) => {
    const config = p.TargetTrackingScalingPolicyConfiguration as { PredefinedMetricSpecification: { PredefinedMetricType: string }; TargetValue: number };
    return [config.PredefinedMetricSpecification.PredefinedMetricType, config.TargetValue];
  });
const alarmsByMetric = ({ template }: Synthesized) =>
  Object.fromEntries(
    propsOfType(template, 'AWS::CloudWatch::Alarm').map((a) => [
      typeof a.MetricName === 'string'
        ? a.MetricName
        : JSON.stringify(a.Metrics).includes('SinglePredictionLatency')
          ? 'singlePredictionMath'
          : JSON.stringify(a.Metrics).includes('RunningTaskCount')
            ? 'tasksMath'
            : 'math',
      a,
    ]),
  );
const taskIngress = ({ stack, template }: Synthesized) =>
  ((propsOf(template, stack, stack.network.taskSecurityGroup).SecurityGroupIngress ?? []) as Props[]).map((r) => [r.SourceSecurityGroupId, r.FromPort, r.ToPort]);
const taskEgress = ({ stack, template }: Synthesized) =>
  ((propsOf(template, stack, stack.network.taskSecurityGroup).SecurityGroupEgress ?? []) as Props[]).map((r) => [r.CidrIp, r.FromPort, r.ToPort]);

/** Where each setting shows in the template synthesized from CONTEXT (or TOKEN_CONTEXT). */
const EFFECTS: Record<keyof GatewaySettings, (s: Synthesized, token: Synthesized) => void> = {
  image: (s) => expect(containerOf(s.template, s.stack, s.stack.gateway.taskDefinition).Image).toBe(CONTEXT.image),
  cpu: (s) => expect(s.template).toHaveResourceProperties('AWS::ECS::TaskDefinition', { Cpu: '1024' }),
  memoryMiB: (s) => expect(s.template).toHaveResourceProperties('AWS::ECS::TaskDefinition', { Memory: '3072' }),
  desiredCount: (s) => expect(propsOfType(s.template, 'AWS::ApplicationAutoScaling::ScalableTarget')).toMatchObject([{ MinCapacity: 3 }]),
  maxCount: (s) => expect(propsOfType(s.template, 'AWS::ApplicationAutoScaling::ScalableTarget')).toMatchObject([{ MaxCapacity: 9 }]),
  natGateways: (s) => expect(s.template).toHaveResourceCount('AWS::EC2::NatGateway', 2),
  // The gateway's logs, the VPC flow log and the ECS event log: every log group the stack creates.
  logRetentionDays: (s) => expect(propsOfType(s.template, 'AWS::Logs::LogGroup').map((g) => g.RetentionInDays)).toEqual([90, 90, 90]),
  logLevel: (s) => expect(env(s).LOG_LEVEL).toBe('debug'),
  shutdownTimeoutMs: (s) => {
    expect(env(s).SHUTDOWN_TIMEOUT_MS).toBe('25500');
    // ⌈25.5 s⌉ + 10 s of headroom (infra/README.md)
    expect(containerOf(s.template, s.stack, s.stack.gateway.taskDefinition).StopTimeout).toBe(36);
  },
  graphiqlEnabled: (s) => expect(env(s).GRAPHIQL_ENABLED).toBe('true'),
  docsEnabled: (s) => expect(env(s).DOCS_ENABLED).toBe('false'),
  corsOrigins: (s) => expect(env(s).CORS_ORIGINS).toBe('https://app.example,http://localhost:5173'),
  mlflowStrict: (s) => expect(env(s).MLFLOW_STRICT).toBe('true'),
  cpuTargetPercent: (s) => expect(scalingTargets(s)).toContainEqual(['ECSServiceAverageCPUUtilization', 45]),
  requestsPerTarget: (s) => expect(scalingTargets(s)).toContainEqual(['ALBRequestCountPerTarget', 30000]),
  fiveXxRatePercent: (s) => expect(alarmsByMetric(s).math).toMatchObject({ Threshold: 2.5, ComparisonOperator: 'GreaterThanThreshold' }),
  p99LatencySeconds: (s) => expect(alarmsByMetric(s).TargetResponseTime).toMatchObject({ Threshold: 0.75, ComparisonOperator: 'GreaterThanThreshold' }),
  singlePredictionP99Ms: (s) => {
    const alarm = propsOfType(s.template, 'AWS::CloudWatch::Alarm').find((a) => JSON.stringify(a.Metrics ?? []).includes('SinglePredictionLatency'));
    expect((alarm?.Metrics as { MetricStat?: { Stat: string } }[]).map((m) => m.MetricStat?.Stat)).toContain('PR(:25.5)');
    expect(alarm?.AlarmDescription).toContain('p99 above 25.5 ms');
  },
  certificateArn: (s) => expect(s.template).toHaveResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443, Certificates: [{ CertificateArn: CERTIFICATE_ARN }] }),
  adminTokenSecretArn: (s) => expect(secrets(s).ADMIN_TOKEN).toBe(ADMIN_SECRET_ARN),
  mlflowCredentialsSecretArn: (s) => expect(secrets(s).MLFLOW_TRACKING_PASSWORD).toBe(`${MLFLOW_CREDENTIALS_SECRET_ARN}:password::`),
  mlflowTokenSecretArn: (_, token) => expect(secrets(token).MLFLOW_TRACKING_TOKEN).toBe(MLFLOW_TOKEN_SECRET_ARN),
  secretsKmsKeyArn: (s) => expect(kmsDecryptGrants(s.template).map((grant) => grant.resource)).toEqual([SECRETS_KMS_KEY_ARN]),
  modelDir: (s) => expect(env(s).MODEL_DIR).toBe('/app/model/other'),
  modelUri: (s) => expect(env(s).MODEL_URI).toBe('models:/telco-churn/7'),
  mlflowTrackingUri: (s) => expect(env(s).MLFLOW_TRACKING_URI).toBe('http://mlflow.internal:5005'),
  mlflowPort: (s) => expect(taskEgress(s)).toContainEqual(['10.20.0.0/16', 5005, 5005]),
  mlflowCidr: (s) => expect(taskEgress(s)).toEqual([['0.0.0.0/0', 443, 443], ['10.20.0.0/16', 5005, 5005]]),
  metricsScraperSecurityGroupId: (s) => expect(taskIngress(s)).toEqual([['sg-0123456789abcdef0', 8000, 8000], ['sg-0123456789abcdef0', OPS_PORT, OPS_PORT]]),
  alarmTopicArn: (s) => {
    const alarms = propsOfType(s.template, 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(5);
    for (const alarm of alarms) expect([alarm.AlarmActions, alarm.OKActions]).toEqual([[TOPIC_ARN], [TOPIC_ARN]]);
  },
};

describe('every context setting takes effect in the template', () => {
  const full = synthFromContext(CONTEXT);
  const token = synthFromContext(TOKEN_CONTEXT);

  it('the checks cover every key the app reads, each given a value other than its default', () => {
    expect(Object.keys(EFFECTS).sort()).toEqual(Object.keys(KINDS).sort());
    expect(Object.keys({ ...CONTEXT, ...TOKEN_CONTEXT }).sort()).toEqual(Object.keys(KINDS).sort());
    const settings = { ...full.settings, mlflowTokenSecretArn: token.settings.mlflowTokenSecretArn };
    const atDefault = (Object.keys(KINDS) as (keyof GatewaySettings)[]).filter((key) => settings[key] === DEFAULT_SETTINGS[key]);
    expect(atDefault).toEqual([]);
  });

  it.each(Object.keys(EFFECTS) as (keyof GatewaySettings)[])('%s', (key) => {
    EFFECTS[key](full, token);
  });
});

describe('boolean settings from context', () => {
  const fromContext = (context: Record<string, unknown>) => settingsFromContext(new App({ context }).node);

  it('"false" from -c is false, and cdk.json’s JSON booleans are read as they are', () => {
    expect(fromContext({ graphiqlEnabled: 'false', mlflowStrict: 'false' })).toMatchObject({ graphiqlEnabled: false, mlflowStrict: false });
    expect(fromContext({ graphiqlEnabled: true, mlflowStrict: true })).toMatchObject({ graphiqlEnabled: true, mlflowStrict: true });
    expect(fromContext({ graphiqlEnabled: false })).toMatchObject({ graphiqlEnabled: false });
  });
});

/**
 * bin/app.ts as `cdk synth` runs it: the CLI hands the context over in CDK_CONTEXT_JSON and reads
 * the template from CDK_OUTDIR. The tests above build the stack themselves; this one shows the app
 * passes what it is given on to the stack, and refuses what does not parse.
 */
describe('the CDK app (bin/app.ts)', () => {
  const APP = fileURLToPath(new URL('../bin/app.ts', import.meta.url));
  const runApp = (context: Record<string, string>) => {
    const outdir = mkdtempSync(join(tmpdir(), 'churn-infra-app-'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', APP], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      timeout: 120_000,
      // CDK_VALIDATION=false turns off aws-cdk-lib's built-in CloudFormation checks, so a
      // validation report is written only when the app registered a plugin of its own (cdk-nag).
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_VALIDATION: 'false' },
    });
    try {
      const template = r.status === 0 ? (JSON.parse(readFileSync(join(outdir, 'ChurnGateway.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Properties?: Props }> }) : undefined;
      return { status: r.status, out: r.stdout + r.stderr, template, pluginsRan: existsSync(join(outdir, 'validation-report.json')) };
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  };

  it('synthesizes the stack from the context it is given', () => {
    // corsOrigins: the app checks it with the gateway's src/cors-origins.ts, which tsx loads from outside infra/.
    const r = runApp({ image: TEST_IMAGE, graphiqlEnabled: 'true', logLevel: 'trace', p99LatencySeconds: '0.5', corsOrigins: 'https://app.example' });
    expect(r.status, r.out).toBe(0);
    const resources = Object.values(r.template?.Resources ?? {});
    const [taskDefinition] = resources.filter((res) => res.Type === 'AWS::ECS::TaskDefinition');
    const [container] = (taskDefinition?.Properties?.ContainerDefinitions ?? []) as { Environment: { Name: string; Value: string }[] }[];
    expect(container?.Environment).toEqual(expect.arrayContaining([{ Name: 'GRAPHIQL_ENABLED', Value: 'true' }, { Name: 'LOG_LEVEL', Value: 'trace' }, { Name: 'CORS_ORIGINS', Value: 'https://app.example' }]));
    const thresholds = resources.filter((res) => res.Type === 'AWS::CloudWatch::Alarm' && res.Properties?.MetricName === 'TargetResponseTime').map((res) => res.Properties?.Threshold);
    expect(thresholds).toEqual([0.5]);
    // The checks lib/app.ts registers (test/security-checks.test.ts: cdk-nag, failing the synth on a finding) ran.
    expect(r.pluginsRan, 'bin/app.ts synthesized without its validation plugin (cdk-nag)').toBe(true);
  }, 150_000);

  it('fails, naming the key, on a context value that does not parse', () => {
    const r = runApp({ cpu: 'lots', desiredCount: '0x3' });
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('context "cpu" must be an integer in decimal digits, like 3, got "lots"');
    expect(r.out).toContain('context "desiredCount" must be an integer in decimal digits, like 3, got "0x3"');
    // Said once, with no stack trace into the app's code for the operator to read past.
    expect(r.out.split('"desiredCount"').length - 1, r.out).toBe(1);
    expect(r.out, r.out).not.toMatch(/^\s+at /m);
  }, 150_000);
  /** The CDK CLI itself (`npm run synth`'s), on this app: what an operator runs. */
  const runCli = (...args: string[]) => {
    const outdir = mkdtempSync(join(tmpdir(), 'churn-infra-cli-'));
    try {
      const cdk = fileURLToPath(new URL('../node_modules/.bin/cdk', import.meta.url));
      const r = spawnSync(cdk, ['synth', '--quiet', '--output', outdir, ...args], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
      });
      return { status: r.status, out: r.stdout + r.stderr };
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  };

  it("stops `cdk synth` without an image, or with an empty -c image= (an empty $IMAGE), naming the setting, rather than deploying another repository's", () => {
    const r = runCli('-c', 'image=');
    expect(r.status, r.out).not.toBe(0);
    expect(r.out).toContain('image is not set (an empty -c image= leaves it unset too): give the image the tasks run, -c image=docker.io/<user>/churn-gateway:<git sha>');
    expect(r.out).toContain('Synthesis finished with errors');
  }, 150_000);
});
