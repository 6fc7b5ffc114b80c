/**
 * The state machines' definitions as Step Functions would receive them, for local mode: each
 * construct of lib/ is synthesized in a stack of its own around functions named by ARN, and the
 * CloudFormation expressions left in its `DefinitionString` (joins, the partition and region)
 * are resolved here. So local mode runs exactly the states `cdk deploy` would create.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Workflow } from '../layers/control/tasks/task-runner.js';
import { BackupStateMachine } from '../lib/backup-state-machine.js';
import { RestoreStateMachine } from '../lib/restore-state-machine.js';
import { TaskStateMachine } from '../lib/task-state-machine.js';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';

/** The ARN local mode gives a function of kloud; local handlers are found by it. */
export function localFunctionArn(name: string): string {
  return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:kloud-${name}`;
}

export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
}

export interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: { readonly FunctionName?: string };
  /** a Map's or a Parallel's own states */
  readonly ItemProcessor?: AslDefinition;
  readonly Iterator?: AslDefinition;
  readonly Branches?: readonly AslDefinition[];
}

/**
 * The definition of each workflow's state machine, its worker named `kloud-task-worker`; the
 * backup's is the local variant (an inline Map over the batches the plan answers).
 */
export function workflowDefinitions(): Record<Workflow, AslDefinition> {
  return synthesizeDefinitions((stack) => {
    const worker = LambdaFunction.fromFunctionArn(stack, 'Worker', localFunctionArn('task-worker'));
    return {
      task: new TaskStateMachine(stack, 'Tasks', { worker }).stateMachine,
      backup: new BackupStateMachine(stack, 'Backups', {
        worker,
        stagingBucket: Bucket.fromBucketName(stack, 'Staging', 'kloud-staging'),
        local: true,
      }).stateMachine,
      restore: new RestoreStateMachine(stack, 'Restores', { worker }).stateMachine,
    };
  });
}

/** One synthesis of the machines `build` makes (a stack of their own), each machine's definition. */
function synthesizeDefinitions<K extends string>(
  build: (stack: Stack) => Record<K, StateMachine>,
): Record<K, AslDefinition> {
  const outdir = mkdtempSync(join(tmpdir(), 'kloud-local-synth-'));
  try {
    // CloudFormation's own template checks (a WebAssembly engine, ~10 s to start) belong to
    // `cdk synth` and the stack's tests, not to every start of local mode
    const app = new App({ outdir, builtinCloudFormationValidation: false, treeMetadata: false });
    const stack = new Stack(app, 'Local', { env: { account: ACCOUNT, region: REGION } });
    const machines = build(stack);
    const template = app.synth().getStackByName(stack.stackName).template as {
      Resources: Record<string, { Properties?: { DefinitionString?: unknown } }>;
    };
    const definitionOf = (machine: StateMachine): AslDefinition => {
      const logicalId = stack.getLogicalId(machine.node.defaultChild as CfnElement);
      const definition = template.Resources[logicalId]?.Properties?.DefinitionString;
      if (definition === undefined) throw new Error(`no state machine ${logicalId} in the synthesized stack`);
      return JSON.parse(resolveExpression(definition)) as AslDefinition;
    };
    return Object.fromEntries(
      Object.entries<StateMachine>(machines).map(([name, machine]) => [name, definitionOf(machine)]),
    ) as Record<K, AslDefinition>;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
};

function resolveExpression(value: unknown): string {
  if (typeof value === 'string') return value;
  const expression = value as { 'Fn::Join'?: [string, unknown[]]; Ref?: string };
  if (expression['Fn::Join']) {
    const [separator, parts] = expression['Fn::Join'];
    return parts.map(resolveExpression).join(separator);
  }
  if (expression.Ref && PSEUDO[expression.Ref]) return PSEUDO[expression.Ref]!;
  throw new Error(`local mode cannot resolve ${JSON.stringify(value)} in a state machine definition`);
}
