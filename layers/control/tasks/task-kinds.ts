/**
 * The task types a deployment runs, each one entry: how its parameters are validated, whether it
 * must not overlap with another task on some key (a lease, task-claims.ts), its work in slices,
 * and what a finished result means. Adding a type is an entry here and a route (api/).
 * The work gets what it needs from the worker's TaskContext, so this registry imports no engine:
 * the tasks API function reads it too.
 */
import type { z } from 'zod';
import type { BackupStages } from '../backup/backup-stages.js';
import { BackupParameters, checkBackupSource, storeLease } from '../backup/backup-parameters.js';
import type { AppStores } from '../store-apps/app-store.js';
import type { StoreAppRecord } from '../store-apps/store-app.js';
import { checkTask } from './check-work.js';
import type { DestinationTargets } from './restore/destination-target.js';
import { RestoreParameters, restoreExclusiveKey } from './restore/restore-parameters.js';
import type { RestoreCheckpoint, RestoreTaskResult } from './restore-work.js';
import { SyncParameters, syncPeer } from './sync-parameters.js';
import type { SyncCheckpoint, SyncTaskResult } from './sync-work.js';
import type { TaskFailure, TaskType } from './task.js';
import type { SliceInput, SliceOutcome, TaskWork } from './task-work.js';

/**
 * What task work may use: the task-worker function's services. The works that run the engine's
 * code themselves (sync, restore) are built there too, so this registry imports none of it.
 */
export interface TaskContext {
  readonly apps: AppStores;
  readonly sync: TaskWork<SyncParameters, SyncCheckpoint, SyncTaskResult>;
  readonly restore: TaskWork<RestoreParameters, RestoreCheckpoint, RestoreTaskResult>;
  /** the backup workflow's stages (plan, batches, commit, record): not slices */
  readonly backup: BackupStages;
}

/** What the API has when it creates a task, to find the key an exclusive task holds. */
export interface CreationContext {
  readonly destinations: DestinationTargets;
  /** another app the task needs, refused unless ready (APP_NOT_READY) */
  readyApp(appId: string): Promise<StoreAppRecord>;
}

type Exclusive = { key: string; what: string } | undefined;

export interface TaskDefinition<Params, Checkpoint, Result extends Record<string, unknown>> {
  /** the body of the route that creates it; the stored parameters are checked with it again */
  readonly parameters: z.ZodType<Params>;
  /** the lease it holds from creation until it ends, when it must not overlap (e.g. the store it writes) */
  exclusiveOn?(appId: string, parameters: Params, context: CreationContext): Promise<Exclusive>;
  /** refuses, when the task is asked for, what its work would refuse anyway (a 4xx, not a failed task) */
  precheck?(appId: string, parameters: Params, context: CreationContext): Promise<void>;
  /** its slices, on the generic task workflow; none for a type whose workflow has stages of its own (backup) */
  work?(context: TaskContext): TaskWork<Params, Checkpoint, Result>;
  /** why a task that finished has failed nonetheless (a check that found problems) */
  failureOf?(result: Result): TaskFailure | undefined;
}

/** A definition with its types erased, as the runtime calls it. */
export interface TaskKind {
  exclusiveOn(appId: string, parameters: unknown, context: CreationContext): Promise<Exclusive>;
  precheck(appId: string, parameters: unknown, context: CreationContext): Promise<void>;
  slice(
    context: TaskContext,
    input: SliceInput<unknown, unknown>,
  ): Promise<SliceOutcome<unknown, Record<string, unknown>>>;
  failureOf(result: Record<string, unknown>): TaskFailure | undefined;
}

export function taskKind<P, C, R extends Record<string, unknown>>(
  definition: TaskDefinition<P, C, R>,
): TaskKind {
  return {
    exclusiveOn: async (appId, parameters, context) =>
      definition.exclusiveOn?.(appId, definition.parameters.parse(parameters), context),
    precheck: async (appId, parameters, context) =>
      definition.precheck?.(appId, definition.parameters.parse(parameters), context),
    slice: (context, input) => {
      if (!definition.work)
        throw new Error(`a ${input.task.type} task runs no slices: its workflow has stages`);
      return definition.work(context).slice({
        ...input,
        parameters: definition.parameters.parse(input.parameters),
        checkpoint: input.checkpoint as C | undefined,
      });
    },
    failureOf: (result) => definition.failureOf?.(result as R),
  };
}

const syncTask: TaskDefinition<SyncParameters, SyncCheckpoint, SyncTaskResult> = {
  parameters: SyncParameters,
  precheck: async (appId, parameters, { readyApp }) => void (await syncPeer(appId, parameters, readyApp)),
  work: ({ sync }) => sync,
};

const restoreTask: TaskDefinition<RestoreParameters, RestoreCheckpoint, RestoreTaskResult> = {
  parameters: RestoreParameters,
  // two restores never write into one place at once; archives are each their own object
  exclusiveOn: async (_appId, parameters, { destinations }) => {
    const where = await restoreExclusiveKey(destinations, parameters);
    return where === undefined ? undefined : { key: `DESTINATION#${where}`, what: where };
  },
  work: ({ restore }) => restore,
};

const backupTask: TaskDefinition<BackupParameters, never, never> = {
  parameters: BackupParameters,
  exclusiveOn: async (appId) => storeLease(appId),
  precheck: async (_appId, parameters, context) => checkBackupSource(parameters, context),
};

export const TASK_KINDS: { readonly [type in TaskType]?: TaskKind } = {
  check: taskKind(checkTask),
  sync: taskKind(syncTask),
  restore: taskKind(restoreTask),
  backup: taskKind(backupTask),
};
