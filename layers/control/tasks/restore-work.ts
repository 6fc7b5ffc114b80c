/**
 * The restore task: a snapshot's paths written onto another store app's resource (its S3 bucket,
 * SFTP server or directory, with that app's credentials), or into a tar archive to download.
 *
 * Onto a resource it continues across Lambda invocations: the engine walks the snapshot's tree
 * in order and stops between two entries when the slice's deadline comes, having finished every
 * entry it started; the checkpoint is the walk's cursor (the entry's index in its directory and
 * in each directory above: trees never change, so it stays true) with the counts so far. A
 * resumed slice starts where the last one stopped; if a slice died before saving its cursor,
 * the next one meets its own files again: with `never`, an existing file identical in size and
 * modification time to the snapshot's is taken as restored, one that differs is an error.
 * A single file larger than a slice still runs in one invocation.
 *
 * The archive is written in one slice, and bounded (restore/archive-restore.ts).
 */
import type { KlosetAdapter, RestoreDestination, Store } from '../engine/kloset-adapter.js';
import type { StagingArea } from '../staging/staging-area.js';
import type { AppStores } from '../store-apps/app-store.js';
import { restoreToArchive } from './restore/archive-restore.js';
import type { DestinationTargets } from './restore/destination-target.js';
import type { RestoreParameters } from './restore/restore-parameters.js';
import { RestoreCounts, type RestoreCountsData } from './restore/restore-counts.js';
import { retrievalNeeded } from '../engine/retrieval-needed.js';
import type { RetrievalCheckpoint } from './restore/retrieval-steps.js';
import type { SliceInput, SliceOutcome, TaskWork } from './task-work.js';

export interface RestoreTaskResult extends Record<string, unknown>, RestoreCountsData {
  /** where the files went, without secrets */
  readonly destination: string;
  readonly downloadUrl?: string;
  readonly expiresAt?: string;
}

export interface RestoreCheckpoint {
  /** the snapshot's full ID, resolved on the first slice (a later `latest` may be another) */
  readonly snapshot: string;
  /** the path being restored (index in the parameters' paths) */
  readonly pathIndex: number;
  /** where that path's walk continues (the engine's RestoreCursor); none: from its start */
  readonly resumeAt?: number[];
  readonly counts: RestoreCountsData;
  /** the retrieval from archive storage before the first slice (restore/retrieval-steps.ts) */
  readonly retrieval?: RetrievalCheckpoint;
}

// the API's side (validation, the exclusive key) carries no engine: it lives apart
export { RestoreParameters, restoreExclusiveKey } from './restore/restore-parameters.js';

type Input = SliceInput<RestoreParameters, RestoreCheckpoint>;
type Outcome = SliceOutcome<RestoreCheckpoint, RestoreTaskResult>;

export class RestoreWork implements TaskWork<RestoreParameters, RestoreCheckpoint, RestoreTaskResult> {
  constructor(
    private readonly stores: AppStores,
    private readonly engine: KlosetAdapter,
    private readonly destinations: DestinationTargets,
    /** where archives go; absent where the function binds no staging bucket */
    private readonly staging: StagingArea | undefined,
  ) {}

  async slice(input: Input): Promise<Outcome> {
    const app = await this.stores.readyApp(input.task.appId);
    const { destination } = input.parameters;
    if ('archive' in destination) return this.stores.withStore(app, (store) => this.archive(store, input));
    const target = await this.destinations.target(destination);
    return this.stores.withStore(app, (store) =>
      this.engine.withDestination(target, (dest) => this.restoreSome(store, dest, target.printable, input)),
    );
  }

  private async restoreSome(
    store: Store,
    dest: RestoreDestination,
    printable: string,
    input: Input,
  ): Promise<Outcome> {
    const { parameters, deadline, signal, report } = input;
    const {
      snapshot,
      pathIndex,
      resumeAt,
      counts: before,
    } = input.checkpoint ?? (await firstCheckpoint(store, parameters));
    const counts = new RestoreCounts(before);
    const stop = () => signal.aborted || Date.now() >= deadline;
    for (let i = pathIndex; i < parameters.paths.length; i++) {
      if (i > pathIndex && stop())
        return { done: false, checkpoint: { snapshot, pathIndex: i, counts: counts.data() } };
      const run = await store.restore(snapshot, parameters.paths[i], {
        destination: dest,
        overwrite: parameters.overwrite,
        reportDiffering: parameters.overwrite === 'never',
        stopBefore: stop,
        ...(i === pathIndex && resumeAt && { resumeAt }),
        onProgress: (p) =>
          report({
            unit: 'files',
            done: counts.files + p.files,
            bytesDone: counts.bytes + p.bytes,
            message: `restoring ${p.path}`,
          }),
      });
      counts.add(run);
      report({ unit: 'files', done: counts.files, bytesDone: counts.bytes });
      if (run.resumeAt)
        return {
          done: false,
          checkpoint: { snapshot, pathIndex: i, resumeAt: [...run.resumeAt], counts: counts.data() },
        };
    }
    return { done: true, result: { ...counts.data(), destination: printable } };
  }

  private async archive(store: Store, input: Input): Promise<Outcome> {
    if (!this.staging) throw new Error('restore to an archive: no staging bucket is bound to this function');
    const { task, parameters, signal, report } = input;
    const first = input.checkpoint ?? (await firstCheckpoint(store, parameters));
    const staged = await restoreToArchive(store, this.staging, {
      taskId: task.id,
      snapshot: first.snapshot,
      paths: parameters.paths,
      signal,
      onProgress: (files, bytes) => report({ unit: 'files', done: files, bytesDone: bytes }),
    });
    // cancelled: nothing is kept, and a later slice would start the archive over
    if (!staged) return { done: false, checkpoint: first };
    const { counts, ...where } = staged;
    return { done: true, result: { ...counts.data(), ...where } };
  }
}

/** The snapshot's full ID, once its packs are known to be readable (RETRIEVAL_NEEDED otherwise). */
async function firstCheckpoint(store: Store, parameters: RestoreParameters): Promise<RestoreCheckpoint> {
  const snapshot = (await store.resolveSnapshot(parameters.snapshot)).id;
  const refused = await retrievalNeeded(store, snapshot, parameters.paths, 'restored');
  if (refused) throw refused;
  return { snapshot, pathIndex: 0, counts: new RestoreCounts().data() };
}
