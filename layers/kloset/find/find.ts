import picomatch from 'picomatch';
import type { Repository } from '../repository/repository.js';
import type { SnapshotRecord } from '../snapshot/snapshot-record.js';
import { TreeReader } from '../snapshot/tree-reader.js';
import type { TreeEntry } from '../core/tree-node.js';

export interface Found {
  readonly snapshot: SnapshotRecord;
  readonly path: string;
  readonly entry: TreeEntry;
}

/**
 * Entries matching a glob across snapshots: a pattern with `/` matches the whole path
 * (`/etc/**\/*.conf`), one without matches names (`*.conf`).
 */
export async function* findInSnapshots(
  repo: Repository,
  snapshots: readonly SnapshotRecord[],
  pattern: string,
): AsyncGenerator<Found> {
  const matcher = picomatch(pattern, { dot: true });
  const byPath = pattern.includes('/');
  const trees = new TreeReader(repo);
  for (const snapshot of snapshots) {
    for await (const { path, entry } of trees.walk(snapshot.root)) {
      if (matcher(byPath ? path : entry.name)) yield { snapshot, path, entry };
    }
  }
}
