/**
 * The answer to a download or a restore whose data is in archive storage (S3 Glacier, Deep
 * Archive): 409 RETRIEVAL_NEEDED saying what a standard retrieval would take and cost, as the
 * engine estimates it without asking for it (its dry run).
 */
import type { RetrievalOptions, RetrievalStatus } from '../../kloset/index.js';
import { Conflict } from '../errors.js';
import type { Store } from './kloset-adapter.js';

/** 3–5 hours, 1–5 minutes, within 12 hours */
export function typicalTime([min, max]: readonly [number, number]): string {
  if (max < 1) return `${Math.round(min * 60)}–${Math.round(max * 60)} minutes`;
  return min === max ? `within ${max} hours` : `${min}–${max} hours`;
}

export function cost(usd: number): string {
  return usd < 0.01 ? 'under $0.01' : `about $${usd.toFixed(2)}`;
}

/** The retrievals of several paths as one: their counts added, the longest time. */
export function together(statuses: readonly RetrievalStatus[]): RetrievalStatus {
  return statuses.reduce((a, b) => ({
    ...a,
    needed: a.needed + b.needed,
    bytes: a.bytes + b.bytes,
    ready: a.ready + b.ready,
    requested: a.requested + b.requested,
    pending: a.pending + b.pending,
    pendingPacks: [...new Set([...a.pendingPacks, ...b.pendingPacks])],
    archives: [...new Set([...a.archives, ...b.archives])],
    estimate: {
      hours: [
        Math.max(a.estimate.hours[0], b.estimate.hours[0]),
        Math.max(a.estimate.hours[1], b.estimate.hours[1]),
      ],
      costUsd: a.estimate.costUsd + b.estimate.costUsd,
    },
  }));
}

/**
 * The retrieval of the archived data packs `paths` of the snapshot need, as one (the engine's
 * `retrieval` for each path: idempotent, and nothing is asked for with `dryRun`).
 */
export async function retrievalOfPaths(
  store: Store,
  snapshotId: string,
  paths: readonly string[],
  opts: RetrievalOptions,
): Promise<RetrievalStatus> {
  const statuses: RetrievalStatus[] = [];
  for (const path of paths) statuses.push(await store.retrieval(snapshotId, path, opts));
  return together(statuses);
}

/**
 * The 409 for `paths` of the snapshot when some of their data packs have no readable copy
 * (nothing is asked of the archive); undefined when every pack they need is readable.
 */
export async function retrievalNeeded(
  store: Store,
  snapshotId: string,
  paths: readonly string[],
  purpose: 'downloaded' | 'restored',
): Promise<Conflict | undefined> {
  const { pending, bytes, archives, estimate } = await retrievalOfPaths(store, snapshotId, paths, {
    dryRun: true,
  });
  if (pending === 0) return undefined;
  const subject = paths.length === 1 ? paths[0]! : `${paths.length} paths`;
  return new Conflict(
    `${subject} is in archive storage (${archives.join(', ')}): ${pending} data pack(s) of ${bytes} bytes must be retrieved before it can be ${purpose}. ` +
      `A standard retrieval typically takes ${typicalTime(estimate.hours)} and costs ${cost(estimate.costUsd)} (AWS list prices): ` +
      '`kloud restore` from a terminal asks for it (and --wait waits for it); a restore task (`kloud remote restore`) retrieves it and then restores',
    'RETRIEVAL_NEEDED',
  );
}
