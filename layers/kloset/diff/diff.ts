import type { Repository } from '../repository/repository.js';
import type { TreeEntry } from '../core/tree-node.js';
import { compareNames } from '../core/tree-node.js';
import { TreeReader, joinSnapshotPath } from '../snapshot/tree-reader.js';
import { compareEntries } from '../core/entry-difference.js';

export type ChangeKind = 'added' | 'removed' | 'modified' | 'metadata' | 'type';

export interface Change {
  /** path relative to the compared roots, starting with `/` */
  readonly path: string;
  /** content changed (`modified`), only metadata (`metadata`), or file ↔ dir ↔ symlink (`type`) */
  readonly change: ChangeKind;
  readonly type: TreeEntry['type'];
}

/**
 * Differences between two entries (usually the roots of two snapshots or two paths in them),
 * in path order. Directories with equal subtree IDs are skipped without being read: a diff of
 * two snapshots of a large, mostly unchanged tree reads only the changed branches.
 */
export async function* diffEntries(
  repo: Repository,
  a: TreeEntry,
  b: TreeEntry,
  path = '/',
): AsyncGenerator<Change> {
  const trees = new TreeReader(repo);
  yield* diffPair(trees, a, b, path, true);
}

async function* diffPair(
  trees: TreeReader,
  a: TreeEntry,
  b: TreeEntry,
  path: string,
  isRoot = false,
): AsyncGenerator<Change> {
  if (a.type !== b.type) {
    yield { path, change: 'type', type: b.type };
    if (a.type === 'dir') yield* below(trees, a, path, 'removed');
    if (b.type === 'dir') yield* below(trees, b, path, 'added');
    return;
  }
  // the compared roots themselves: a file against a file is compared; two directories are not
  // (their own metadata is where they were taken from, not a change in them)
  if (!(isRoot && a.type === 'dir')) {
    // a directory's content is its entries, compared below
    const differs = compareEntries(a, b);
    if (differs.content && a.type !== 'dir') yield { path, change: 'modified', type: a.type };
    else if (differs.metadata) yield { path, change: 'metadata', type: a.type };
  }
  if (a.type !== 'dir' || b.type !== 'dir' || a.subtree === b.subtree) return;
  const [left, right] = await Promise.all([trees.entries(a.subtree), trees.entries(b.subtree)]);
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    const c = i >= left.length ? 1 : j >= right.length ? -1 : compareNames(left[i]!.name, right[j]!.name);
    if (c < 0) {
      yield* whole(trees, left[i]!, joinSnapshotPath(path, left[i]!.name), 'removed');
      i++;
    } else if (c > 0) {
      yield* whole(trees, right[j]!, joinSnapshotPath(path, right[j]!.name), 'added');
      j++;
    } else {
      yield* diffPair(trees, left[i]!, right[j]!, joinSnapshotPath(path, left[i]!.name));
      i++;
      j++;
    }
  }
}

/** Everything below a directory. */
async function* below(
  trees: TreeReader,
  e: Extract<TreeEntry, { type: 'dir' }>,
  path: string,
  change: 'added' | 'removed',
): AsyncGenerator<Change> {
  for await (const w of trees.walk(e.subtree, path)) yield { path: w.path, change, type: w.entry.type };
}

/** An entry and, for a directory, everything below it. */
async function* whole(
  trees: TreeReader,
  e: TreeEntry,
  path: string,
  change: 'added' | 'removed',
): AsyncGenerator<Change> {
  yield { path, change, type: e.type };
  if (e.type === 'dir') yield* below(trees, e, path, change);
}
