/**
 * A distributed backup as the state machine runs it, in one test process: a plan (in one run or
 * resumed from its cursor), one worker per batch each opening the store on its own, a commit.
 */
import type { BackupSource } from '../../../../layers/kloset/core/backup-source.js';
import {
  type PlanCursor,
  type PlanOptions,
  type SnapshotRecord,
  type Store,
  type WorkBatch,
  backupBatch,
  commitSnapshot,
  openStore,
  planBackup,
} from '../../../../layers/kloset/index.js';
import { FsSource } from '../../../../layers/kloset/connectors/fs/fs-source.js';
import { PASSPHRASE } from '../fixtures.js';

export type TestPlanOptions = Partial<PlanOptions> & Pick<PlanOptions, 'maxBatchBytes' | 'maxBatchEntries'>;

/** The plan's batches from one run. */
export async function planBatches(
  store: Store,
  paths: string[],
  opts: TestPlanOptions,
  source: BackupSource = new FsSource(),
) {
  const plan = await planBackup(store.repo, source, paths, opts);
  const batches: WorkBatch[] = [];
  for await (const step of plan.steps()) {
    if ('stopped' in step) throw new Error('a plan without a deadline stopped');
    batches.push(step.batch);
  }
  return { plan, batches };
}

/**
 * The plan's batches from invocations that each stop at once (a deadline already passed), every
 * next one resumed from the cursor (through JSON, as a state machine carries it).
 */
export async function planBatchesInSteps(
  store: Store,
  paths: string[],
  opts: TestPlanOptions,
  source: BackupSource = new FsSource(),
  maxInvocations = 10_000,
) {
  const batches: WorkBatch[] = [];
  let cursor: PlanCursor | undefined;
  for (let invocation = 1; invocation <= maxInvocations; invocation++) {
    const plan = await planBackup(store.repo, source, paths, { ...opts, cursor, deadline: 0 });
    cursor = undefined;
    for await (const step of plan.steps()) {
      if ('stopped' in step) cursor = JSON.parse(JSON.stringify(step.stopped)) as PlanCursor;
      else batches.push(JSON.parse(JSON.stringify(step.batch)) as WorkBatch);
    }
    if (!cursor) return { batches, invocations: invocation };
  }
  throw new Error(`the plan did not end within ${maxInvocations} invocations`);
}

/** Each batch backed up by its own worker (its own store opening), in parallel; the partial trees. */
export async function runWorkers(location: string, batches: WorkBatch[], source?: BackupSource) {
  return Promise.all(
    batches.map(async (batch) => {
      const store = await openStore(location, { passphrase: PASSPHRASE });
      try {
        return await backupBatch(store.repo, JSON.parse(JSON.stringify(batch)) as WorkBatch, { source });
      } finally {
        await store.close();
      }
    }),
  );
}

/** Plan, workers and commit: the snapshot. */
export async function distributedBackup(
  store: Store,
  location: string,
  paths: string[],
  opts: TestPlanOptions,
  source?: BackupSource,
): Promise<{ snapshot: SnapshotRecord; batches: WorkBatch[] }> {
  const startedAt = Date.now();
  const { plan, batches } = await planBatches(store, paths, opts, source);
  const results = await runWorkers(location, batches, source);
  const snapshot = await commitSnapshot(
    store.repo,
    results.map((r) => r.partialTree),
    { sources: plan.sources, parent: plan.parent, startedAt },
  );
  await store.repo.refreshIndex();
  return { snapshot, batches };
}

/** What a batch holds, item by item, as `kind path` (ranges with their offsets). */
/**
 * The batches with the metadata of the directories above `src` left out: those are shared
 * (`/tmp`), and other suites running meanwhile change their link counts and times.
 */
export function belowSource(batches: readonly WorkBatch[], src: string): WorkBatch[] {
  return batches.map((b) => ({
    ...b,
    items: b.items.map((i) =>
      i.kind === 'entry' && !`${i.path}/`.startsWith(`${src}/`) ? { kind: i.kind, path: i.path } : i,
    ) as WorkBatch['items'],
  }));
}

export function itemsOf(batches: readonly WorkBatch[]): string[] {
  return batches.flatMap((b) =>
    b.items.map((i) =>
      i.kind === 'range' ? `range ${i.path}@${i.offset}+${i.length}` : `${i.kind} ${i.path}`,
    ),
  );
}
