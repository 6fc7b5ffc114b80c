/**
 * The answer to a download whose data is in archive storage (S3 Glacier): 409 RETRIEVAL_NEEDED
 * saying what a retrieval would take and cost, found by the engine without asking for it.
 */
import type { RetrievalStatus } from '../../kloset/index.js';
import type { Store } from '../engine/kloset-adapter.js';
import { Conflict } from '../errors.js';

/** 3–5 hours, 1–5 minutes, within 12 hours */
function typicalTime([min, max]: readonly [number, number]): string {
  if (max < 1) return `${Math.round(min * 60)}–${Math.round(max * 60)} minutes`;
  return min === max ? `within ${max} hours` : `${min}–${max} hours`;
}

function cost(usd: number): string {
  return usd < 0.01 ? 'under $0.01' : `about $${usd.toFixed(2)}`;
}

export function retrievalNeededMessage(path: string, status: RetrievalStatus): string {
  const { pending, bytes, archives, estimate } = status;
  return (
    `${path} is in archive storage (${archives.join(', ')}): ${pending} data pack(s) of ${bytes} bytes must be retrieved before it can be downloaded. ` +
    `A standard retrieval typically takes ${typicalTime(estimate.hours)} and costs ${cost(estimate.costUsd)} (AWS list prices): ` +
    'start a restore of this path, which asks for it'
  );
}

/** The 409 for `path` of the snapshot, with the engine's estimate of a standard retrieval (nothing is asked for). */
export async function retrievalNeeded(store: Store, snapshotId: string, path: string): Promise<Conflict> {
  const status = await store.retrieval(snapshotId, path, { dryRun: true });
  return new Conflict(retrievalNeededMessage(path, status), 'RETRIEVAL_NEEDED');
}
