/**
 * The backup workflow with its real parts: the local variant of the backup state machine run by
 * LocalTaskRunner, each Lambda state answered by a TaskWorker with the real BackupStages (dynalite,
 * s3rver for the staging bucket, directory apps for the source and the store), each backup
 * holding the store's lease as Tasks.create takes it, wrapped to fail batch workers on purpose:
 * one that crashes twice is retried into a snapshot; one that keeps failing fails the task with
 * its reason, leaves no snapshot and a sound store, and keeps the store's lease while its other
 * workers may still run; a commit that dies right after writing its snapshot is retried into
 * that snapshot, not a second one; a batch that failed once and then succeeded is not the reason
 * of a later failure.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { BackupStages } from '../../../../layers/control/backup/backup-stages.js';
import { type ConnectorTarget } from '../../../../layers/control/engine/connector-target.js';
import {
  type BackupSource,
  KlosetAdapter,
  KlosetError,
} from '../../../../layers/control/engine/kloset-adapter.js';
import { StagingArea } from '../../../../layers/control/staging/staging-area.js';
import { DestinationTargets } from '../../../../layers/control/tasks/restore/destination-target.js';
import type { TaskRecord } from '../../../../layers/control/tasks/task.js';
import { LAST_SLICE_MS, TaskClaims } from '../../../../layers/control/tasks/task-claims.js';
import type { TaskContext } from '../../../../layers/control/tasks/task-kinds.js';
import { TaskLifecycle } from '../../../../layers/control/tasks/task-lifecycle.js';
import { TaskRepository } from '../../../../layers/control/tasks/task-repository.js';
import { failureOf, SAFETY_MARGIN_MS, TaskWorker } from '../../../../layers/control/tasks/task-worker.js';
import { S3Client } from '@aws-sdk/client-s3';
import { BACKUP_STATES } from '../../../../lib/backup-state-machine.js';
import { runBackup } from './backup-run.js';
import { startS3rver, type S3rverHandle } from '../../../../local/s3rver.js';
import { dynaliteForTests } from '../dynalite-table.js';
import { type TaskApps, taskApps } from '../tasks/task-apps.js';
import { tempDir } from '../../kloset/fixtures.js';

const dynamo = dynaliteForTests();
const BUCKET = 'kloud-staging';

/**
 * The engine, its sources refused while `refusing`, or the next `refusals` times (a source whose
 * credentials were revoked, or for a moment).
 */
class RefusingSources extends KlosetAdapter {
  refusing = false;
  refusals = 0;
  override withSource<T>(
    target: ConnectorTarget,
    call: (s: BackupSource, p: string) => Promise<T>,
  ): Promise<T> {
    if (this.refusing || this.refusals > 0) {
      this.refusals = Math.max(0, this.refusals - 1);
      return Promise.reject(new KlosetError('AUTH_FAILED', 'the source refused the credentials'));
    }
    return super.withSource(target, call);
  }
}

/**
 * The tasks' table, where a commit may die between the engine's snapshot and the checkpoint's
 * save of its result, as a Lambda invocation killed there would.
 */
class DyingCommits extends TaskRepository {
  /** commits yet to die */
  dying = 0;
  override update(id: string, decide: (task: TaskRecord) => Partial<TaskRecord> | undefined) {
    return super.update(id, (task) => {
      const change = decide(task);
      const saving = (change?.checkpoint as { result?: unknown } | undefined)?.result !== undefined;
      if (saving && (task.checkpoint as { result?: unknown }).result === undefined && this.dying > 0) {
        this.dying--;
        throw new Error('the sandbox died after the snapshot was written');
      }
      return change;
    });
  }
}

