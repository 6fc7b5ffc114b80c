/**
 * The scheduled-task function as Lambda runs it (dynalite): an event that is not a scheduled run
 * is logged and dropped (a retry could not fix it), and a run of a schedule that does not exist
 * does nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { installStandIns } from '../../layers/control/runtime/stand-ins.js';
import { dynaliteForTests, TABLE_NAME } from '../layers/control/dynalite-table.js';
import { capturePrinted, testContext, useHandlerEnvironment } from './proxy-event.js';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const dynamo = dynaliteForTests();
const printed: string[] = [];
const started: string[] = [];
let dir: string;
let handler: Handler;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kloud-scheduled-task-'));
  useHandlerEnvironment(TABLE_NAME, dir, dynamo.endpoint, {});
  installStandIns({
    taskRunner: {
      start: async (task) => (started.push(task.id), `arn:test:${task.id}`),
      stop: async () => undefined,
    },
    taskEvents: { publish: async () => undefined },
  });
  capturePrinted(printed);
  handler = (await import('../../functions/scheduled-task/handler.js')).handler as Handler;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const context = testContext('req-scheduled', 29_000);

test('an event that is not a scheduled run is logged and dropped', async () => {
  for (const event of [{}, { scheduleId: 'x', scheduledTime: 'yesterday' }, { detail: {} }]) {
    expect(await handler(event, context)).toEqual({ outcome: 'invalid' });
  }
  const logged = printed.filter((line) => line.includes('not a scheduled run'));
  expect(logged).toHaveLength(3);
  expect(logged[0]).toContain('"level":"ERROR"');
  expect(started).toEqual([]);
});

test('a run of a schedule that does not exist does nothing', async () => {
  const event = { scheduleId: '5f0c3b9e-4f5a-4d1e-9a55-7a1f4f0e2b11', scheduledTime: '2026-12-06T06:00:00Z' };
  expect(await handler(event, context)).toEqual({ outcome: 'skipped', reason: 'deleted' });
  expect(started).toEqual([]);
});
