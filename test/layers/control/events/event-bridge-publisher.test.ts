/**
 * The EventBridge publisher against a local HTTP endpoint that answers as EventBridge does: the
 * request is the real PutEvents call the SDK signs and sends.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBridgePublisher } from '../../../../layers/control/events/event-bridge-publisher.js';
import type { TaskStateChange } from '../../../../layers/control/tasks/task-events.js';

let server: Server;
let client: EventBridgeClient;
const received: { target: string; body: { Entries: Record<string, unknown>[] } }[] = [];
let answer: Record<string, unknown> = {};

const change: TaskStateChange = {
  taskId: '01a2340d-f660-77d7-b9e4-288167459cee',
  type: 'check',
  appId: '00000000-0000-4000-8000-000000000001',
  state: 'failed',
  previousState: 'running',
  failure: { code: 'CHECK_FOUND_PROBLEMS', message: 'the check found 1 problem(s)' },
  at: '2026-12-06T00:00:00.000Z',
};

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      received.push({ target: String(req.headers['x-amz-target']), body: JSON.parse(text) });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(answer));
    });
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  client = new EventBridgeClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  client.destroy();
  await new Promise((done) => server.close(done));
});

test('a state change is one PutEvents entry: source kloud, detail type Task State Change, on the bus', async () => {
  answer = { FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] };
  await new EventBridgePublisher(client, 'kloud-bus').publish(change);
  expect(received.at(-1)!.target).toBe('AWSEvents.PutEvents');
  const [entry] = received.at(-1)!.body.Entries;
  expect(entry).toMatchObject({
    Source: 'kloud',
    DetailType: 'Task State Change',
    EventBusName: 'kloud-bus',
  });
  expect(JSON.parse(String(entry!.Detail))).toEqual(change);
});

test('an entry EventBridge refuses is an error saying why', async () => {
  answer = {
    FailedEntryCount: 1,
    Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }],
  };
  await expect(new EventBridgePublisher(client, 'default').publish(change)).rejects.toThrow(
    /EventBridge refused the event: ThrottlingException slow down/,
  );
});
