/**
 * The schedules' part of the stack: the schedule group, the role EventBridge Scheduler invokes
 * with (trusted by Scheduler for this account only, allowed to invoke scheduled-task only), and
 * the schedules function's grants (its group's schedules, passing that role to Scheduler only).
 * cdk-nag's checks run in the synthesis: a finding would throw.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { type SynthesizedStack, synthesizeStack } from './synthesized-stack.js';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}
type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

let synthesized: SynthesizedStack;
let resources: Resources;

beforeAll(() => {
  synthesized = synthesizeStack({}, { bundle: false, cfnValidation: false });
  resources = synthesized.template.toJSON().Resources as Resources;
});

afterAll(() => rmSync(synthesized.outdir, { recursive: true, force: true }));

const idsOf = (type: string) => Object.keys(resources).filter((id) => resources[id]!.Type === type);
const idStarting = (type: string, prefix: string) => idsOf(type).find((id) => id.startsWith(prefix))!;

function statementsOfRole(roleId: string): Statement[] {
  return idsOf('AWS::IAM::Policy')
    .map((p) => resources[p]!.Properties)
    .filter((p) => (p.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap((p) => (p.PolicyDocument as { Statement: Statement[] }).Statement);
}

function functionRole(prefix: string): string {
  const fn = resources[idStarting('AWS::Lambda::Function', `${prefix}Function`)]!.Properties;
  return (fn.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
}

function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v['Fn::Join']) return (v['Fn::Join'] as [string, unknown[]])[1].map(render).join('');
  if (v.Ref === 'AWS::Partition') return 'aws';
  return `<${String(v.Ref ?? (v['Fn::GetAtt'] as string[])[0])}>`;
}

test('the stack has one schedule group of its own', () => {
  expect(idsOf('AWS::Scheduler::ScheduleGroup')).toHaveLength(1);
  const group = resources[idsOf('AWS::Scheduler::ScheduleGroup')[0]!]!.Properties;
  expect(group.Name).toMatch(/^[0-9A-Za-z_.-]{1,64}$/);
  // schedules are made at run time, one per kloud schedule: none in the template
  expect(idsOf('AWS::Scheduler::Schedule')).toHaveLength(0);
});

test("Scheduler's role: assumed by Scheduler for this account only, may invoke scheduled-task and nothing else", () => {
  const roleId = idStarting('AWS::IAM::Role', 'SchedulesSchedulerRole');
  expect(resources[roleId]!.Properties.AssumeRolePolicyDocument).toEqual({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } },
      },
    ],
  });
  const statements = statementsOfRole(roleId);
  expect(statements).toHaveLength(1);
  expect(statements[0]).toMatchObject({ Effect: 'Allow', Action: 'lambda:InvokeFunction' });
  expect(render(statements[0]!.Resource)).toBe(
    `<${idStarting('AWS::Lambda::Function', 'ScheduledTaskFunction')}>`,
  );
});

test("the schedules function manages its group's schedules only and passes only that role, to Scheduler only", () => {
  const statements = statementsOfRole(functionRole('SchedulesApi'));
  const scheduler = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('scheduler:')));
  expect(scheduler).toHaveLength(1);
  expect([scheduler[0]!.Action].flat().sort()).toEqual([
    'scheduler:CreateSchedule',
    'scheduler:DeleteSchedule',
    'scheduler:GetSchedule',
    'scheduler:UpdateSchedule',
  ]);
  const groupId = idsOf('AWS::Scheduler::ScheduleGroup')[0]!;
  expect(render(scheduler[0]!.Resource)).toBe(
    `arn:aws:scheduler:eu-west-1:111122223333:schedule/<${groupId}>/*`,
  );
  const passRole = statements.filter((s) => [s.Action].flat().includes('iam:PassRole'));
  expect(passRole).toEqual([
    {
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: { 'Fn::GetAtt': [idStarting('AWS::IAM::Role', 'SchedulesSchedulerRole'), 'Arn'] },
      Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    },
  ]);
  const env = (
    resources[idStarting('AWS::Lambda::Function', 'SchedulesApiFunction')]!.Properties.Environment as {
      Variables: Record<string, unknown>;
    }
  ).Variables;
  expect(env).toMatchObject({
    KLOUD_SCHEDULE_GROUP: { Ref: groupId },
    KLOUD_SCHEDULER_ROLE_ARN: {
      'Fn::GetAtt': [idStarting('AWS::IAM::Role', 'SchedulesSchedulerRole'), 'Arn'],
    },
    KLOUD_SCHEDULED_TASK_ARN: {
      'Fn::GetAtt': [idStarting('AWS::Lambda::Function', 'ScheduledTaskFunction'), 'Arn'],
    },
  });
});

test('scheduled-task starts task executions and publishes task events; no other function may touch Scheduler', () => {
  const statements = statementsOfRole(functionRole('ScheduledTask'));
  const actions = statements.flatMap((s) => [s.Action].flat());
  expect(actions).toEqual(
    expect.arrayContaining(['states:StartExecution', 'events:PutEvents', 'dynamodb:PutItem']),
  );
  expect(actions.filter((a) => a.startsWith('scheduler:') || a === 'iam:PassRole')).toEqual([]);
  for (const prefix of ['Inventories', 'StoreApps', 'StoreActions', 'StoreBrowse', 'TasksApi', 'TaskWorker'])
    expect(
      statementsOfRole(functionRole(prefix))
        .flatMap((s) => [s.Action].flat())
        .filter((a) => a.startsWith('scheduler:')),
    ).toEqual([]);
});
