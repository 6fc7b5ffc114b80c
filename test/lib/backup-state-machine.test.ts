/**
 * The backup state machine as CloudFormation receives it (one stack synthesized with cdk-nag's
 * checks: a finding would throw), and its local variant as local mode runs it.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { BACKUP_STATES } from '../../lib/backup-state-machine.js';
import { workflowDefinitions } from '../../local/state-machine-definitions.js';
import { type SynthesizedStack, synthesizeStack } from './synthesized-stack.js';

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}
type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Asl = { StartAt: string; States: Record<string, any> };

let synthesized: SynthesizedStack;
let resources: Resources;
let machineId: string;
let definition: Asl;

/** A value as text: `Fn::Join` joined, the partition `aws`, other references as `<LogicalId>`. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v['Fn::Join']) return (v['Fn::Join'] as [string, unknown[]])[1].map(render).join('');
  if (v.Ref === 'AWS::Partition') return 'aws';
  return `<${String(v.Ref ?? (v['Fn::GetAtt'] as string[])[0])}>`;
}

const ofType = (type: string) => Object.keys(resources).filter((id) => resources[id]!.Type === type);

/** The statements of the policies attached to a role. */
function statementsOf(roleId: string): Statement[] {
  return ofType('AWS::IAM::Policy')
    .map((p) => resources[p]!.Properties)
    .filter((p) => (p.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap((p) => (p.PolicyDocument as { Statement: Statement[] }).Statement);
}

const granting = (statements: Statement[], action: string) =>
  statements
    .filter((s) => [s.Action].flat().includes(action))
    .flatMap((s) => [s.Resource].flat().map(render));

beforeAll(() => {
  synthesized = synthesizeStack({}, { bundle: false, cfnValidation: false });
  resources = synthesized.template.toJSON().Resources as Resources;
  machineId = ofType('AWS::StepFunctions::StateMachine').find((id) => id.startsWith('Backups'))!;
  definition = JSON.parse(render(resources[machineId]!.Properties.DefinitionString)) as Asl;
});

afterAll(() => rmSync(synthesized.outdir, { recursive: true, force: true }));

test('the stages read as sentences, in order, every failure recorded by the worker', () => {
  const { States } = definition;
  expect(definition.StartAt).toBe(BACKUP_STATES.start);
  expect(States[BACKUP_STATES.plan].Next).toBe(BACKUP_STATES.planned);
  expect(States[BACKUP_STATES.planned].Default).toBe(BACKUP_STATES.plan);
  expect(States[BACKUP_STATES.planned].Choices).toEqual([
    { Variable: '$.plan.ended', BooleanEquals: true, Next: BACKUP_STATES.ended },
    { Variable: '$.plan.planned', BooleanEquals: true, Next: BACKUP_STATES.batches },
  ]);
  expect(States[BACKUP_STATES.batches].Next).toBe(BACKUP_STATES.commit);
  expect(States[BACKUP_STATES.commit].Next).toBe(BACKUP_STATES.record);
  expect(States[BACKUP_STATES.record].Next).toBe(BACKUP_STATES.ended);
  for (const name of [
    BACKUP_STATES.start,
    BACKUP_STATES.plan,
    BACKUP_STATES.batches,
    BACKUP_STATES.commit,
    BACKUP_STATES.record,
  ])
    expect(States[name].Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: BACKUP_STATES.recordFailure },
    ]);
  expect(States[BACKUP_STATES.recordFailure]).toMatchObject({
    Parameters: { Payload: { action: 'fail', 'taskId.$': '$.taskId', 'error.$': '$.error' } },
    Next: BACKUP_STATES.failed,
  });
});

test('the batches: a Distributed Map reading the manifest, one batch a STANDARD child, no failure tolerated', () => {
  const map = definition.States[BACKUP_STATES.batches];
  expect(map).toMatchObject({
    Type: 'Map',
    ItemReader: {
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSON' },
      Parameters: { Bucket: expect.stringMatching(/^<Staging/), 'Key.$': '$.plan.manifest' },
    },
    ItemBatcher: { MaxItemsPerBatch: 1 },
    MaxConcurrency: 40,
    ResultWriter: {
      Resource: 'arn:aws:states:::s3:putObject',
      Parameters: { Bucket: expect.stringMatching(/^<Staging/), 'Prefix.$': '$.plan.results' },
    },
    ResultPath: null,
  });
  // no failure tolerated: Step Functions' default, set by no field
  for (const field of ['ToleratedFailureCount', 'ToleratedFailurePercentage', 'ToleratedFailureCountPath'])
    expect(map[field]).toBeUndefined();
  expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
  expect(map.ItemProcessor.States[BACKUP_STATES.batch].Parameters.Payload).toEqual({
    action: 'batch',
    'taskId.$': '$.Items[0].taskId',
    'items.$': '$.Items',
  });
});

