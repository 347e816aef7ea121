import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ECS_NAMES, IMAGE_NOT_SET, IMAGE_PLACEHOLDER } from '../lib/gateway-service.js';
import { OPS_PORT } from '../lib/network.js';
import {
  ADMIN_SECRET_ARN,
  ALL_FEATURES,
  MLFLOW_CREDENTIALS_SECRET_ARN,
  MLFLOW_TOKEN_FEATURES,
  MLFLOW_TOKEN_SECRET_ARN,
  SECRETS_KMS_KEY_ARN,
  TEST_IMAGE,
  containerOf,
  kmsDecryptGrants,
  logicalId,
  propsOf,
  ref,
  secretReadGrants,
  synth,
} from './helpers.js';

const READ_SECRET = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];
const MLFLOW_CREDENTIAL_VARIABLES = /MLFLOW_TRACKING_(USERNAME|PASSWORD|TOKEN)/;

describe('ECS cluster, task definition and service', () => {
  const { stack, template } = synth();
  const container = () => containerOf(template, stack, stack.gateway.taskDefinition);

  it('enables Container Insights on the cluster', () => {
    expect(template).toHaveResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('sizes the Fargate task from settings', () => {
    expect(template).toHaveResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      NetworkMode: 'awsvpc',
      Cpu: '512',
      Memory: '1024',
    });
  });

  it("keeps the revisions a cdk deploy replaces registered (Retain), so the runbook's update-service can roll back to one", () => {
    // Without it CloudFormation deregisters the replaced revision, and ECS moves no service onto an INACTIVE one.
    const resources = template.toJSON().Resources as Record<string, { UpdateReplacePolicy?: string; DeletionPolicy?: string }>;
    expect(resources[logicalId(stack, stack.gateway.taskDefinition)]).toMatchObject({ UpdateReplacePolicy: 'Retain', DeletionPolicy: 'Retain' });
  });

  it('runs the image it is given, with no error for the CLI to stop at', () => {
    expect(container().Image).toBe(TEST_IMAGE);
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
  });

  it("has no default image: unset, the synth records the error the CDK CLI stops synth, diff and deploy at, and names an image nobody can pull", () => {
    // `-c image=` with an empty $IMAGE leaves it unset too (test/validation.test.ts).
    const { stack: unset, template: unsetTemplate } = synth({ image: undefined });
    const errors = Annotations.fromStack(unset).findError('*', Match.anyValue());
    expect(errors.map((e) => [e.id, e.entry.data])).toEqual([[`/${unset.stackName}/Gateway`, IMAGE_NOT_SET]]);
    expect(IMAGE_NOT_SET).toMatch(/^image is not set .*-c image=docker\.io\/<user>\/churn-gateway:<git sha>/);
    // Not the upstream project's :latest, nor any image: a host in the reserved .invalid domain.
    expect(containerOf(unsetTemplate, unset, unset.gateway.taskDefinition).Image).toBe(IMAGE_PLACEHOLDER);
    expect(IMAGE_PLACEHOLDER.split('/')[0]).toMatch(/\.invalid$/);
  });

  it('ships stdout to a log group with 30-day retention via awslogs', () => {
    // The gateway's group itself: the stack's other log groups have 30 days too, so any would match.
    expect(propsOf(template, stack, stack.gateway.logGroup).RetentionInDays).toBe(30);
    expect(container().LogConfiguration).toMatchObject({
      LogDriver: 'awslogs',
      Options: { 'awslogs-group': ref(stack, stack.gateway.logGroup), 'awslogs-stream-prefix': 'gateway', mode: 'non-blocking' },
    });
  });

  it('gives the gateway 30 s after SIGTERM, above its 20 s SHUTDOWN_TIMEOUT_MS', () => {
    expect(container().StopTimeout).toBe(30);
    expect(container().Environment).toContainEqual({ Name: 'SHUTDOWN_TIMEOUT_MS', Value: '20000' });
  });

  it('makes the root filesystem read-only with a writable /tmp volume', () => {
    expect(container().ReadonlyRootFilesystem).toBe(true);
    expect(container().MountPoints).toEqual([{ ContainerPath: '/tmp', ReadOnly: false, SourceVolume: 'tmp' }]);
    expect(template).toHaveResourceProperties('AWS::ECS::TaskDefinition', { Volumes: [{ Name: 'tmp' }] });
  });

  it('passes the gateway settings as environment variables', () => {
    expect(container().Environment).toEqual(
      expect.arrayContaining([
        { Name: 'PORT', Value: '8000' },
        // The ALB's health checks go there (load-balancer.ts).
        { Name: 'OPS_PORT', Value: String(OPS_PORT) },
        { Name: 'LOG_LEVEL', Value: 'info' },
        { Name: 'GRAPHIQL_ENABLED', Value: 'false' },
        { Name: 'DOCS_ENABLED', Value: 'true' },
        { Name: 'REQUEST_TIMEOUT_MS', Value: '30000' },
        // The ALB: its X-Forwarded-For entry names the caller on the gateway's lines.
        { Name: 'TRUSTED_PROXY_HOPS', Value: '1' },
      ]),
    );
    expect(container().Secrets).toBeUndefined();
    expect(JSON.stringify(container().Environment)).not.toMatch(/MLFLOW|MODEL_URI/);
  });

  it('grants no role any Secrets Manager access when no secret is given', () => {
    expect(secretReadGrants(template)).toEqual([]);
  });

  it('rolls deployments with a rollback circuit breaker and 100% minimum healthy', () => {
    expect(template).toHaveResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: {
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
      },
      // A starting task's failed ALB checks do not count for this long, so one that is still
      // loading its model (or waiting for MLflow) is not replaced before it could be ready.
      HealthCheckGracePeriodSeconds: 60,
    });
  });

  it('runs tasks spread over the private subnets of both AZs', () => {
    const privateSubnets = stack.network.vpc.privateSubnets;
    expect(privateSubnets).toHaveLength(2);
    expect(template).toHaveResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      AvailabilityZoneRebalancing: 'ENABLED',
      NetworkConfiguration: { AwsvpcConfiguration: { Subnets: privateSubnets.map((s) => ref(stack, s)) } },
    });
  });

  it('uses the fixed cluster, service, task family and container names the release workflow deploys to', () => {
    expect(ECS_NAMES).toEqual({ cluster: 'churn-gateway', service: 'churn-gateway', taskFamily: 'churn-gateway', container: 'gateway' });
    expect(template).toHaveResourceProperties('AWS::ECS::Cluster', { ClusterName: ECS_NAMES.cluster });
    expect(template).toHaveResourceProperties('AWS::ECS::Service', { ServiceName: ECS_NAMES.service });
    expect(template).toHaveResourceProperties('AWS::ECS::TaskDefinition', { Family: ECS_NAMES.taskFamily });
    expect(container().Name).toBe(ECS_NAMES.container);
    expect(template).toHaveOutput('ClusterName', { Value: ref(stack, stack.gateway.cluster) });
    expect(template).toHaveOutput('ServiceName', { Value: { 'Fn::GetAtt': [Match.anyValue(), 'Name'] } });
    expect(template).toHaveOutput('TaskDefinitionFamily', { Value: ECS_NAMES.taskFamily });
    expect(template).toHaveOutput('ContainerName', { Value: ECS_NAMES.container });
  });

  it('builds the VPC over 2 AZs with one NAT gateway by default', () => {
    expect(template).toHaveResourceCount('AWS::EC2::NatGateway', 1);
    expect(template).toHaveResourceCount('AWS::EC2::Subnet', 4);
    expect(template).toHaveResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
  });
});

