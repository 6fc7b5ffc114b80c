/**
 * The sync task: copies snapshots from the app's store to a peer app's store (`to`) or from the
 * peer's (`from`), one snapshot at a time, so that it continues across Lambda invocations.
 *
 * The first slice fixes the selection (source snapshot IDs, oldest first: a parent before the
 * snapshots that refer to it); every slice then copies whole snapshots until its deadline. The
 * engine commits each copied snapshot by its own index delta, so a slice that ends between two
 * leaves whole snapshots only. A snapshot larger than a slice still runs in one invocation; if
 * that invocation is killed, the next attempt adopts the packs it had uploaded.
 *
 * The checkpoint holds the source IDs not yet reached (65 bytes each) with the counts so far.
 * It is never larger than the result the task ends with (130 bytes per copied pair), which is
 * what bounds a task's item (DynamoDB: 400 KB): hence MAX_SNAPSHOTS per sync.
 */
import type { AppStores } from '../store-apps/app-store.js';
import { Unprocessable } from '../errors.js';
import { type Store, syncSnapshots } from '../engine/kloset-adapter.js';
import { type SyncParameters, syncPeer } from './sync-parameters.js';
import type { SliceInput, SliceOutcome, TaskWork } from './task-work.js';

/** Snapshots one sync may select: their result stays well inside a DynamoDB item. */
export const MAX_SNAPSHOTS = 2000;

// the API's side (validation) carries no engine: it lives apart
export { SyncParameters } from './sync-parameters.js';

export interface SyncTaskResult extends Record<string, unknown> {
  /** each copied snapshot: its ID in the source and in the destination, oldest first */
  copied: { from: string; to: string }[];
  /** selected snapshots the destination had already (or had and removed) */
  skipped: number;
  bytesRead: number;
  newBytes: number;
  storedBytes: number;
  /** what the source could not list, and selected snapshots removed from it before their turn */
  warnings: string[];
}

export interface SyncCheckpoint {
  /** source snapshot IDs not reached yet, oldest first */
  readonly remaining: string[];
  readonly total: number;
  readonly result: SyncTaskResult;
}

export class SyncWork implements TaskWork<SyncParameters, SyncCheckpoint, SyncTaskResult> {
  constructor(private readonly stores: AppStores) {}

  async slice(
    input: SliceInput<SyncParameters, SyncCheckpoint>,
  ): Promise<SliceOutcome<SyncCheckpoint, SyncTaskResult>> {
    const { task, parameters } = input;
    // both must be ready: a peer being set up (or failed) is refused with APP_NOT_READY
    const peer = await syncPeer(task.appId, parameters, (id) => this.stores.readyApp(id));
    const app = await this.stores.readyApp(task.appId);
    const [from, to] = parameters.direction === 'to' ? [app, peer] : [peer, app];
    return this.stores.withStore(from, (source) =>
      this.stores.withStore(to, async (dest) => {
        const checkpoint = input.checkpoint ?? (await firstCheckpoint(source, parameters.snapshots));
        return copySome(source, dest, checkpoint, input);
      }),
    );
  }
}

/** The selection, as source IDs oldest first, and the source's listing problems. */
async function firstCheckpoint(source: Store, refs: readonly string[] | undefined): Promise<SyncCheckpoint> {
  const { snapshots, unreadable } = await source.listSnapshots();
  const chosen =
    refs && new Set(await Promise.all(refs.map(async (ref) => (await source.resolveSnapshot(ref)).id)));
  const remaining = snapshots
    .filter((s) => !chosen || chosen.has(s.id))
    .map((s) => s.id)
    .reverse();
  if (remaining.length > MAX_SNAPSHOTS)
    throw new Unprocessable(
      `the sync selects ${remaining.length} snapshots, more than ${MAX_SNAPSHOTS} in one task: select some with "snapshots" and run several syncs`,
      'TOO_MANY_SNAPSHOTS',
    );
  const result = {
    copied: [],
    skipped: 0,
    bytesRead: 0,
    newBytes: 0,
    storedBytes: 0,
    warnings: [...unreadable],
  };
  return { remaining, total: remaining.length, result };
}

/** Copies snapshots of the checkpoint until the deadline; the next checkpoint, or the result. */
async function copySome(
  source: Store,
  dest: Store,
  checkpoint: SyncCheckpoint,
  { deadline, signal, report }: SliceInput<SyncParameters, SyncCheckpoint>,
): Promise<SliceOutcome<SyncCheckpoint, SyncTaskResult>> {
  const before = checkpoint.result;
  const visible = new Set((await source.snapshots()).map((s) => s.id));
  const gone = checkpoint.remaining.filter((id) => !visible.has(id));
  const selection = checkpoint.remaining.filter((id) => visible.has(id));
  const warnings = [
    ...before.warnings,
    ...gone.map((id) => `snapshot ${id} was removed from the source before its turn: not copied`),
  ];
  const done = checkpoint.total - checkpoint.remaining.length + gone.length;
  if (selection.length === 0) return { done: true, result: { ...before, warnings } };
  const synced = await syncSnapshots(source, dest, {
    snapshots: selection,
    stopBefore: () => signal.aborted || Date.now() >= deadline,
    onProgress: (p) =>
      report({
        unit: 'snapshots',
        done: done + p.snapshots,
        total: checkpoint.total,
        bytesDone: before.bytesRead + p.bytesRead,
        ...(p.snapshot && { message: `copying snapshot ${p.snapshot.slice(0, 8)}` }),
      }),
  });
  const result: SyncTaskResult = {
    copied: [...before.copied, ...synced.copied],
    skipped: before.skipped + synced.skipped,
    bytesRead: before.bytesRead + synced.bytesRead,
    newBytes: before.newBytes + synced.newBytes,
    storedBytes: before.storedBytes + synced.storedBytes,
    // the listing's problems are the same on every slice: each once
    warnings: [...new Set([...warnings, ...synced.warnings])],
  };
  if (!synced.remaining?.length) return { done: true, result };
  return { done: false, checkpoint: { remaining: [...synced.remaining], total: checkpoint.total, result } };
}
