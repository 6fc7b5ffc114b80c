/**
 * Tasks in the table. Every task item sits in one partition (`TASKS`) under `TASK#id`: task IDs
 * sort by creation time (task.ts), so the partition read backwards lists all tasks newest first;
 * GSI1 (`TASKS#appId`, by ID) lists one app's. State and type select within those pages (a
 * filter: they change or are few). Writes are conditional on the item's version, so that a state
 * change, a cancel and a progress write never overwrite each other.
 */
import { GSI1, type Item, type Page, type Table } from '../data/table.js';
import { NotFound } from '../errors.js';
import { canMove, type TaskRecord, type TaskState, type TaskType } from './task.js';

const PARTITION = 'TASKS';
const SORT_PREFIX = 'TASK#';
const taskKey = (id: string) => ({ pk: PARTITION, sk: `${SORT_PREFIX}${id}` });
const appPartition = (appId: string) => `TASKS#${appId}`;
/** a write retries this often when others (progress, a cancel) keep changing the item meanwhile */
const MAX_ATTEMPTS = 5;

/** The progress fields concurrent workers add to. */
export type ProgressCounter = 'done' | 'bytesDone' | 'newBytes';

export interface TaskFilter {
  readonly appId?: string;
  readonly state?: TaskState;
  readonly type?: TaskType;
}

/** What a state change writes besides the state. */
export type TaskChange = Partial<
  Pick<
    TaskRecord,
    'progress' | 'result' | 'failure' | 'startedAt' | 'endedAt' | 'checkpoint' | 'workMayRunUntil'
  >
>;

export interface Transition {
  /** false when the task's state did not allow it (`task` is then the task as it is) */
  readonly moved: boolean;
  readonly task: TaskRecord;
  readonly previousState: TaskState;
}

export const taskNotFound = (id: string) => new NotFound(`no task ${id}: see GET /tasks`, 'TASK_NOT_FOUND');

function toItem(task: TaskRecord): Item & { version: number } {
  return { ...taskKey(task.id), gsi1pk: appPartition(task.appId), gsi1sk: task.id, ...task };
}

function fromItem(item: Item): TaskRecord {
  const record: Record<string, unknown> = { ...item };
  for (const key of ['pk', 'sk', 'gsi1pk', 'gsi1sk']) delete record[key];
  return record as unknown as TaskRecord;
}

export class TaskRepository {
  constructor(private readonly table: Table) {}

  async insert(task: TaskRecord): Promise<void> {
    if (!(await this.table.putNew(toItem(task)))) throw new Error(`task ${task.id} exists already`);
  }

  async find(id: string): Promise<TaskRecord | undefined> {
    const item = await this.table.get(taskKey(id).pk, taskKey(id).sk);
    return item && fromItem(item);
  }

  async get(id: string): Promise<TaskRecord> {
    const task = await this.find(id);
    if (!task) throw taskNotFound(id);
    return task;
  }

  /** Newest first. */
  async list(filter: TaskFilter, limit: number, nextToken?: string): Promise<Page<TaskRecord>> {
    const { appId, state, type } = filter;
    const selects = state !== undefined || type !== undefined;
    const page = await this.table.query({
      ...(appId === undefined
        ? { partition: PARTITION, prefix: SORT_PREFIX }
        : { index: GSI1, partition: appPartition(appId) }),
      descending: true,
      limit,
      ...(nextToken !== undefined && { nextToken }),
      ...(selects && {
        filter: (item: Item) =>
          (state === undefined || item.state === state) && (type === undefined || item.type === type),
      }),
    });
    return { ...page, items: page.items.map(fromItem) };
  }

  /** Writes `task` with `change` (version + 1) if nobody wrote it since it was read; else undefined. */
  async save(task: TaskRecord, change: Partial<TaskRecord>): Promise<TaskRecord | undefined> {
    const next = { ...task, ...change, version: task.version + 1 };
    return (await this.table.replace(toItem(next), task.version)) ? next : undefined;
  }

  /**
   * Writes the change `decide` makes of the task as it is (none: nothing to write), re-reading
   * and deciding again when a concurrent write changed it meanwhile.
   */
  async update(
    id: string,
    decide: (task: TaskRecord) => Partial<TaskRecord> | undefined,
  ): Promise<{ readonly written: boolean; readonly task: TaskRecord; readonly before: TaskRecord }> {
    for (let attempt = 1; ; attempt++) {
      const task = await this.get(id);
      const change = decide(task);
      if (!change) return { written: false, task, before: task };
      const saved = await this.save(task, change);
      if (saved) return { written: true, task: saved, before: task };
      if (attempt === MAX_ATTEMPTS) throw new Error(`task ${id} kept changing while it was written`);
    }
  }

  /**
   * Adds to the running task's progress counters (`progress` must exist) in one atomic update,
   * as workers running at once report: no addition is lost, none needs a read first. The version
   * moves on, so a writer holding the task as it was writes again. False when the task no
   * longer runs.
   */
  async addProgress(
    id: string,
    counters: Readonly<Partial<Record<ProgressCounter, number>>>,
  ): Promise<boolean> {
    const added = Object.fromEntries(Object.entries(counters).map(([name, n]) => [`progress.${name}`, n]));
    return this.table.add(
      taskKey(id).pk,
      taskKey(id).sk,
      { ...added, version: 1 },
      { 'progress.updatedAt': new Date().toISOString() },
      { state: 'running' },
    );
  }

  /**
   * Moves the task to `to` where its state allows, with `change` (or the change it makes of the
   * task as it was); else answers it as it is.
   */
  async transition(
    id: string,
    to: TaskState,
    change: TaskChange | ((from: TaskRecord) => TaskChange) = {},
  ): Promise<Transition> {
    const { written, task, before } = await this.update(id, (t) =>
      canMove(t.state, to)
        ? { ...(typeof change === 'function' ? change(t) : change), state: to }
        : undefined,
    );
    return { moved: written, task, previousState: before.state };
  }
}
