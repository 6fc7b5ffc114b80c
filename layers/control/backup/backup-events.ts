/**
 * The backup state machine's calls of the task-worker function (beside the tasks' `start` and
 * `fail`) and their answers: small JSON, well under Step Functions' 256 KB.
 */

/** A batch of the plan, as the Distributed Map's ItemReader reads it from the manifest. */
export interface BatchItemRef {
  /** the batch object's key in the staging bucket */
  readonly key: string;
  /**
   * its task: a batch's worker reads it from its first item (ItemBatcher's `BatchInput` would
   * have to take it from the Map's input, which Step Functions does not document for paths)
   */
  readonly taskId: string;
}

export type BackupEvent =
  /** one invocation of the plan; `answerItems`: also answer the batches (local mode's inline Map) */
  | { readonly action: 'plan'; readonly taskId: string; readonly answerItems?: boolean }
  /** one child execution's batches (ItemBatcher's `Items`) */
  | { readonly action: 'batch'; readonly taskId: string; readonly items: readonly BatchItemRef[] }
  | { readonly action: 'commit'; readonly taskId: string }
  | { readonly action: 'record'; readonly taskId: string };

export interface PlanAnswer {
  /** the task ended meanwhile (cancelled, or failed with a reason the plan gave) */
  readonly ended: boolean;
  /** the plan is complete: the manifest lists every batch */
  readonly planned: boolean;
  readonly batches: number;
  /** the manifest's key (written once planned) */
  readonly manifest: string;
  /** where the Distributed Map writes its results */
  readonly results: string;
  /** the batches, when asked (local mode) */
  readonly items?: readonly BatchItemRef[];
}

export interface BatchAnswer {
  /**
   * every batch of the call is backed up (or the task has ended); false: the invocation's time ran
   * out, what is left is recorded in staging, and the state machine calls again
   */
  readonly done: boolean;
  /** batches this invocation finished (not those a previous one had) */
  readonly backedUp: number;
}

/** The commit's and the record's answer. */
export interface StageAnswer {
  /** the task had ended before (cancelled): nothing was committed or recorded */
  readonly ended: boolean;
}

export type BackupAnswer = PlanAnswer | BatchAnswer | StageAnswer;