describe('optional service settings', () => {
  const { stack, template } = synth({ ...ALL_FEATURES, natGateways: 2, cpu: 1024, memoryMiB: 4096, image: 'docker.io/telcochurn/churn-gateway:1.4.2' });
  const container = () => containerOf(template, stack, stack.gateway.taskDefinition);

  it('injects ADMIN_TOKEN from Secrets Manager, not as plain environment', () => {
    expect(container().Secrets).toContainEqual({ Name: 'ADMIN_TOKEN', ValueFrom: ADMIN_SECRET_ARN });
    expect(JSON.stringify(container().Environment)).not.toContain('ADMIN_TOKEN');
    expect(template).toHaveResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: ADMIN_SECRET_ARN }),
        ]),
      },
    });
  });

  it('injects MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD from the JSON keys of the credentials secret', () => {
    expect(container().Secrets).toEqual([
      { Name: 'ADMIN_TOKEN', ValueFrom: ADMIN_SECRET_ARN },
      { Name: 'MLFLOW_TRACKING_USERNAME', ValueFrom: `${MLFLOW_CREDENTIALS_SECRET_ARN}:username::` },
      { Name: 'MLFLOW_TRACKING_PASSWORD', ValueFrom: `${MLFLOW_CREDENTIALS_SECRET_ARN}:password::` },
    ]);
    expect(JSON.stringify(container().Environment)).not.toMatch(MLFLOW_CREDENTIAL_VARIABLES);
  });

  it('lets only the task execution role read the admin token and MLflow credentials secrets', () => {
    const executionRole = stack.gateway.taskDefinition.executionRole;
    if (!executionRole) throw new Error('the task definition has no execution role');
    expect(secretReadGrants(template)).toEqual([
      { roles: [ref(stack, executionRole)], actions: READ_SECRET, resource: ADMIN_SECRET_ARN },
      { roles: [ref(stack, executionRole)], actions: READ_SECRET, resource: MLFLOW_CREDENTIALS_SECRET_ARN },
    ]);
  });

  it('passes the MLflow and model URIs', () => {
    expect(container().Environment).toEqual(
      expect.arrayContaining([
        { Name: 'MLFLOW_TRACKING_URI', Value: 'http://mlflow.internal:5000' },
        { Name: 'MODEL_URI', Value: 'models:/telco-churn@champion' },
      ]),
    );
  });

  it('passes MLFLOW_STRICT=false by default: a task that cannot load the MLflow model serves the packaged one', () => {
    expect(container().Environment).toContainEqual({ Name: 'MLFLOW_STRICT', Value: 'false' });
  });

  it('passes MLFLOW_STRICT=true with mlflowStrict, so such a task exits and a deploy fails instead', () => {
    const strict = synth({ ...ALL_FEATURES, mlflowStrict: true });
    const env = containerOf(strict.template, strict.stack, strict.stack.gateway.taskDefinition).Environment;
    expect(env).toContainEqual({ Name: 'MLFLOW_STRICT', Value: 'true' });
  });

  it('uses the given image, task size and NAT gateway count', () => {
    expect(container().Image).toBe('docker.io/telcochurn/churn-gateway:1.4.2');
    expect(template).toHaveResourceProperties('AWS::ECS::TaskDefinition', { Cpu: '1024', Memory: '4096' });
    expect(template).toHaveResourceCount('AWS::EC2::NatGateway', 2);
  });
});

