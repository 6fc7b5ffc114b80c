/**
 * The backup workflow when a batch does not fit in one invocation: the local variant of the state
 * machine run by LocalTaskRunner, each Lambda state answered by a TaskWorker with the real
 * BackupStages (dynalite, s3rver for the staging bucket, directory apps), every invocation capped
 * at 1 ms as KLOUD_TASK_SLICE_MS caps it, so each batch invocation backs up one item or one chunk
 * and the item processor calls again until the batch is done; invocations that die before
 * recording their part, or after, are retried from the last part recorded. The snapshot reads
 * back byte for byte and its store checks sound, its counters those of the source.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { S3Client } from '@aws-sdk/client-s3';
import { BackupStages } from '../../../../layers/control/backup/backup-stages.js';
import { StagingArea } from '../../../../layers/control/staging/staging-area.js';
import { DestinationTargets } from '../../../../layers/control/tasks/restore/destination-target.js';
import type { TaskRecord } from '../../../../layers/control/tasks/task.js';
import { TaskClaims } from '../../../../layers/control/tasks/task-claims.js';
import type { TaskContext } from '../../../../layers/control/tasks/task-kinds.js';
import { TaskLifecycle } from '../../../../layers/control/tasks/task-lifecycle.js';
import { TaskRepository } from '../../../../layers/control/tasks/task-repository.js';
import { failureOf, SAFETY_MARGIN_MS, TaskWorker } from '../../../../layers/control/tasks/task-worker.js';
import { BACKUP_STATES } from '../../../../lib/backup-state-machine.js';
import { runBackup } from './backup-run.js';
import { startS3rver, type S3rverHandle } from '../../../../local/s3rver.js';
import { dynaliteForTests } from '../dynalite-table.js';
import { type TaskApps, taskApps } from '../tasks/task-apps.js';
import { tempDir, treeDigest } from '../../kloset/fixtures.js';

const dynamo = dynaliteForTests();
const BUCKET = 'kloud-staging';
const MiB = 1024 * 1024;

/** The staging bucket, where the next `dying` records of a batch's part fail, as an invocation killed before writing it. */
class DyingRecords extends StagingArea {
  dying = 0;
  override putJson(key: string, value: unknown): Promise<void> {
    if (key.includes('/batch-results/') && this.dying > 0) {
      this.dying--;
      return Promise.reject(new Error('the sandbox died before recording its part'));
    }
    return super.putJson(key, value);
  }
}

let s3rver: S3rverHandle;
let s3: S3Client;
let apps: TaskApps;
let staging: DyingRecords;
let repository: TaskRepository;
let claims: TaskClaims;
let worker: TaskWorker;
/** batch invocations still to die after answering (their part recorded) */
let dyingAnswers = 0;
const calls: string[] = [];

beforeAll(async () => {
  const dir = await tempDir('kloud-backup-parts-');
  s3rver = await startS3rver(join(dir, 's3'), [BUCKET]);
  s3 = new S3Client({
    endpoint: s3rver.endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const table = dynamo.table();
  apps = await taskApps(table);
  repository = new TaskRepository(table);
  claims = new TaskClaims(table, repository);
  staging = new DyingRecords(s3, BUCKET);
  const lifecycle = new TaskLifecycle(repository, claims, { publish: async () => undefined });
  const places = new DestinationTargets(apps.settings, apps.repository, apps.secrets);
  const backup = new BackupStages(repository, lifecycle, apps.stores, apps.engine, places, staging, {
    // the large file is read whole by one batch: more than a sealing thread takes, so it is streamed
    batchBytes: 16 * MiB,
    batchEntries: 8,
    sliceMs: 1,
    safetyMarginMs: SAFETY_MARGIN_MS,
    failureOf,
  });
  worker = new TaskWorker(repository, lifecycle, {}, { backup } as unknown as TaskContext);
}, 120_000);

afterAll(async () => {
  s3?.destroy();
  await s3rver?.stop();
});

/** A store app and a source app with a large file (many chunks) and small ones. */
async function storeAndSource(name: string) {
  const vault = await apps.directory(`${name}-vault`);
  const vaultId = (
    await apps.ready({
      resourceId: vault.resourceId,
      name: `${name}-vault`,
      storageType: 'standard',
      configuration: { path: 'store' },
    })
  ).id;
  const files = await apps.directory(`${name}-files`);
  const sourceId = (
    await apps.ready({
      resourceId: files.resourceId,
      name: `${name}-files`,
      storageType: 'standard',
      configuration: { path: 'store' },
    })
  ).id;
  const data = join(files.path, 'data');
  await mkdir(join(data, 'sub'), { recursive: true });
  await writeFile(join(data, 'big.bin'), randomBytes(10 * MiB + 5_000));
  for (let i = 0; i < 12; i++)
    await writeFile(join(data, i % 3 ? `f${i}.txt` : `sub/f${i}.txt`), `file ${i} `.repeat(40 + i));
  return { vaultId, sourceId, data };
}

/** Runs one backup through the state machine to its end; the task as it ended. */
function backUp(vaultId: string, sourceId: string): Promise<TaskRecord> {
  return runBackup({
    repository,
    claims,
    vaultId,
    sourceId,
    retryAtOnce: [BACKUP_STATES.batch],
    handler: async (e, context) => {
      calls.push(e.action);
      const answer = await worker.handle(e, context.getRemainingTimeInMillis());
      if (e.action === 'batch' && (answer as { done: boolean }).done === false && dyingAnswers > 0) {
        dyingAnswers--;
        throw new Error('the sandbox died after recording its part');
      }
      return answer;
    },
  });
}

/** The snapshot restored and compared with the source; the store checked with its data read. */
async function expectReadsBack(vaultId: string, snapshotId: string, data: string): Promise<void> {
  await apps.stores.withStore(await apps.stores.readyApp(vaultId), async (store) => {
    const [snapshot] = await store.snapshots();
    expect(snapshot!.id).toBe(snapshotId);
    const to = await tempDir();
    expect((await store.restore(snapshotId, undefined, { to })).errors).toEqual([]);
    expect(await treeDigest(join(to, snapshot!.sources[0]!))).toEqual(await treeDigest(data));
    expect((await store.check({ readData: true })).ok).toBe(true);
  });
}

test('batches cut at 1 ms invocations go on invocation after invocation, through invocations that die before and after recording their part, into a snapshot that reads back byte for byte', async () => {
  const { vaultId, sourceId, data } = await storeAndSource('cut');
  calls.length = 0;
  // each within one entry of the batch state's two retries, even when both meet the same batch
  staging.dying = 1;
  dyingAnswers = 1;
  const ended = await backUp(vaultId, sourceId);
  expect(staging.dying).toBe(0);
  expect(dyingAnswers).toBe(0);
  expect(ended).toMatchObject({ state: 'succeeded', result: { files: 13, filesRead: 13, errors: [] } });
  const result = ended.result as { snapshot: string; batches: number; bytes: number; bytesRead: number };
  // every byte read once: no item lost or read twice across the parts and the retries
  expect(result.bytesRead).toBe(result.bytes);
  expect(result.bytes).toBeGreaterThan(10 * MiB);
  // at least a chunk an invocation: the 10 MiB file alone is cut many times (how many small files
  // share an invocation depends on how many were already started when its deadline passed)
  expect(calls.filter((a) => a === 'batch').length).toBeGreaterThan(result.batches + 5);
  expect(ended.progress).toMatchObject({ done: result.batches, bytesDone: result.bytesRead });
  await expectReadsBack(vaultId, result.snapshot, data);
}, 180_000);
