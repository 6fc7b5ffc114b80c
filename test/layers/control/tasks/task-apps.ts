/**
 * What the sync and restore tasks' tests share: store apps made ready through the StoreApps
 * service on a real dynalite table, their stores opened through AppStores, and a loop that runs
 * a task's slices as the TaskWorker does, with a deadline per slice.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { KlosetAdapter } from '../../../../layers/control/engine/kloset-adapter.js';
import { SftpServers } from '../../../../layers/control/inventories/sftp-servers.js';
import type { Settings, StoreBucket } from '../../../../layers/control/runtime/settings.js';
import { FileSecretStore } from '../../../../layers/control/secrets/file-secret-store.js';
import { AppStores } from '../../../../layers/control/store-apps/app-store.js';
import { StoreAppActions } from '../../../../layers/control/store-apps/store-app-actions.js';
import { StoreAppRepository } from '../../../../layers/control/store-apps/store-app-repository.js';
import type { CreateStoreAppBody, StoreApp } from '../../../../layers/control/store-apps/store-app.js';
import { StoreApps } from '../../../../layers/control/store-apps/store-apps.js';
import type { TaskType } from '../../../../layers/control/tasks/task.js';
import type { TaskProgress, TaskRecord } from '../../../../layers/control/tasks/task.js';
import type { TaskWork } from '../../../../layers/control/tasks/task-work.js';
import { tempDir } from '../../kloset/fixtures.js';
import type { Table } from '../../../../layers/control/data/table.js';

export const PASSPHRASE = 'task apps passphrase';

export interface TaskApps {
  readonly settings: Settings;
  readonly apps: StoreApps;
  readonly actions: StoreAppActions;
  readonly stores: AppStores;
  readonly engine: KlosetAdapter;
  readonly repository: StoreAppRepository;
  readonly secrets: FileSecretStore;
  readonly sftpServers: SftpServers;
  /** a new directory resource (below settings.localRoot): its resource ID and path */
  directory(name: string): Promise<{ resourceId: string; path: string }>;
  /** creates the app and initializes its store: ready */
  ready(body: Omit<CreateStoreAppBody, 'passphrase'>): Promise<StoreApp>;
}

export async function taskApps(table: Table, storeBuckets: StoreBucket[] = []): Promise<TaskApps> {
  const dir = await tempDir('kloud-tasks-');
  const settings: Settings = {
    tableName: 'kloud-test',
    secretPrefix: 'kloud/store-apps/',
    storeBuckets,
    cacheDir: join(dir, 'cache'),
    secretsFile: join(dir, 'secrets.json'),
    localRoot: join(dir, 'resources'),
  };
  await mkdir(settings.localRoot!);
  const secrets = new FileSecretStore(settings.secretsFile!);
  const repository = new StoreAppRepository(table);
  const sftpServers = new SftpServers(table);
  const engine = new KlosetAdapter(settings.cacheDir);
  const apps = new StoreApps(settings, repository, secrets, sftpServers);
  const actions = new StoreAppActions(settings, repository, secrets, engine);
  return {
    settings,
    apps,
    actions,
    stores: new AppStores(settings, repository, secrets, engine),
    engine,
    repository,
    secrets,
    sftpServers,
    async directory(name) {
      const path = join(settings.localRoot!, name);
      await mkdir(path);
      return { resourceId: `directory:${name}`, path };
    },
    async ready(body) {
      const app = await apps.create({ ...body, passphrase: PASSPHRASE });
      const initialized = await actions.initialize(app.id);
      expect(initialized).toMatchObject({ app: { state: 'ready' } });
      return initialized.app;
    },
  };
}

export function taskRecord(type: TaskType, appId: string, parameters: Record<string, unknown>): TaskRecord {
  return {
    id: randomUUID(),
    type,
    appId,
    parameters,
    state: 'running',
    principal: 'local',
    createdAt: new Date().toISOString(),
    version: 1,
  };
}

export interface SliceRun<Result> {
  readonly result: Result;
  readonly slices: number;
  readonly progress: Omit<TaskProgress, 'updatedAt'>[];
}

const MAX_SLICES = 500;

/**
 * Runs the task's slices until it is done, each with `sliceMs` to its deadline (0: every slice
 * stops after its first unit of work), the checkpoint carried as the worker does (through JSON,
 * as the table keeps it).
 */
export async function runSlices<Schema extends z.ZodType, Checkpoint, Result extends Record<string, unknown>>(
  work: TaskWork<z.infer<Schema>, Checkpoint, Result>,
  schema: Schema,
  task: TaskRecord,
  sliceMs = 60_000,
): Promise<SliceRun<Result>> {
  const parameters = schema.parse(task.parameters);
  const progress: Omit<TaskProgress, 'updatedAt'>[] = [];
  let checkpoint: Checkpoint | undefined;
  for (let slices = 1; slices <= MAX_SLICES; slices++) {
    const outcome = await work.slice({
      task,
      parameters,
      checkpoint,
      deadline: Date.now() + sliceMs,
      signal: new AbortController().signal,
      report: (p) => progress.push(p),
    });
    if (outcome.done) return { result: outcome.result, slices, progress };
    checkpoint = JSON.parse(JSON.stringify(outcome.checkpoint)) as Checkpoint;
  }
  throw new Error(`the task did not end in ${MAX_SLICES} slices`);
}
