/**
 * A restore from a store whose data packs are in archive storage (a `cold` app) cannot read them
 * until they are retrieved, which takes hours and costs money: the restore is refused before it
 * writes anything, saying what the retrieval would cost and take. Nothing is asked of the
 * archive here (the engine's dry run); retrieving is its own action.
 */
import { Conflict } from '../../errors.js';
import type { Store } from '../../engine/kloset-adapter.js';

const GIB = 1024 ** 3;

export async function refuseArchivedPacks(
  store: Store,
  snapshot: string,
  paths: readonly string[],
): Promise<void> {
  let [unreadable, bytes, costUsd] = [0, 0, 0];
  const hours = [0, 0];
  const archives = new Set<string>();
  for (const path of paths) {
    const status = await store.retrieval(snapshot, path, { dryRun: true });
    if (status.pending === 0) continue;
    unreadable += status.pending;
    bytes += status.bytes;
    costUsd += status.estimate.costUsd;
    hours[0] = Math.max(hours[0]!, status.estimate.hours[0]);
    hours[1] = Math.max(hours[1]!, status.estimate.hours[1]);
    status.archives.forEach((a) => archives.add(a));
  }
  if (unreadable === 0) return;
  throw new Conflict(
    `${unreadable} data pack${unreadable === 1 ? '' : 's'} this restore needs are in archive storage (${[...archives].join(', ')}, ${(bytes / GIB).toFixed(2)} GiB): ` +
      `a standard retrieval would cost about $${costUsd.toFixed(2)} and take ${hours[0]}-${hours[1]} hours; retrieve them first, then restore`,
    'RETRIEVAL_NEEDED',
  );
}
