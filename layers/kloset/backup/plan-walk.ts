import type { BackupSource, SourceEntry } from '../core/backup-source.js';
import { errorText } from '../core/errors.js';
import type { TreeEntry } from '../core/tree-node.js';
import { compareWalkKeys, isBelow, walkKey } from '../core/walk-order.js';
import { TreeReader, joinSnapshotPath } from '../snapshot/tree-reader.js';
import type { Repository } from '../repository/repository.js';

/**
 * The two streams a backup plan merges, both in walk order (core/walk-order.ts) and both able to
 * start after a walk key: the source's entries and the parent snapshot's. Each holds only the
 * directories on its current path.
 */
export interface WalkStep<E> {
  readonly path: string;
  readonly key: string;
  readonly entry?: E;
  /** set instead of `entry` when the entry cannot be backed up (unlistable, unnameable) */
  readonly error?: string;
}

interface Child<E> {
  readonly name: string;
  readonly isDir: boolean;
  readonly entry: E;
  readonly error?: string;
}

/** Whether a walk resumed after `after` has not passed the entry with walk key `key`. */
function ahead(key: string, after: string | undefined): boolean {
  return after === undefined || compareWalkKeys(key, after) > 0;
}

/** Whether a walk resumed after `after` has entries left below the directory with walk key `key`. */
function aheadBelow(key: string, after: string | undefined): boolean {
  return after === undefined || compareWalkKeys(key, after) >= 0 || isBelow(after, key);
}

interface WalkOptions<E> {
  readonly after?: string;
  readonly list: (path: string, entry: E) => Promise<Child<E>[]>;
  /** asked when the walk is about to go below a directory it yielded (the consumer has seen it) */
  readonly descend?: (path: string) => boolean;
}

/** Depth first below `dir`, a directory listed before it is yielded (so a failed listing is its error). */
async function* walkBelow<E>(
  dir: string,
  children: readonly Child<E>[],
  opts: WalkOptions<E>,
): AsyncGenerator<WalkStep<E>> {
  const keyed = children.map((c) => ({ c, key: walkKey(joinSnapshotPath(dir, c.name), c.isDir) }));
  keyed.sort((a, b) => compareWalkKeys(a.key, b.key));
  for (const { c, key } of keyed) {
    const path = joinSnapshotPath(dir, c.name);
    if (c.error !== undefined || !c.isDir) {
      if (ahead(key, opts.after))
        yield c.error !== undefined ? { path, key, error: c.error } : { path, key, entry: c.entry };
      continue;
    }
    if (!aheadBelow(key, opts.after)) continue;
    let below: Child<E>[];
    try {
      below = await opts.list(path, c.entry);
    } catch (err) {
      yield { path, key, error: `cannot list the directory: ${errorText(err)}` };
      continue;
    }
    if (ahead(key, opts.after)) yield { path, key, entry: c.entry };
    if (opts.descend?.(path) ?? true) yield* walkBelow(path, below, opts);
  }
}

/** The parent snapshot's entries below `/`; `descend` skips the subtree of a directory that is gone. */
export function walkParent(
  repo: Repository,
  root: string,
  after: string | undefined,
  descend: (path: string) => boolean,
): AsyncGenerator<WalkStep<TreeEntry>> {
  const reader = new TreeReader(repo);
  const children = async (treeId: string) =>
    (await reader.entries(treeId)).map((entry) => ({ name: entry.name, isDir: entry.type === 'dir', entry }));
  const list = (_path: string, entry: TreeEntry) =>
    entry.type === 'dir' ? children(entry.subtree) : Promise.resolve([]);
  return (async function* () {
    yield* walkBelow('/', await children(root), { after, list, descend });
  })();
}

/** A place the plan starts from: a source, or a directory above sources (its own entry only). */
export interface WalkRoot {
  readonly path: string;
  readonly entry?: SourceEntry;
  readonly error?: string;
  /** whether everything below it is walked too */
  readonly whole: boolean;
}

export interface SourceWalkOptions {
  readonly after?: string;
  readonly excluded: (path: string, name: string) => boolean;
}

/**
 * The source's entries: the roots in walk order, each source with everything below it (through
 * the source's own walk when it has one, else directory by directory). Excluded entries and
 * special files (devices, FIFOs, sockets) are left out.
 */
export async function* walkSource(
  source: BackupSource,
  roots: readonly WalkRoot[],
  opts: SourceWalkOptions,
): AsyncGenerator<WalkStep<SourceEntry>> {
  const isDir = (r: WalkRoot) => r.entry?.type === 'dir' && r.error === undefined;
  const keyed = roots.map((r) => ({ r, key: walkKey(r.path, isDir(r)) }));
  keyed.sort((a, b) => compareWalkKeys(a.key, b.key));
  for (const { r, key } of keyed) {
    if (ahead(key, opts.after))
      yield r.error !== undefined
        ? { path: r.path, key, error: r.error }
        : { path: r.path, key, entry: r.entry };
    if (!r.whole || !isDir(r) || !aheadBelow(key, opts.after)) continue;
    const after = opts.after !== undefined && isBelow(opts.after, key) ? opts.after : undefined;
    const walked = source.walk?.(r.path, after);
    if (walked) {
      yield* keptSteps(walked, opts.excluded);
      continue;
    }
    const list = async (path: string) => kept(path, await source.list(path), opts.excluded);
    let children: Child<SourceEntry>[];
    try {
      children = await list(r.path);
    } catch (err) {
      yield { path: r.path, key, error: `cannot list the directory: ${errorText(err)}` };
      continue;
    }
    yield* walkBelow(r.path, children, { after, list });
  }
}

function kept(
  dir: string,
  entries: readonly SourceEntry[],
  excluded: SourceWalkOptions['excluded'],
): Child<SourceEntry>[] {
  return entries
    .filter((e) => e.type !== 'special' && !excluded(joinSnapshotPath(dir, e.name), e.name))
    .map((entry) => ({ name: entry.name, isDir: entry.type === 'dir', entry, error: entry.error }));
}

/** A source's own walk without excluded entries (and what is below them) and special files. */
async function* keptSteps(
  walked: AsyncIterable<{ path: string; entry: SourceEntry }>,
  excluded: SourceWalkOptions['excluded'],
): AsyncGenerator<WalkStep<SourceEntry>> {
  let skipped: string | undefined;
  for await (const { path, entry } of walked) {
    const key = walkKey(path, entry.type === 'dir' && entry.error === undefined);
    if (skipped !== undefined && isBelow(key, skipped)) continue;
    if (entry.type === 'special') continue;
    if (excluded(path, entry.name)) {
      skipped = key;
      continue;
    }
    yield entry.error !== undefined ? { path, key, error: entry.error } : { path, key, entry };
  }
}
