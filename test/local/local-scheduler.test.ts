/**
 * Local mode's scheduler on a fast clock (a minute of schedule time lasts 20 ms): the events it
 * sends the scheduled-task function are Scheduler's, one per fire time croner gives, in schedule
 * time; a paused or deleted schedule stops firing; at start only the enabled stored ones are armed.
 */
import type { ScheduledRunEvent, ScheduleRecord } from '../../layers/control/schedules/schedule.js';
import { ScheduleRepository } from '../../layers/control/schedules/schedule-repository.js';
import { LocalScheduler } from '../../local/local-scheduler.js';
import { dynaliteForTests } from '../layers/control/dynalite-table.js';

const dynamo = dynaliteForTests();
const MINUTE_MS = 20;

function schedule(change: Partial<ScheduleRecord> = {}): ScheduleRecord {
  return {
    id: crypto.randomUUID(),
    name: 'every minute',
    expression: 'cron(* * * * ? *)',
    timezone: 'UTC',
    task: { type: 'check', appId: '00000000-0000-4000-8000-00000000000a', parameters: {} },
    enabled: true,
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
    version: 1,
    ...change,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function recordingScheduler() {
  const events: ScheduledRunEvent[] = [];
  const errors: unknown[] = [];
  const scheduler = new LocalScheduler(
    { handler: async (event) => void events.push(event as ScheduledRunEvent), timeoutMs: 1000 },
    (_event, err) => errors.push(err),
    { minuteMs: MINUTE_MS },
  );
  return { scheduler, events, errors };
}

test("a cron every minute fires once per schedule minute, each with Scheduler's whole-second scheduled time", async () => {
  const { scheduler, events, errors } = recordingScheduler();
  const every = schedule();
  const started = Date.now();
  await scheduler.create(every);
  await sleep(30 * MINUTE_MS);
  await scheduler.stop();
  const elapsed = Date.now() - started;
  expect(errors).toEqual([]);
  expect(events.length).toBeGreaterThanOrEqual(10);
  // no more than the schedule minutes that passed (the sleep may last longer than asked)
  expect(events.length).toBeLessThanOrEqual(Math.ceil(elapsed / MINUTE_MS) + 1);
  const times = events.map((e) => Date.parse(e.scheduledTime));
  for (const event of events) {
    expect(event.scheduleId).toBe(every.id);
    expect(event.scheduledTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z$/);
  }
  // consecutive minutes, none twice, none skipped
  for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(60_000);
});

test('pausing (an update to disabled) and deleting stop the fires', async () => {
  const { scheduler, events } = recordingScheduler();
  const paused = schedule();
  const deleted = schedule();
  await scheduler.create(paused);
  await scheduler.create(deleted);
  await sleep(5 * MINUTE_MS);
  await scheduler.update({ ...paused, enabled: false });
  await scheduler.delete(deleted.id);
  const count = events.length;
  expect(count).toBeGreaterThan(0);
  await sleep(10 * MINUTE_MS);
  expect(events).toHaveLength(count);
  await scheduler.stop();
});

test('at start the enabled schedules of the table are armed, the paused ones not', async () => {
  const repository = new ScheduleRepository(dynamo.table());
  const enabled = schedule({ expression: 'rate(1 minute)' });
  const paused = schedule({ enabled: false });
  await repository.insert(enabled);
  await repository.insert(paused);
  const { scheduler, events } = recordingScheduler();
  expect(await scheduler.armStored(repository)).toBe(1);
  await sleep(10 * MINUTE_MS);
  await scheduler.stop();
  expect(events.length).toBeGreaterThan(0);
  expect(new Set(events.map((e) => e.scheduleId))).toEqual(new Set([enabled.id]));
});
