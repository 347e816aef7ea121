#!/usr/bin/env node
// The CDK app: the gateway stack with cdk-nag's AwsSolutions pack on every synth (lib/app.ts).
import { createGatewayApp } from '../lib/app.js';

createGatewayApp().app.synth();
