/**
 * One backup task run as the backup workflow runs it, in the test process: the task queued with
 * the store's lease taken (as Tasks.create takes it), then the local variant of the state machine
 * run by LocalTaskRunner to its end, every Lambda state answered by `handler` (a TaskWorker,
 * wrapped by the suite to count calls or to die on purpose).
 */
import type { Context } from 'aws-lambda';
import { storeLease } from '../../../../layers/control/backup/backup-parameters.js';
import { newTaskId, type TaskRecord } from '../../../../layers/control/tasks/task.js';
import type { TaskClaims } from '../../../../layers/control/tasks/task-claims.js';
import type { TaskRepository } from '../../../../layers/control/tasks/task-repository.js';
import type { WorkerEvent } from '../../../../layers/control/tasks/task-runner.js';
import { LocalTaskRunner } from '../../../../local/local-task-runner.js';
import { localFunctionArn, workflowDefinitions } from '../../../../local/state-machine-definitions.js';

export interface BackupRun {
  readonly repository: TaskRepository;
  readonly claims: TaskClaims;
  readonly vaultId: string;
  readonly sourceId: string;
  /** answers each invocation of the task-worker function */
  handler(event: WorkerEvent, context: Context): Promise<unknown>;
  /** states retried at once instead of after their backoff */
  readonly retryAtOnce: readonly string[];
}

/** Runs one backup of the source app's `data` into the vault app to its end; the task as it ended. */
export async function runBackup(run: BackupRun): Promise<TaskRecord> {
  const id = newTaskId();
  const lease = storeLease(run.vaultId);
  await run.claims.lease(lease.key, id, lease.what);
  const task: TaskRecord = {
    id,
    exclusiveKey: lease.key,
    type: 'backup',
    appId: run.vaultId,
    parameters: { source: { appId: run.sourceId, path: 'data' } },
    state: 'queued',
    principal: 'test',
    createdAt: new Date().toISOString(),
    version: 1,
  };
  await run.repository.insert(task);
  const runner = new LocalTaskRunner(
    workflowDefinitions(),
    {
      [localFunctionArn('task-worker')]: {
        timeoutMs: 900_000,
        handler: (event: unknown, context: Context) => run.handler(event as WorkerEvent, context),
      },
    },
    () => undefined,
    { retryIntervalOverrides: Object.fromEntries(run.retryAtOnce.map((state) => [state, 0])) },
  );
  await runner.start(task);
  await runner.settled();
  return run.repository.get(task.id);
}
