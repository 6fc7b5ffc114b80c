/**
 * Schedules in the table: one item per schedule (`SCHEDULE#id`), listed through GSI1
 * (`SCHEDULES`, by creation time). Writes are conditional on the item's version, so that an edit
 * and a run's record of itself never overwrite each other.
 */
import type { Item, Page, Table } from '../data/table.js';
import { Conflict, NotFound } from '../errors.js';
import type { ScheduleRecord } from './schedule.js';

const LIST = 'SCHEDULES';
const scheduleKey = (id: string) => ({ pk: `SCHEDULE#${id}`, sk: 'SCHEDULE' });
/** a run's record retries this often while edits keep changing the item */
const MAX_ATTEMPTS = 5;

export const scheduleNotFound = (id: string) =>
  new NotFound(`no schedule ${id}: see GET /schedules`, 'SCHEDULE_NOT_FOUND');

function toItem(schedule: ScheduleRecord): Item & { version: number } {
  return {
    ...scheduleKey(schedule.id),
    gsi1pk: LIST,
    gsi1sk: `${schedule.createdAt}#${schedule.id}`,
    ...schedule,
  };
}

function fromItem(item: Item): ScheduleRecord {
  const record: Record<string, unknown> = { ...item };
  for (const key of ['pk', 'sk', 'gsi1pk', 'gsi1sk']) delete record[key];
  return record as unknown as ScheduleRecord;
}

export class ScheduleRepository {
  constructor(private readonly table: Table) {}

  async insert(schedule: ScheduleRecord): Promise<void> {
    if (!(await this.table.putNew(toItem(schedule))))
      throw new Error(`schedule ${schedule.id} exists already`);
  }

  async find(id: string): Promise<ScheduleRecord | undefined> {
    const item = await this.table.get(scheduleKey(id).pk, scheduleKey(id).sk);
    return item && fromItem(item);
  }

  async get(id: string): Promise<ScheduleRecord> {
    const schedule = await this.find(id);
    if (!schedule) throw scheduleNotFound(id);
    return schedule;
  }

  /** Oldest first. */
  async list(limit: number, nextToken?: string): Promise<Page<ScheduleRecord>> {
    const page = await this.table.queryGsi1(LIST, limit, nextToken);
    return { ...page, items: page.items.map(fromItem) };
  }

  /** Writes `schedule` (version + 1) if nobody changed it since it was read; 409 CHANGED otherwise. */
  async save(schedule: ScheduleRecord): Promise<ScheduleRecord> {
    const next = { ...schedule, version: schedule.version + 1 };
    if (!(await this.table.replace(toItem(next), schedule.version)))
      throw new Conflict(
        `schedule ${schedule.id} changed meanwhile (or was deleted): read it again and retry`,
        'CHANGED',
      );
    return next;
  }

  /**
   * Records a run on the schedule, re-reading while edits change it; nothing when it is gone, or
   * when a later run is recorded already (a repeated delivery of an earlier one comes late).
   */
  async recordRun(id: string, lastRun: NonNullable<ScheduleRecord['lastRun']>): Promise<void> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const schedule = await this.find(id);
      if (!schedule || (schedule.lastRun && schedule.lastRun.scheduledTime > lastRun.scheduledTime)) return;
      const next = { ...schedule, lastRun, version: schedule.version + 1 };
      if (await this.table.replace(toItem(next), schedule.version)) return;
    }
    throw new Error(`schedule ${id} kept changing while its run was recorded`);
  }

  async remove(id: string): Promise<void> {
    if (!(await this.table.delete(scheduleKey(id).pk, scheduleKey(id).sk))) throw scheduleNotFound(id);
  }
}
