#!/usr/bin/env node
/**
 * The CDK app: one kloud control-plane stack, configured from the `kloud:*` context
 * (docs/DEPLOY.md); cdk-nag's AwsSolutions checks make any unacknowledged finding fail the synth.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { KloudStack } from '../lib/kloud-stack.js';
import { kloudStackPropsFromContext } from '../lib/stack-context.js';

const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
new KloudStack(app, app.node.tryGetContext('kloud:stackName') ?? 'Kloud', {
  ...kloudStackPropsFromContext(app.node),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
