/** The task worker, with the engine: for the task-worker function only. */
import { KlosetAdapter } from '../engine/kloset-adapter.js';
import { AppStores } from '../store-apps/app-store.js';
import { DestinationTargets } from '../tasks/restore/destination-target.js';
import { RetrievalSteps } from '../tasks/restore/retrieval-steps.js';
import { RestoreWork } from '../tasks/restore-work.js';
import { SyncWork } from '../tasks/sync-work.js';
import { TASK_KINDS } from '../tasks/task-kinds.js';
import { TaskWorker } from '../tasks/task-worker.js';
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
        retrieval: new RetrievalSteps(repository, lifecycle, apps),
      },
      {
        ...(settings.taskSliceMs !== undefined && { sliceMs: settings.taskSliceMs }),
      },
    );
  }
  return built;
}
