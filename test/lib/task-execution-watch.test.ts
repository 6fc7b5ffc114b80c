/**
 * The execution watch cannot lose an event: what EventBridge fails to deliver to the task worker,
 * and what the worker failed on through Lambda's retries, goes to an encrypted dead-letter queue
 * that only this rule and the worker may write to, and an alarm says so. cdk-nag's checks run in
 * the synthesis: a finding would throw.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { type SynthesizedStack, synthesizeStack } from './synthesized-stack.js';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

interface Statement {
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

let synthesized: SynthesizedStack;
let resources: Resources;

beforeAll(() => {
  synthesized = synthesizeStack({}, { bundle: false, cfnValidation: false });
  resources = synthesized.template.toJSON().Resources as Resources;
});

afterAll(() => rmSync(synthesized.outdir, { recursive: true, force: true }));

const idsOf = (type: string) => Object.keys(resources).filter((id) => resources[id]!.Type === type);
const only = (type: string) => {
  const ids = idsOf(type);
  expect(ids).toHaveLength(1);
  return { id: ids[0]!, props: resources[ids[0]!]!.Properties };
};

test("the rule's target retries, ages out and then puts the event in the dead-letter queue", () => {
  const queue = only('AWS::SQS::Queue');
  const rule = only('AWS::Events::Rule');
  const [target] = rule.props.Targets as Record<string, unknown>[];
  expect(target).toMatchObject({
    RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
    DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queue.id, 'Arn'] } },
  });
});

test("the worker's asynchronous runs: retried twice, then the same queue; the worker may send to it", () => {
  const queue = only('AWS::SQS::Queue');
  const config = only('AWS::Lambda::EventInvokeConfig').props;
  expect(config).toMatchObject({
    FunctionName: { Ref: expect.stringMatching(/^TaskWorkerFunction[0-9A-F]+$/) },
    Qualifier: '$LATEST',
    MaximumRetryAttempts: 2,
    MaximumEventAgeInSeconds: 7200,
    DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue.id, 'Arn'] } } },
  });
  const worker = resources[(config.FunctionName as { Ref: string }).Ref]!.Properties;
  const roleId = (worker.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const sends = idsOf('AWS::IAM::Policy')
    .map((p) => resources[p]!.Properties)
    .filter((p) => (p.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap((p) => (p.PolicyDocument as { Statement: Statement[] }).Statement)
    .filter((st) => [st.Action].flat().some((a) => a.startsWith('sqs:')));
  expect(sends).toEqual([
    expect.objectContaining({
      Effect: 'Allow',
      // what grantSendMessages gives: sending, and the two reads an SQS client makes first
      Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
      Resource: { 'Fn::GetAtt': [queue.id, 'Arn'] },
    }),
  ]);
});

test('the queue: encrypted, kept 14 days, written over TLS by events.amazonaws.com for this rule only', () => {
  const queue = only('AWS::SQS::Queue');
  expect(queue.props).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
  const policy = only('AWS::SQS::QueuePolicy').props;
  expect(policy.Queues).toEqual([{ Ref: queue.id }]);
  const statements = (policy.PolicyDocument as { Statement: Statement[] }).Statement;
  const allows = statements.filter((s) => s.Effect === 'Allow');
  expect(allows).toEqual([
    {
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: { 'Fn::GetAtt': [queue.id, 'Arn'] },
      Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [only('AWS::Events::Rule').id, 'Arn'] } } },
      Sid: expect.any(String),
    },
  ]);
  const denies = statements.filter((s) => s.Effect === 'Deny');
  expect(denies).toEqual([
    expect.objectContaining({
      Action: 'sqs:*',
      Principal: { AWS: '*' },
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    }),
  ]);
});

test('an alarm fires as soon as one event waits in the queue', () => {
  const queue = only('AWS::SQS::Queue');
  const alarm = only('AWS::CloudWatch::Alarm').props;
  expect(alarm).toMatchObject({
    Namespace: 'AWS/SQS',
    MetricName: 'ApproximateNumberOfMessagesVisible',
    Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue.id, 'QueueName'] } }],
    Statistic: 'Maximum',
    Period: 300,
    Threshold: 1,
    EvaluationPeriods: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
  });
  expect(alarm.AlarmDescription).toMatch(/redriven/);
});

test('the outputs name the queue, the alarm and the worker to redrive to', () => {
  const outputs = synthesized.template.toJSON().Outputs as Record<string, { Value: unknown }>;
  expect(outputs.UndeliveredEndsQueueUrl!.Value).toEqual({ Ref: only('AWS::SQS::Queue').id });
  expect(outputs.UndeliveredEndsAlarmName!.Value).toEqual({ Ref: only('AWS::CloudWatch::Alarm').id });
  expect(outputs.TaskWorkerName!.Value).toEqual({
    Ref: expect.stringMatching(/^TaskWorkerFunction[0-9A-F]+$/),
  });
});
