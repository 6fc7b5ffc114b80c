/**
 * The EventBridge Scheduler backend's requests, as the SDK sends them to an HTTP server on
 * 127.0.0.1 that records each one and answers as Scheduler's REST-JSON API does (no AWS).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { EventBridgeScheduler } from '../../../../layers/control/schedules/event-bridge-scheduler.js';
import type { ScheduleRecord } from '../../../../layers/control/schedules/schedule.js';

interface Recorded {
  method: string;
  path: string;
  body: unknown;
}

const recorded: Recorded[] = [];
/** the next answer's status and error type (none: 200) */
let refuseWith: { status: number; type: string; message: string } | undefined;
let server: Server;
let client: SchedulerClient;

const TARGET = {
  group: 'kloud-schedules',
  roleArn: 'arn:aws:iam::123456789012:role/kloud-scheduler',
  functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:kloud-scheduled-task',
};

beforeAll(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      recorded.push({ method: req.method!, path: req.url!, body: text ? JSON.parse(text) : undefined });
      const refusal = refuseWith;
      refuseWith = undefined;
      if (refusal) {
        res.writeHead(refusal.status, {
          'content-type': 'application/json',
          'x-amzn-errortype': refusal.type,
        });
        res.end(JSON.stringify({ message: refusal.message }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        req.method === 'DELETE' ? '{}' : JSON.stringify({ ScheduleArn: 'arn:aws:scheduler:::schedule/x' }),
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  client = new SchedulerClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  server.close();
});

const schedule: ScheduleRecord = {
  id: '5f0c3b9e-4f5a-4d1e-9a55-7a1f4f0e2b11',
  name: 'nightly check',
  expression: 'cron(0 2 * * ? *)',
  timezone: 'Europe/Paris',
  task: { type: 'check', appId: '00000000-0000-4000-8000-00000000000a', parameters: { readData: false } },
  enabled: true,
  createdAt: '2026-12-06T06:00:00.000Z',
  updatedAt: '2026-12-06T06:00:00.000Z',
  version: 1,
};

test('create sends the schedule in the group: the function target with the role and the run input', async () => {
  await new EventBridgeScheduler(client, TARGET).create(schedule);
  const request = recorded.at(-1)!;
  expect(request.method).toBe('POST');
  expect(request.path).toBe(`/schedules/${schedule.id}`);
  expect(request.body).toEqual({
    GroupName: 'kloud-schedules',
    ScheduleExpression: 'cron(0 2 * * ? *)',
    ScheduleExpressionTimezone: 'Europe/Paris',
    State: 'ENABLED',
    FlexibleTimeWindow: { Mode: 'OFF' },
    Description: 'kloud schedule nightly check',
    Target: {
      Arn: TARGET.functionArn,
      RoleArn: TARGET.roleArn,
      Input: expect.any(String),
    },
    ClientToken: expect.any(String),
  });
  // Scheduler fills in the scheduled time of each run: the run's idempotency key
  expect(JSON.parse((request.body as { Target: { Input: string } }).Target.Input)).toEqual({
    scheduleId: schedule.id,
    scheduledTime: '<aws.scheduler.scheduled-time>',
  });
});

test('update sends the whole definition, paused as DISABLED', async () => {
  await new EventBridgeScheduler(client, TARGET).update({
    ...schedule,
    enabled: false,
    expression: 'rate(2 hours)',
  });
  const request = recorded.at(-1)!;
  expect(request.method).toBe('PUT');
  expect(request.path).toBe(`/schedules/${schedule.id}`);
  expect(request.body).toMatchObject({
    GroupName: 'kloud-schedules',
    ScheduleExpression: 'rate(2 hours)',
    State: 'DISABLED',
    Target: { Arn: TARGET.functionArn, RoleArn: TARGET.roleArn },
  });
});

test('delete names the group; a schedule already gone is no error', async () => {
  const backend = new EventBridgeScheduler(client, TARGET);
  await backend.delete(schedule.id);
  expect(recorded.at(-1)).toMatchObject({
    method: 'DELETE',
    path: expect.stringMatching(new RegExp(`^/schedules/${schedule.id}\\?.*groupName=kloud-schedules`)),
  });
  refuseWith = { status: 404, type: 'ResourceNotFoundException', message: 'Schedule not found' };
  await expect(backend.delete(schedule.id)).resolves.toBeUndefined();
});

test("Scheduler's validation refusal is the caller's 422; other errors stay errors", async () => {
  const backend = new EventBridgeScheduler(client, TARGET);
  refuseWith = { status: 400, type: 'ValidationException', message: 'Invalid Schedule Expression' };
  await expect(backend.create(schedule)).rejects.toMatchObject({
    status: 422,
    code: 'SCHEDULE_REFUSED',
    message: 'EventBridge Scheduler refused the schedule: Invalid Schedule Expression',
  });
  refuseWith = { status: 500, type: 'InternalServerException', message: 'oops' };
  await expect(backend.update(schedule)).rejects.toMatchObject({ name: 'InternalServerException' });
});
