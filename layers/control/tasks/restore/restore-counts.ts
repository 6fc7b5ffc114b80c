/**
 * A restore's counts summed over its slices (and paths), as the task's checkpoint carries them
 * and its result shows them. Errors are listed up to MAX_LISTED_ERRORS (a task's item is bounded)
 * and all counted.
 */
import type { RestoreResult } from '../../engine/kloset-adapter.js';

export const MAX_LISTED_ERRORS = 100;

export interface RestoreCountsData {
  readonly files: number;
  readonly directories: number;
  readonly bytes: number;
  readonly errors: readonly { path: string; message: string }[];
  /** errors in all, listed or not */
  readonly errorCount: number;
}

export class RestoreCounts {
  files = 0;
  directories = 0;
  bytes = 0;
  errors: { path: string; message: string }[] = [];
  errorCount = 0;

  constructor(from?: RestoreCountsData) {
    if (from) Object.assign(this, { ...from, errors: [...from.errors] });
  }

  /** Adds one engine run: files and symbolic links count as files. */
  add(run: RestoreResult): void {
    this.files += run.files + run.symlinks;
    this.directories += run.dirs;
    this.bytes += run.bytes;
    this.errorCount += run.errors.length;
    const room = MAX_LISTED_ERRORS - this.errors.length;
    this.errors.push(
      ...run.errors.slice(0, Math.max(0, room)).map(({ path, message }) => ({ path, message })),
    );
  }

  data(): RestoreCountsData {
    const { files, directories, bytes, errors, errorCount } = this;
    return { files, directories, bytes, errors, errorCount };
  }
}
