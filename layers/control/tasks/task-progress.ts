/**
 * A running slice's progress, written to the task's item at most every few seconds. Each write
 * is conditional on the item's version: when it fails, the task is read again, and a task seen
 * cancelled aborts the slice's signal (the work stops at its next unit boundary).
 */
import { logger } from '../runtime/observability.js';
import type { TaskProgress, TaskRecord } from './task.js';
import type { TaskRepository } from './task-repository.js';

export const PROGRESS_INTERVAL_MS = 3_000;

export class ProgressWriter {
  private readonly controller = new AbortController();
  private latest: Omit<TaskProgress, 'updatedAt'> | undefined;
  private writing: Promise<void> | undefined;
  private lastWrite: number;

  constructor(
    private readonly repository: TaskRepository,
    /** the task as last read or written: its version conditions the next write */
    private task: TaskRecord,
    private readonly now: () => number = Date.now,
  ) {
    this.lastWrite = now();
  }

  /** Aborted once the task is seen cancelled (or otherwise ended by someone else). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The task as this writer last saw it. */
  get current(): TaskRecord {
    return this.task;
  }

  report(progress: Omit<TaskProgress, 'updatedAt'>): void {
    this.latest = progress;
    if (this.writing || this.now() - this.lastWrite < PROGRESS_INTERVAL_MS) return;
    this.writing = this.write().finally(() => (this.writing = undefined));
  }

  /** Waits for the write under way; answers the progress not written yet, to save with the slice's end. */
  async settle(): Promise<TaskProgress | undefined> {
    await this.writing;
    return this.latest && { ...this.latest, updatedAt: new Date(this.now()).toISOString() };
  }

  private async write(): Promise<void> {
    this.lastWrite = this.now();
    const progress = { ...this.latest!, updatedAt: new Date(this.lastWrite).toISOString() };
    try {
      const saved = await this.repository.save(this.task, { progress });
      if (saved) return void (this.task = saved);
      this.task = await this.repository.get(this.task.id);
      if (this.task.state !== 'running') this.controller.abort();
    } catch (err) {
      // progress is a courtesy: the slice goes on, its end writes the task again
      logger.warn('progress not written', { taskId: this.task.id, error: err as Error });
    }
  }
}
