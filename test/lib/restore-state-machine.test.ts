/**
 * The restore workflow as `cdk synth` writes it: its states and their retry policies, the stack's
 * wiring (the tasks API starts restores on it) and the grant a cold restore needs
 * (s3:RestoreObject on the store buckets' packs, nothing else, for the task worker only).
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { RESTORE_STATES } from '../../lib/restore-state-machine.js';
import { type SynthesizedStack, synthesizeStack } from './synthesized-stack.js';

interface Statement {
  Action: string | string[];
  Resource: unknown;
}
type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
type States = Record<string, Record<string, unknown>>;

let synthesized: SynthesizedStack;
let resources: Resources;

beforeAll(() => {
  synthesized = synthesizeStack(
    {
      storeBuckets: [
        { bucket: 'team-stores', prefix: 'kloud/' },
        { bucket: 'whole-bucket', prefix: '' },
      ],
    },
    { bundle: false, cfnValidation: false },
  );
  resources = synthesized.template.toJSON().Resources as Resources;
});

afterAll(() => rmSync(synthesized.outdir, { recursive: true, force: true }));

/** `Fn::Join` joined, the partition `aws`, other references as `<LogicalId>`. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v['Fn::Join']) return (v['Fn::Join'] as [string, unknown[]])[1].map(render).join('');
  if (v.Ref === 'AWS::Partition') return 'aws';
  return `<${String(v.Ref ?? (v['Fn::GetAtt'] as string[])[0])}>`;
}

const restoresId = () =>
  Object.keys(resources).find(
    (id) => resources[id]!.Type === 'AWS::StepFunctions::StateMachine' && id.startsWith('Restores'),
  )!;

function definition(): { StartAt: string; States: States } {
  return JSON.parse(render(resources[restoresId()]!.Properties.DefinitionString)) as {
    StartAt: string;
    States: States;
  };
}

/** Every statement of every policy, with the logical ID of the role it is attached to. */
function statements(): { role: string; statement: Statement }[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .flatMap((p) =>
      (p.Properties.Roles as { Ref: string }[]).flatMap((role) =>
        (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement.map((statement) => ({
          role: role.Ref,
          statement,
        })),
      ),
    );
}

describe('the restore state machine', () => {
  test('marks the task running, plans, and goes where the worker says: the slices, a request, a wait', () => {
    const { StartAt, States } = definition();
    expect(StartAt).toBe(RESTORE_STATES.start);
    expect(States[RESTORE_STATES.cancelledBeforeStart]).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.start.done', BooleanEquals: true, Next: RESTORE_STATES.ended }],
      Default: RESTORE_STATES.plan,
    });
    for (const [state, action] of [
      [RESTORE_STATES.plan, 'plan-restore'],
      [RESTORE_STATES.request, 'request-retrieval'],
      [RESTORE_STATES.poll, 'poll-retrieval'],
    ] as const)
      expect(States[state]).toMatchObject({
        Type: 'Task',
        Parameters: { Payload: { action, 'taskId.$': '$.taskId' } },
        ResultSelector: { 'next.$': '$.Payload.next', 'waitSeconds.$': '$.Payload.waitSeconds' },
        ResultPath: '$.step',
        Next: RESTORE_STATES.next,
      });
    expect(States[RESTORE_STATES.next]).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: '$.step.next', StringEquals: 'restore', Next: RESTORE_STATES.slice },
        { Variable: '$.step.next', StringEquals: 'request', Next: RESTORE_STATES.request },
        { Variable: '$.step.next', StringEquals: 'wait', Next: RESTORE_STATES.wait },
      ],
      Default: RESTORE_STATES.ended,
    });
    // the worker's answer sets the wait, by the tier's typical time
    expect(States[RESTORE_STATES.wait]).toEqual({
      Type: 'Wait',
      SecondsPath: '$.step.waitSeconds',
      Next: RESTORE_STATES.poll,
    });
    expect(States[RESTORE_STATES.slice]).toMatchObject({
      Parameters: { Payload: { action: 'slice' } },
      Next: RESTORE_STATES.done,
    });
    expect(States[RESTORE_STATES.done]).toMatchObject({
      Choices: [{ Variable: '$.slice.done', BooleanEquals: true, Next: RESTORE_STATES.ended }],
      Default: RESTORE_STATES.slice,
    });
    expect(Object.keys(States).sort()).toEqual(Object.values(RESTORE_STATES).sort());
  });

  test("every worker state retries as the task machine's do, and a failure is recorded", () => {
    const { States } = definition();
    for (const state of [
      RESTORE_STATES.start,
      RESTORE_STATES.plan,
      RESTORE_STATES.request,
      RESTORE_STATES.poll,
      RESTORE_STATES.slice,
    ]) {
      expect(States[state]).toMatchObject({
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: expect.stringMatching(/^<TaskWorkerFunction/) },
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: RESTORE_STATES.recordFailure }],
      });
      expect(States[state]!.Retry).toEqual([
        expect.objectContaining({ ErrorEquals: expect.arrayContaining(['Lambda.ServiceException']) }),
        expect.objectContaining({
          ErrorEquals: ['Lambda.TooManyRequestsException'],
          MaxAttempts: 8,
          JitterStrategy: 'FULL',
        }),
        expect.objectContaining({ ErrorEquals: ['States.TaskFailed', 'Sandbox.Timedout'], MaxAttempts: 2 }),
      ]);
    }
    expect(States[RESTORE_STATES.recordFailure]).toMatchObject({
      Parameters: { Payload: { action: 'fail', 'error.$': '$.error' } },
      Next: RESTORE_STATES.failed,
    });
    expect(resources[restoresId()]!.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
    });
  });

  test('the tasks API starts restores on it', () => {
    const api = Object.entries(resources).find(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('TasksApiFunction'),
    )![1];
    const env = (api.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(render(env.KLOUD_RESTORE_STATE_MACHINE_ARN)).toBe(`<${restoresId()}>`);
    expect(render(env.KLOUD_TASK_STATE_MACHINE_ARN)).not.toBe(`<${restoresId()}>`);
  });
});

describe('the retrieval grant', () => {
  test("s3:RestoreObject only on the store buckets' packs, for the task worker only", () => {
    const granted = statements().filter(({ statement }) =>
      [statement.Action].flat().some((a) => a === 's3:RestoreObject' || a === 's3:*' || a === '*'),
    );
    expect(granted).toHaveLength(1);
    const [{ role, statement }] = granted as [{ role: string; statement: Statement }];
    expect(role).toMatch(/^TaskWorkerRole/);
    expect(statement.Action).toBe('s3:RestoreObject');
    expect([statement.Resource].flat().map(render)).toEqual([
      'arn:aws:s3:::team-stores/kloud/packs/*',
      'arn:aws:s3:::team-stores/kloud/*/packs/*',
      'arn:aws:s3:::whole-bucket/packs/*',
      'arn:aws:s3:::whole-bucket/*/packs/*',
    ]);
  });
});
