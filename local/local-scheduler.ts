/**
 * Local mode's ScheduleBackend: each enabled schedule's next fire time (the same nextRuns the API
 * shows, from croner) on a timer in this process; at that time it calls the scheduled-task
 * handler with the event EventBridge Scheduler would send, and arms the next one.
 *
 * Time can run fast for tests: with KLOUD_SCHEDULE_MINUTE_MS a minute of schedule time lasts that
 * many ms of real time, counted from the scheduler's start, so `rate(1 minute)` fires every
 * KLOUD_SCHEDULE_MINUTE_MS and a cron every so many scaled minutes. Fire times and the
 * scheduled times sent are schedule time; with the default (60000) that is the wall clock.
 */
import { randomUUID } from 'node:crypto';
import type { ScheduledRunEvent, ScheduleRecord } from '../layers/control/schedules/schedule.js';
import type { ScheduleBackend } from '../layers/control/schedules/schedule-backend.js';
import { nextRuns } from '../layers/control/schedules/schedule-expression.js';
import type { ScheduleRepository } from '../layers/control/schedules/schedule-repository.js';
import { lambdaContext } from './lambda-context.js';
import type { LocalFunctionSpec } from './local-task-runner.js';

const MINUTE_MS = 60_000;
/** setTimeout's longest delay (about 24.8 days); a later run is re-armed when it ends */
const MAX_TIMER_MS = 2 ** 31 - 1;
const LIST_PAGE = 100;

/** Schedule time: real time, sped up `MINUTE_MS / minuteMs` times from `startedAt`. */
class ScheduleClock {
  constructor(
    private readonly minuteMs: number,
    private readonly startedAt: number,
  ) {}

  now(): number {
    return this.startedAt + ((Date.now() - this.startedAt) * MINUTE_MS) / this.minuteMs;
  }

  /** the real ms that `ms` of schedule time lasts */
  realDelay(ms: number): number {
    return Math.max(0, (ms * this.minuteMs) / MINUTE_MS);
  }
}

/** Scheduler's `<aws.scheduler.scheduled-time>`: whole seconds, UTC. */
const scheduledTime = (at: Date) => at.toISOString().replace(/\.\d{3}Z$/, 'Z');

export class LocalScheduler implements ScheduleBackend {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly runs = new Set<Promise<void>>();
  private readonly clock: ScheduleClock;

  constructor(
    /** the scheduled-task function */
    private readonly target: LocalFunctionSpec,
    private readonly onRunError: (event: ScheduledRunEvent, err: unknown) => void,
    options: { readonly minuteMs?: number } = {},
  ) {
    this.clock = new ScheduleClock(options.minuteMs ?? MINUTE_MS, Date.now());
  }

  async create(schedule: ScheduleRecord): Promise<void> {
    this.arm(schedule);
  }

  async update(schedule: ScheduleRecord): Promise<void> {
    this.arm(schedule);
  }

  async delete(scheduleId: string): Promise<void> {
    this.disarm(scheduleId);
  }

  /** Arms every enabled schedule of the table (local mode's start). */
  async armStored(repository: ScheduleRepository): Promise<number> {
    let armed = 0;
    let nextToken: string | undefined;
    do {
      const page = await repository.list(LIST_PAGE, nextToken);
      for (const schedule of page.items.filter((s) => s.enabled)) {
        this.arm(schedule);
        armed++;
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return armed;
  }

  /** Stops every timer and waits for the runs under way. */
  async stop(): Promise<void> {
    for (const id of [...this.timers.keys()]) this.disarm(id);
    await Promise.all(this.runs);
  }

  /** A timer for the schedule's next run after `after` (schedule time), replacing its current one. */
  private arm(schedule: ScheduleRecord, after = this.clock.now()): void {
    this.disarm(schedule.id);
    if (!schedule.enabled) return;
    const [next] = nextRuns(
      schedule.expression,
      schedule.timezone,
      new Date(after),
      1,
      new Date(schedule.updatedAt),
    );
    if (!next) return;
    const delay = this.clock.realDelay(next.getTime() - this.clock.now());
    const timer =
      delay > MAX_TIMER_MS
        ? setTimeout(() => this.arm(schedule, after), MAX_TIMER_MS)
        : setTimeout(() => {
            this.timers.delete(schedule.id);
            this.fire({ scheduleId: schedule.id, scheduledTime: scheduledTime(next) });
            this.arm(schedule, next.getTime());
          }, delay);
    this.timers.set(schedule.id, timer);
  }

  private disarm(scheduleId: string): void {
    clearTimeout(this.timers.get(scheduleId));
    this.timers.delete(scheduleId);
  }

  /** An asynchronous invocation, as Scheduler's: the timer does not wait for it. */
  private fire(event: ScheduledRunEvent): void {
    const context = lambdaContext('scheduled-task', randomUUID(), this.target.timeoutMs);
    const run = this.target.handler(event, context).then(
      () => undefined,
      (err: unknown) => this.onRunError(event, err),
    );
    this.runs.add(run);
    void run.finally(() => this.runs.delete(run));
  }
}