describe('MLflow credentials from Secrets Manager', () => {
  it('injects MLFLOW_TRACKING_TOKEN from the token secret, readable only by the execution role', () => {
    const { stack, template } = synth(MLFLOW_TOKEN_FEATURES);
    const container = containerOf(template, stack, stack.gateway.taskDefinition);
    expect(container.Secrets).toEqual([
      { Name: 'ADMIN_TOKEN', ValueFrom: ADMIN_SECRET_ARN },
      { Name: 'MLFLOW_TRACKING_TOKEN', ValueFrom: MLFLOW_TOKEN_SECRET_ARN },
    ]);
    expect(JSON.stringify(container.Environment)).not.toMatch(MLFLOW_CREDENTIAL_VARIABLES);
    const executionRole = stack.gateway.taskDefinition.executionRole;
    if (!executionRole) throw new Error('the task definition has no execution role');
    expect(secretReadGrants(template)).toEqual([
      { roles: [ref(stack, executionRole)], actions: READ_SECRET, resource: ADMIN_SECRET_ARN },
      { roles: [ref(stack, executionRole)], actions: READ_SECRET, resource: MLFLOW_TOKEN_SECRET_ARN },
    ]);
  });

  it('lets the execution role decrypt with the secrets\' customer-managed KMS key (secretsKmsKeyArn), that key only and through Secrets Manager only', () => {
    // Without kms:Decrypt on the key, ECS cannot read a secret encrypted with it: every task start
    // fails with ResourceInitializationError.
    const { stack, template } = synth({ ...ALL_FEATURES, secretsKmsKeyArn: SECRETS_KMS_KEY_ARN });
    const executionRole = stack.gateway.taskDefinition.executionRole;
    if (!executionRole) throw new Error('the task definition has no execution role');
    expect(kmsDecryptGrants(template)).toEqual([
      { roles: [ref(stack, executionRole)], actions: 'kms:Decrypt', resource: SECRETS_KMS_KEY_ARN, condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } } },
    ]);
    // Secrets Manager's default key needs no grant, so none is given without the setting.
    expect(kmsDecryptGrants(synth(ALL_FEATURES).template)).toEqual([]);
  });

  it('adds no MLflow secret and no grant for one when neither is set, MLflow or not', () => {
    const { stack, template } = synth({ ...ALL_FEATURES, mlflowCredentialsSecretArn: undefined });
    const container = containerOf(template, stack, stack.gateway.taskDefinition);
    expect(container.Secrets).toEqual([{ Name: 'ADMIN_TOKEN', ValueFrom: ADMIN_SECRET_ARN }]);
    expect(JSON.stringify(container)).not.toMatch(MLFLOW_CREDENTIAL_VARIABLES);
    expect(secretReadGrants(template).map((grant) => grant.resource)).toEqual([ADMIN_SECRET_ARN]);
  });
});