let s3rver: S3rverHandle;
let s3: S3Client;
let apps: TaskApps;
let engine: RefusingSources;
let repository: DyingCommits;
let claims: TaskClaims;
/** how far ahead of the wall clock the claims' clock runs (time passing for a lease) */
let claimsAhead = 0;
let worker: TaskWorker;
let vaultId: string;
let vaultPath: string;
let sourceId: string;
/** batch invocations to crash before the worker runs */
let crashes = 0;
/** whether the source refuses the first batch invocation once (then it is retried) */
let refuseFirstBatch = false;
const calls: string[] = [];
/** the task's failure as `fail` found it: written only with the task's end */
const failuresBeforeFail: unknown[] = [];
/** the store's index deltas after each commit invocation, the one that died too */
const deltasAfterCommits: string[][] = [];

beforeAll(async () => {
  const dir = await tempDir('kloud-backup-workflow-');
  s3rver = await startS3rver(join(dir, 's3'), [BUCKET]);
  s3 = new S3Client({
    endpoint: s3rver.endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const table = dynamo.table();
  apps = await taskApps(table);
  engine = new RefusingSources(apps.settings.cacheDir);
  repository = new DyingCommits(table);
  claims = new TaskClaims(table, repository, () => Date.now() + claimsAhead);
  const lifecycle = new TaskLifecycle(repository, claims, { publish: async () => undefined });
  const places = new DestinationTargets(apps.settings, apps.repository, apps.secrets);
  const backup = new BackupStages(
    repository,
    lifecycle,
    apps.stores,
    engine,
    places,
    new StagingArea(s3, BUCKET),
    {
      // a few batches: they run at once in this process, every one opening the store
      batchBytes: 16_384,
      batchEntries: 20,
      safetyMarginMs: SAFETY_MARGIN_MS,
      failureOf,
    },
  );
  worker = new TaskWorker(repository, lifecycle, {}, { backup } as unknown as TaskContext);
  const vault = await apps.directory('vault');
  vaultPath = vault.path;
  vaultId = (
    await apps.ready({
      resourceId: vault.resourceId,
      name: 'vault',
      storageType: 'standard',
      configuration: { path: 'store' },
    })
  ).id;
  const files = await apps.directory('files');
  sourceId = (
    await apps.ready({
      resourceId: files.resourceId,
      name: 'files',
      storageType: 'standard',
      configuration: { path: 'store' },
    })
  ).id;
  await mkdir(join(files.path, 'data'));
  for (let i = 0; i < 40; i++)
    await writeFile(join(files.path, 'data', `f${i}.txt`), `file ${i} `.repeat(50 + i * 7));
}, 120_000);

afterAll(async () => {
  s3?.destroy();
  await s3rver?.stop();
});

/** Runs one backup, holding the store's lease, through the state machine to its end; the task as it ended. */
function backUp(): Promise<TaskRecord> {
  return runBackup({
    repository,
    claims,
    vaultId,
    sourceId,
    retryAtOnce: [BACKUP_STATES.batch, BACKUP_STATES.commit],
    handler: async (e, context) => {
      calls.push(e.action);
      if (e.action === 'fail') failuresBeforeFail.push((await repository.get(e.taskId)).failure);
      if (e.action === 'batch' && refuseFirstBatch) {
        refuseFirstBatch = false;
        engine.refusals = 1;
      }
      if (e.action === 'batch' && crashes > 0) {
        crashes--;
        throw new Error('the sandbox crashed');
      }
      try {
        return await worker.handle(e, context.getRemainingTimeInMillis());
      } finally {
        if (e.action === 'commit')
          deltasAfterCommits.push((await readdir(join(vaultPath, 'store', 'index'))).sort());
      }
    },
  });
}

test('a batch worker that crashes twice is retried, and the backup succeeds', async () => {
  calls.length = 0;
  crashes = 2;
  const ended = await backUp();
  expect(ended).toMatchObject({ state: 'succeeded', result: { files: 40, filesRead: 40, errors: [] } });
  const batches = (ended.result as { batches: number }).batches;
  expect(batches).toBeGreaterThan(2);
  expect(calls.filter((a) => a === 'batch')).toHaveLength(batches + 2);
  const snapshots = await apps.stores.withStore(await apps.stores.readyApp(vaultId), (s) => s.snapshots());
  expect(snapshots.map((s) => s.id)).toEqual([(ended.result as { snapshot: string }).snapshot]);
}, 120_000);

test('a batch worker that keeps failing fails the task with its reason: no snapshot, a sound store', async () => {
  const app = await apps.stores.readyApp(vaultId);
  const before = await apps.stores.withStore(app, (s) => s.snapshots());
  await writeFile(join(apps.settings.localRoot!, 'files', 'data', 'f0.txt'), 'changed');
  calls.length = 0;
  const run = backUp();
  // the plan reads the source; the batch workers are refused by it
  for (let i = 0; i < 400 && !calls.includes('batch'); i++) await new Promise((r) => setTimeout(r, 25));
  engine.refusing = true;
  const ended = await run;
  engine.refusing = false;
  expect(ended).toMatchObject({ state: 'failed', failure: { code: 'AUTH_FAILED' } });
  expect(ended.failure!.message).toContain('the source refused the credentials');
  expect(calls.filter((a) => a === 'fail')).toHaveLength(1);
  // the batch kept its reason in staging: the task showed no failure while it ran
  expect(failuresBeforeFail).toEqual([undefined]);
  expect(await apps.stores.withStore(app, (s) => s.snapshots())).toEqual(before);
  const report = await apps.stores.withStore(app, (s) => s.check());
  expect(report.problems).toEqual([]);
  // the Map's other workers may still be writing: the store stays leased to the failed task
  await expect(backUp()).rejects.toMatchObject({
    code: 'STORE_BUSY',
    message: expect.stringContaining(`task ${ended.id} has ended (failed) but may still be finishing`),
  });
  claimsAhead = LAST_SLICE_MS;
  // the next backup runs again from a fresh plan, in a staging prefix of its own
  const again = await backUp();
  expect(again).toMatchObject({ state: 'succeeded', result: { filesRead: 1 } });
}, 120_000);

test('a commit that dies after writing its snapshot is retried into that snapshot: one snapshot, no second write, a sound store', async () => {
  const app = await apps.stores.readyApp(vaultId);
  const before = await apps.stores.withStore(app, (s) => s.snapshots());
  await writeFile(join(apps.settings.localRoot!, 'files', 'data', 'f1.txt'), 'changed too');
  calls.length = 0;
  deltasAfterCommits.length = 0;
  repository.dying = 1;
  const ended = await backUp();
  expect(repository.dying).toBe(0);
  expect(calls.filter((a) => a === 'commit')).toHaveLength(2);
  expect(ended.state).toBe('succeeded');
  const snapshot = (ended.result as { snapshot: string }).snapshot;
  const after = await apps.stores.withStore(app, (s) => s.snapshots());
  expect(after.map((s) => s.id).sort()).toEqual([...before.map((s) => s.id), snapshot].sort());
  const report = await apps.stores.withStore(app, (s) => s.check());
  expect(report.problems).toEqual([]);
  // the retry found the record, its trees and its index delta written, and wrote nothing
  expect(deltasAfterCommits).toHaveLength(2);
  expect(deltasAfterCommits[1]).toEqual(deltasAfterCommits[0]);
}, 120_000);

test("a batch's passing failure is not the reason of a later one: a commit that keeps dying fails the task as INTERNAL", async () => {
  await writeFile(join(apps.settings.localRoot!, 'files', 'data', 'f2.txt'), 'changed as well');
  calls.length = 0;
  claimsAhead = 0;
  refuseFirstBatch = true;
  // the commit and its two retries
  repository.dying = 3;
  const ended = await backUp();
  expect(engine.refusals).toBe(0);
  expect(repository.dying).toBe(0);
  expect(calls.filter((a) => a === 'batch').length).toBeGreaterThan(1);
  expect(ended).toMatchObject({
    state: 'failed',
    failure: { code: 'INTERNAL', message: expect.stringContaining(ended.id) },
  });
  // the Map had ended before the commit began: no batch worker runs, the store is free at once
  expect(ended).not.toHaveProperty('workMayRunUntil');
  expect(await backUp()).toMatchObject({ state: 'succeeded' });
}, 120_000);
