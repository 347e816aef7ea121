import type { AppProps, CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { createGatewayApp } from '../lib/app.js';
import type { GatewaySettings, GatewayStack } from '../lib/gateway-stack.js';

export const CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789';
export const ADMIN_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:churn/admin-token-AbC123';
export const MLFLOW_CREDENTIALS_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:churn/mlflow-credentials-XyZ789';
export const MLFLOW_TOKEN_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:churn/mlflow-token-Qw3rTy';
export const SECRETS_KMS_KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/**
 * Every optional feature on: HTTPS, ADMIN_TOKEN secret, MLflow egress with username/password from
 * Secrets Manager, alarm topic, a metrics scraper's ingress. (The MLflow token secret is the
 * alternative to the credentials: MLFLOW_TOKEN_FEATURES.)
 */
export const ALL_FEATURES: Partial<GatewaySettings> = {
  certificateArn: CERTIFICATE_ARN,
  adminTokenSecretArn: ADMIN_SECRET_ARN,
  mlflowCredentialsSecretArn: MLFLOW_CREDENTIALS_SECRET_ARN,
  mlflowTrackingUri: 'http://mlflow.internal:5000',
  modelUri: 'models:/telco-churn@champion',
  mlflowPort: 5000,
  alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:churn-alerts',
  metricsScraperSecurityGroupId: 'sg-0123456789abcdef0',
};

/**
 * ALL_FEATURES with MLFLOW_TRACKING_TOKEN from Secrets Manager instead of username/password, and
 * the secrets encrypted with a customer-managed KMS key (so the security checks see its grant).
 */
export const MLFLOW_TOKEN_FEATURES: Partial<GatewaySettings> = {
  ...ALL_FEATURES,
  mlflowCredentialsSecretArn: undefined,
  mlflowTokenSecretArn: MLFLOW_TOKEN_SECRET_ARN,
  secretsKmsKeyArn: SECRETS_KMS_KEY_ARN,
};

/** The image the tests deploy unless they give one: `image` has no default, as every deploy gives it. */
export const TEST_IMAGE = 'docker.io/acme/churn-gateway:0123456789abcdef0123456789abcdef01234567';

/**
 * The stack as the app deploys it (lib/app.ts: cdk-nag included), with these settings instead of
 * the defaults, and TEST_IMAGE unless the context or the overrides give an image (or unset it).
 */
export function buildStack(overrides: Partial<GatewaySettings> = {}, appProps: AppProps = {}): GatewayStack {
  return createGatewayApp({ ...appProps, context: { image: TEST_IMAGE, ...appProps.context } }, overrides).stack;
}

export function synth(overrides: Partial<GatewaySettings> = {}): { stack: GatewayStack; template: Template } {
  const stack = buildStack(overrides);
  return { stack, template: Template.fromStack(stack) };
}

/** The template's { Ref } to the L1 resource behind an L2 construct. */
export function ref(stack: GatewayStack, construct: IConstruct): { Ref: string } {
  return { Ref: logicalId(stack, construct) };
}

export function getAtt(stack: GatewayStack, construct: IConstruct, attribute: string): { 'Fn::GetAtt': [string, string] } {
  return { 'Fn::GetAtt': [logicalId(stack, construct), attribute] };
}

export function logicalId(stack: GatewayStack, construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

/** A synthesized resource's Properties: the template is JSON, which aws-cdk-lib/assertions types `any`. */
export type Props = Record<string, unknown>;

/** Properties of the L1 resource behind an L2 construct, as synthesized. */
export function propsOf(template: Template, stack: GatewayStack, construct: IConstruct): Props {
  const resources = template.toJSON().Resources as Record<string, { Properties?: Props } | undefined>;
  const id = logicalId(stack, construct);
  const props = resources[id]?.Properties;
  if (!props) throw new Error(`no resource ${id} with Properties in the template`);
  return props;
}

/** Properties of every resource of a type, e.g. 'AWS::ECS::Service'. */
export function propsOfType(template: Template, type: string): Props[] {
  return Object.values(template.findResources(type)).map((resource) => (resource.Properties ?? {}) as Props);
}

/** The first container definition of a task definition, as synthesized. */
export function containerOf(template: Template, stack: GatewayStack, taskDefinition: IConstruct): Props {
  const [container] = propsOf(template, stack, taskDefinition).ContainerDefinitions as Props[];
  if (!container) throw new Error('the task definition has no container');
  return container;
}

/** Each IAM policy statement with a Secrets Manager action: the policy's Roles, the statement's Action and Resource. */
/** Every IAM statement that allows kms:Decrypt, with the roles its policy is attached to. */
export function kmsDecryptGrants(template: Template): { roles: unknown; actions: unknown; resource: unknown; condition: unknown }[] {
  return propsOfType(template, 'AWS::IAM::Policy').flatMap((policy) =>
    ((policy.PolicyDocument as { Statement: Props[] }).Statement)
      .filter((statement) => [statement.Action].flat().some((action) => typeof action === 'string' && /^kms:(Decrypt|\*)$/.test(action)))
      .map((statement) => ({ roles: policy.Roles, actions: statement.Action, resource: statement.Resource, condition: statement.Condition })),
  );
}

export function secretReadGrants(template: Template): { roles: unknown; actions: unknown; resource: unknown }[] {
  return propsOfType(template, 'AWS::IAM::Policy').flatMap((policy) =>
    ((policy.PolicyDocument as { Statement: Props[] }).Statement)
      .filter((statement) => [statement.Action].flat().some((action) => typeof action === 'string' && action.startsWith('secretsmanager:')))
      .map((statement) => ({ roles: policy.Roles, actions: statement.Action, resource: statement.Resource })),
  );
}
