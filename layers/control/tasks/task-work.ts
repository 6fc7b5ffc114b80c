/**
 * The work of one task type, done in slices. A Lambda invocation runs one slice: it starts from
 * the checkpoint the previous slice left (none on the first), works until the work is done or
 * `deadline` comes near, and returns either the result or a new checkpoint. The runner
 * (Step Functions, see docs/ARCHITECTURE.md) saves the checkpoint in the task's item and calls
 * the next slice, so no task dies at the Lambda time limit, and a test can force many slices
 * by giving each a tiny budget.
 *
 * A slice must leave the store valid and its checkpoint true whatever point it stops at: each
 * unit of work (a pack verified, a snapshot copied, a subtree restored) is either done and
 * counted in the checkpoint, or not started. A unit that is larger than one slice still ends
 * (the budget is checked between units, not inside them).
 */
import type { TaskProgress, TaskRecord } from './task.js';

export interface SliceInput<Params, Checkpoint> {
  readonly task: TaskRecord;
  readonly parameters: Params;
  /** undefined on the first slice */
  readonly checkpoint: Checkpoint | undefined;
  /** epoch ms: start no new unit of work after it */
  readonly deadline: number;
  /** aborted when the task is cancelled: stop at the next unit boundary */
  readonly signal: AbortSignal;
  /** counters for the task's progress; the runner writes them at most every few seconds */
  report(progress: Omit<TaskProgress, 'updatedAt'>): void;
}

export type SliceOutcome<Checkpoint, Result> =
  | { readonly done: false; readonly checkpoint: Checkpoint }
  | { readonly done: true; readonly result: Result };

export interface TaskWork<Params, Checkpoint, Result extends Record<string, unknown>> {
  slice(input: SliceInput<Params, Checkpoint>): Promise<SliceOutcome<Checkpoint, Result>>;
}
