#!/usr/bin/env node
// Creates the CDK app with the gateway stack and runs cdk-nag's AwsSolutions pack on every synth.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { settingsFromContext } from '../lib/context.js';
import { GatewayStack } from '../lib/gateway-stack.js';

const app = new App();
// env is left out on purpose: the stack is environment-agnostic, synthesizes offline and deploys to the
// account/region of the CLI credentials (CDK_DEFAULT_ACCOUNT/REGION) without AZ lookups.
new GatewayStack(app, 'ChurnGateway', {
  description: 'Churn prediction gateway on ECS Fargate behind an ALB',
  settings: settingsFromContext(app.node),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
