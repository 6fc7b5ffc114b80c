import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { KloudStack, type KloudStackProps } from '../../lib/kloud-stack.js';

export interface SynthesizedStack {
  readonly stack: KloudStack;
  readonly template: Template;
  /** the cloud assembly's folder (assets are `asset.<hash>` folders in it) */
  readonly outdir: string;
}

/**
 * One kloud stack synthesized as `cdk synth` does it, cdk-nag's AwsSolutions checks included (a
 * finding makes the synth throw); in a fixed region and account so ARNs read plainly, unless
 * `props.env` says otherwise (`{}`: environment-agnostic, as `cdk synth` without credentials). Without
 * `bundle` the functions' code is a placeholder: template assertions need no esbuild run.
 * Without `cfnValidation` CDK's own CloudFormation checks are skipped (a WebAssembly engine that
 * takes seconds to start): one synthesis per suite runs them (kloud-stack.test.ts's main one).
 */
export function synthesizeStack(
  props: KloudStackProps,
  { bundle = true, cfnValidation = true } = {},
): SynthesizedStack {
  const outdir = mkdtempSync(join(tmpdir(), 'kloud-cdk-'));
  const app = new App({
    outdir,
    builtinCloudFormationValidation: cfnValidation,
    // an empty list of bundling stacks is how `cdk` skips bundling for stacks it does not deploy
    ...(!bundle && { context: { 'aws:cdk:bundling-stacks': [] } }),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new KloudStack(app, 'Kloud', {
    ...props,
    env: { account: '111122223333', region: 'eu-west-1' },
  });
  app.synth();
  return { stack, template: Template.fromStack(stack), outdir };
}
