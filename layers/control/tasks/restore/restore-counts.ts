/**
 * A restore's counts summed over its slices (and paths), as the task's checkpoint carries them
 * and its result shows them. Errors are all counted, and listed up to MAX_LISTED_ERRORS and
 * MAX_LISTED_CHARS of paths and messages: the task's item (DynamoDB, 400 KB) holds them.
 */
import type { RestoreResult } from '../../engine/kloset-adapter.js';

export const MAX_LISTED_ERRORS = 100;
export const MAX_LISTED_CHARS = 64 * 1024;

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
    let chars = this.errors.reduce((n, e) => n + e.path.length + e.message.length, 0);
    for (const { path, message } of run.errors) {
      chars += path.length + message.length;
      if (this.errors.length >= MAX_LISTED_ERRORS || chars > MAX_LISTED_CHARS) break;
      this.errors.push({ path, message });
    }
  }

  data(): RestoreCountsData {
    const { files, directories, bytes, errors, errorCount } = this;
    return { files, directories, bytes, errors, errorCount };
  }
}
