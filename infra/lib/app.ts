import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { settingsFromContext } from './context.js';
import { GatewayStack, type GatewaySettings } from './gateway-stack.js';

/** The stack's id, fixed: ECS_NAMES are physical names, so there is one such stack per account and region. */
export const STACK_ID = 'ChurnGateway';

/**
 * The CDK app as `cdk synth` and `cdk deploy` run it (bin/app.ts): the gateway stack, its settings
 * read from context, and cdk-nag's AwsSolutions pack, which runs on every synth and fails it on a
 * finding lib/gateway-stack.ts does not acknowledge. The tests build their stacks through this
 * too (test/helpers.ts), so the app they check is the one that deploys. `overrides` replace
 * settings from context (tests).
 */
export function createGatewayApp(props: AppProps = {}, overrides: Partial<GatewaySettings> = {}): { app: App; stack: GatewayStack } {
  const app = new App(props);
  // env is left out on purpose: the stack is environment-agnostic, synthesizes offline and deploys to the
  // account/region of the CLI credentials (CDK_DEFAULT_ACCOUNT/REGION) without AZ lookups.
  const stack = new GatewayStack(app, STACK_ID, {
    description: 'Churn prediction gateway on ECS Fargate behind an ALB',
    settings: { ...settingsFromContext(app.node), ...overrides },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