/** The item processor's loop: the batch, then again until the worker answers it done. */
function expectBatchLoop(processor: Asl): void {
  expect(processor.StartAt).toBe(BACKUP_STATES.batch);
  expect(processor.States[BACKUP_STATES.batch]).toMatchObject({
    ResultSelector: { 'done.$': '$.Payload.done' },
    ResultPath: '$.result',
    Next: BACKUP_STATES.batchDone,
  });
  expect(processor.States[BACKUP_STATES.batchDone]).toEqual({
    Type: 'Choice',
    Choices: [{ Variable: '$.result.done', BooleanEquals: true, Next: BACKUP_STATES.batchEnded }],
    Default: BACKUP_STATES.batch,
  });
  expect(processor.States[BACKUP_STATES.batchEnded]).toEqual({ Type: 'Succeed' });
}

test("the Distributed Map's item processor runs a batch invocation after invocation until it is done", () => {
  expectBatchLoop(definition.States[BACKUP_STATES.batches].ItemProcessor as Asl);
});

test('every Lambda state retries throttling with full jitter and a crashed invocation twice', () => {
  const lambdaStates = [
    ...Object.entries(definition.States),
    ...Object.entries(definition.States[BACKUP_STATES.batches].ItemProcessor.States),
  ].filter(
    ([name, s]) => s.Resource === 'arn:aws:states:::lambda:invoke' && name !== BACKUP_STATES.recordFailure,
  );
  expect(lambdaStates.map(([name]) => name).sort()).toEqual(
    [
      BACKUP_STATES.start,
      BACKUP_STATES.plan,
      BACKUP_STATES.batch,
      BACKUP_STATES.commit,
      BACKUP_STATES.record,
    ].sort(),
  );
  for (const [, state] of lambdaStates) {
    expect(state.Retry).toContainEqual({
      ErrorEquals: ['Lambda.TooManyRequestsException'],
      IntervalSeconds: 2,
      MaxAttempts: 8,
      BackoffRate: 2,
      JitterStrategy: 'FULL',
    });
    expect(state.Retry).toContainEqual({
      ErrorEquals: ['States.TaskFailed', 'Sandbox.Timedout'],
      IntervalSeconds: 5,
      MaxAttempts: 2,
      BackoffRate: 2,
    });
  }
});

test("the machine's role: the staging bucket's backups/ prefix only, its own executions, the worker", () => {
  const roleId = (resources[machineId]!.Properties.RoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
  const statements = statementsOf(roleId);
  for (const action of ['s3:GetObject', 's3:PutObject'])
    expect(granting(statements, action)).toEqual([expect.stringMatching(/^<Staging\w+>\/backups\/\*$/)]);
  expect(granting(statements, 'states:StartExecution').join(' ')).toMatch(/Backups/);
  expect(granting(statements, 'lambda:InvokeFunction').every((r) => r.startsWith('<TaskWorker'))).toBe(true);
});

test("the worker's staging grants: restores/, backups/ and maintenance/, nothing else of the bucket", () => {
  const fnId = ofType('AWS::Lambda::Function').find((f) => f.startsWith('TaskWorkerFunction'))!;
  const roleId = (resources[fnId]!.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
  const staging = granting(statementsOf(roleId), 's3:PutObject').filter((r) => r.startsWith('<Staging'));
  expect(staging.map((r) => r.replace(/^<Staging\w+>/, '')).sort()).toEqual([
    '/backups/*',
    '/maintenance/*',
    '/restores/*',
  ]);
});

test('the local variant: an inline Map over the batches the plan answers, the same processor and its loop', () => {
  const local = workflowDefinitions().backup as unknown as Asl;
  expect(local.States[BACKUP_STATES.plan].Parameters.Payload).toMatchObject({ answerItems: true });
  const map = local.States[BACKUP_STATES.batches];
  expect(map).toMatchObject({
    Type: 'Map',
    ItemsPath: '$.plan.items',
    ItemSelector: { 'Items.$': 'States.Array($$.Map.Item.Value)' },
    MaxConcurrency: 40,
  });
  expect(map.ItemReader).toBeUndefined();
  expect(map.ItemProcessor.States[BACKUP_STATES.batch].Parameters.Payload).toEqual(
    definition.States[BACKUP_STATES.batches].ItemProcessor.States[BACKUP_STATES.batch].Parameters.Payload,
  );
  expectBatchLoop(map.ItemProcessor as Asl);
});
