#!/usr/bin/env node
// The CDK app: the gateway stack with cdk-nag's AwsSolutions pack on every synth (lib/app.ts).
import { createGatewayApp } from '../lib/app.js';
import { PropsValidationError } from '../lib/validation.js';

try {
  createGatewayApp().app.synth();
} catch (err) {
  // A setting the operator typed: its problems once, without the stack trace Node would print
  // above them (the source line, a dozen frames, then the problems again as the error's fields).
  if (!(err instanceof PropsValidationError)) throw err;
  process.stderr.write(`cannot synthesize the stack: ${err.message}\n`);
  process.exitCode = 1;
}
