/** The task worker, with the engine: for the task-worker function only. */
import { BackupStages } from '../backup/backup-stages.js';
import { KlosetAdapter } from '../engine/kloset-adapter.js';
import { MaintenanceWork } from '../maintenance/maintenance-work.js';
import { AppStores } from '../store-apps/app-store.js';
import { DestinationTargets } from '../tasks/restore/destination-target.js';
import { RetrievalSteps } from '../tasks/restore/retrieval-steps.js';
import { RestoreWork } from '../tasks/restore-work.js';
import { SyncWork } from '../tasks/sync-work.js';
import { TASK_KINDS } from '../tasks/task-kinds.js';
import { failureOf, SAFETY_MARGIN_MS, TaskWorker } from '../tasks/task-worker.js';
import { services } from './services.js';
import { taskParts } from './tasks-service.js';

let built: TaskWorker | undefined;

export function taskWorker(): TaskWorker {
  if (!built) {
    const { settings, repository: appRepository, secrets } = services();
    const { repository, lifecycle } = taskParts();
    const engine = new KlosetAdapter(settings.cacheDir, settings.indexMemoryBudget);
    const apps = new AppStores(settings, appRepository, secrets, engine);
    const destinations = new DestinationTargets(settings, appRepository, secrets);
    built = new TaskWorker(
      repository,
      lifecycle,
      TASK_KINDS,
      {
        apps,
        sync: new SyncWork(apps),
        restore: new RestoreWork(apps, engine, destinations, services().staging),
        backup: new BackupStages(repository, lifecycle, apps, engine, destinations, services().staging, {
          ...(settings.backupBatchBytes !== undefined && { batchBytes: settings.backupBatchBytes }),
          ...(settings.backupBatchEntries !== undefined && { batchEntries: settings.backupBatchEntries }),
          ...(settings.taskSliceMs !== undefined && { sliceMs: settings.taskSliceMs }),
          ...(settings.backupBatchSliceMs !== undefined && { batchSliceMs: settings.backupBatchSliceMs }),
          safetyMarginMs: SAFETY_MARGIN_MS,
          failureOf,
        }),
        maintenance: new MaintenanceWork(apps, {}, services().staging),
        retrieval: new RetrievalSteps(repository, lifecycle, apps),
      },
      {
        ...(settings.taskSliceMs !== undefined && { sliceMs: settings.taskSliceMs }),
      },
    );
  }
  return built;
}
