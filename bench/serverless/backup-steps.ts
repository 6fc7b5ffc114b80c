/**
 * The three Lambda states of a serverless backup as plain functions, JSON in and JSON out: Plan
 * (the batches, into a manifest), Back up a batch (one worker's share: a partial tree), Commit
 * (the snapshot). Each opens the store on its own, as a Lambda invocation does: its own
 * connection, the merged index cached under its `/tmp` and spilled past its memory budget.
 * The benchmark runs each call in its own process (step-process.ts); the backup state machine's
 * worker can call the same functions from its handler.
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import {
  type SnapshotSummary,
  type Store,
  type WorkBatch,
  backupBatch,
  commitSnapshot,
  openSources,
  openStore,
  planBackup,
} from '../../layers/kloset/index.js';
import { ReadCountingSource } from './read-counting-source.js';

/** How a step reaches the store, and the memory it may give the index. */
export interface StoreAccess {
  /** the store's location with its connector options (`s3://bucket/prefix?endpoint=...`) */
  readonly location: string;
  readonly passphrase: string;
  /** the invocation's scratch folder (`/tmp` in a Lambda): the index cache and its spill */
  readonly cacheDir: string;
  /** bytes of index held in memory; none: no limit */
  readonly indexMemoryBudget?: number;
}

export interface PlanInput {
  readonly store: StoreAccess;
  /** the places backed up, as `kloud backup` takes them (`s3://bucket/prefix?...`) */
  readonly places: readonly string[];
  readonly maxBatchBytes: number;
  readonly maxBatchEntries: number;
  /** the file the batches are written to, one JSON line each (the staging bucket's manifest) */
  readonly manifest: string;
}

export interface PlanOutput {
  /** snapshot paths of the places (`/s3:bucket/prefix`) */
  readonly sources: string[];
  /** the parent snapshot the batches were planned against */
  readonly parent: string | null;
  readonly batches: number;
}

export interface BatchInput {
  readonly store: StoreAccess;
  readonly places: readonly string[];
  /** one line of the manifest, parsed: validated by the engine */
  readonly batch: unknown;
}

export interface BatchOutput {
  readonly partialTree: string;
  readonly errors: number;
  /** content bytes read from the source */
  readonly bytesRead: number;
}

export interface CommitInput {
  readonly store: StoreAccess;
  readonly sources: readonly string[];
  readonly parent: string | null;
  readonly partialTrees: readonly string[];
  /** epoch milliseconds when the plan started: the snapshot's duration */
  readonly startedAt: number;
}

export interface CommitOutput {
  readonly snapshot: string;
  readonly summary: SnapshotSummary;
}

async function withStore<T>(access: StoreAccess, use: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(access.location, {
    passphrase: access.passphrase,
    cacheDir: access.cacheDir,
    ...(access.indexMemoryBudget !== undefined && { indexMemoryBudget: access.indexMemoryBudget }),
  });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

export async function planStep(input: PlanInput): Promise<PlanOutput> {
  const opened = await openSources(input.places);
  try {
    return await withStore(input.store, async (store) => {
      const plan = await planBackup(store.repo, opened.source, opened.paths, {
        maxBatchBytes: input.maxBatchBytes,
        maxBatchEntries: input.maxBatchEntries,
      });
      await writeFile(input.manifest, '');
      let batches = 0;
      for await (const step of plan.steps()) {
        if ('stopped' in step) throw new Error('a plan without a deadline stopped');
        await appendFile(input.manifest, `${JSON.stringify(step.batch)}\n`);
        batches++;
      }
      return { sources: plan.sources, parent: plan.parent?.id ?? null, batches };
    });
  } finally {
    await opened.close();
  }
}

/** The batches a plan wrote to its manifest, in order. */
export async function readManifest(manifest: string): Promise<WorkBatch[]> {
  const text = await readFile(manifest, 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as WorkBatch);
}

/** One worker: a batch in, its partial tree's ID out. */
export async function batchStep(input: BatchInput): Promise<BatchOutput> {
  const opened = await openSources(input.places);
  try {
    const source = new ReadCountingSource(opened.source);
    return await withStore(input.store, async (store) => {
      const result = await backupBatch(store.repo, input.batch as WorkBatch, { source });
      return { partialTree: result.partialTree, errors: result.errors.length, bytesRead: source.bytesRead };
    });
  } finally {
    await opened.close();
  }
}

export async function commitStep(input: CommitInput): Promise<CommitOutput> {
  return withStore(input.store, async (store) => {
    const parent = input.parent === null ? undefined : await store.resolveSnapshot(input.parent);
    const record = await commitSnapshot(store.repo, input.partialTrees, {
      sources: [...input.sources],
      parent,
      startedAt: input.startedAt,
    });
    return { snapshot: record.id, summary: record.summary };
  });
}
