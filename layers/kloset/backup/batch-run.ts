import { chunkStream } from '../chunker/fastcdc.js';
import type { BackupSource, ByteRange, SourceEntry } from '../core/backup-source.js';
import { Semaphore } from '../core/concurrency.js';
import { errnoCode, errorText } from '../core/errors.js';
import { BlobType } from '../format/blob.js';
import type { RepositoryWriter } from '../repository/repository-writer.js';
import type { SnapshotError } from '../snapshot/snapshot-record.js';
import { type FileEntry, type TreeEntry, compareNames } from '../core/tree-node.js';
import { TreeReader, joinSnapshotPath } from '../snapshot/tree-reader.js';
import type { SealSettings } from '../sealing/batch-sealer.js';
import { SealQueue, type SealingWorkers } from '../sealing/seal-queue.js';
import { saveDirectory } from './directory-writer.js';
import { excludeMatcher } from './exclude.js';
import { type PartialTree, type RangeResult, emptyCounts } from './partial-tree.js';
import {
  type BatchItem,
  type PlannedEntry,
  type WorkBatch,
  emptyBatch,
  fromPlannedEntry,
  toPlannedEntry,
} from './work-batch.js';
import { sameEntry } from '../core/entry-difference.js';
import { ancestors } from './source-set.js';
import { keepsContent, metadataOf, sameVersion } from './unchanged.js';

type RangeItem = Extract<BatchItem, { kind: 'range' }>;

export interface BackupProgress {
  readonly files: number;
  readonly dirs: number;
  /** logical bytes of files done */
  readonly bytes: number;
  readonly filesRead: number;
  readonly newBytes: number;
  readonly errors: number;
  readonly path: string;
}

export interface BatchOptions {
  source: BackupSource;
  /** glob patterns; see excludeMatcher */
  excludes?: string[];
  /** tree ID of `/` in the parent snapshot: unchanged files are not read again */
  parentRoot?: string;
  onProgress?: (p: BackupProgress) => void;
  onWarning?: (w: SnapshotError) => void;
  /** starts the threads that seal data blobs (one per core by default) */
  startSealing?: (settings: SealSettings) => SealingWorkers;
  /**
   * epoch milliseconds: past it, a plan's batch starts no more items (after its first), and a
   * file it streams stops at the next chunk boundary (after at least one chunk); what is left is
   * handed back (BatchPart.remaining)
   */
  deadline?: number;
}

/** What one run of a plan's batch did, and what it left for the next when its deadline cut it. */
export interface BatchPart {
  readonly partial: PartialTree;
  /** the items not started and the rest of files cut at a chunk boundary, in the batch's order */
  readonly remaining?: WorkBatch;
}

/** What a file's content was read into: its chunks; `cut` when the deadline stopped it short of the end. */
interface Content {
  readonly size: number;
  readonly chunks: string[];
  readonly cut?: true;
}

/**
 * Files streamed at once (read and cut here, each holding a read piece and a chunking window).
 * Sealing threads read small local files themselves, so local files streamed here are large
 * ones, one at a time; files of other machines are all streamed, several at once to hide the
 * latency of each.
 */
const STREAMS_LOCAL = 1;
const STREAMS_REMOTE = 4;
/**
 * Files being read at once, at most: the walk goes on while they are (a file read by a sealing
 * thread waits for the round trip), and stops here, so that what waits stays bounded.
 */
const FILES_IN_FLIGHT = 1024;
const PROGRESS_INTERVAL_MS = 100;
const FILE_CHANGED = 'file changed while it was read';
/** Parent directory nodes loaded ahead of the walk (well under the tree reader's cache size). */
const PARENT_PREFETCH = 64;

function message(err: unknown): string {
  const code = errnoCode(err);
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'vanished during the backup';
  return errorText(err);
}

/** Whether a directory's new entries are exactly those of its node in the parent snapshot. */
function sameEntries(entries: readonly TreeEntry[], previous: ReadonlyMap<string, TreeEntry>): boolean {
  return entries.length === previous.size && entries.every((e) => sameEntry(e, previous.get(e.name)));
}

/** An entry being backed up: a file being read, a directory with files below being read. */
interface Started {
  readonly entry: Promise<TreeEntry | undefined> | TreeEntry | undefined;
}

/**
 * A task whose failure is raised later by the Promise.all that collects it: marked handled now,
 * so that Node does not count it as unhandled while the walk awaits something else meanwhile.
 */
function raisedLater<T>(task: T): T {
  if (task instanceof Promise) task.catch(() => undefined);
  return task;
}

/**
 * Backs up one batch of paths (files, or directories with everything below them) into packs
 * through a writer, and returns the partial tree. The single-process backup is one batch of all
 * its sources; a distributed backup runs many batches in parallel workers, then one commit.
 */
export class BatchRun {
  private readonly excluded: (path: string, name: string) => boolean;
  /** whether sealing threads may read the source's files themselves */
  private readonly streams = { local: new Semaphore(STREAMS_LOCAL), remote: new Semaphore(STREAMS_REMOTE) };
  private readonly filesInFlight = new Semaphore(FILES_IN_FLIGHT);
  private readonly sealing: SealQueue;
  private readonly parentTrees: TreeReader;
  private readonly errors: SnapshotError[] = [];
  readonly warnings: SnapshotError[] = [];
  private readonly counts = emptyCounts();
  private lastProgress = 0;
  /** a plan's batch: its ranges read (the first parts of files cut at the deadline among them) */
  private readonly ranges: RangeResult[] = [];
  /** a plan's batch: each file it may cut at the deadline, by path, with its place in the batch */
  private readonly cuttable = new Map<string, { index: number; item: BatchItem }>();
  /**
   * a plan's batch: what the deadline left of items it had started, by their place in the
   * batch: the rest of a file cut at a chunk boundary, or a file still waiting to be read
   */
  private readonly rests = new Map<number, BatchItem>();

  constructor(
    private readonly writer: RepositoryWriter,
    private readonly opts: BatchOptions,
  ) {
    this.excluded = excludeMatcher(opts.excludes ?? []);
    this.parentTrees = new TreeReader(writer.repo);
    this.sealing = new SealQueue(writer, opts.startSealing);
  }

  /** Backs up paths, each a file or a directory with everything below it. */
  run(paths: readonly string[]): Promise<PartialTree> {
    return this.sealed(() => this.walk(paths));
  }

  /** Backs up a plan's batch (entries, ranges of files, what passes on to the commit), up to the deadline. */
  runBatch(batch: WorkBatch): Promise<BatchPart> {
    return this.sealed(() => this.batch(batch));
  }

  private async sealed<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } finally {
      await this.sealing.close();
    }
  }

  private async walk(paths: readonly string[]): Promise<PartialTree> {
    const items: PartialTree['items'] = [];
    const pending: Promise<void>[] = [];
    for (const path of [...paths].sort(compareNames)) {
      let st: SourceEntry;
      try {
        st = await this.opts.source.stat(path);
      } catch (err) {
        this.fail(path, err);
        continue;
      }
      const started = await this.start(path, st, await this.previous(path));
      pending.push(raisedLater(this.collect(items, path, started)));
    }
    await Promise.all(pending);
    await this.sealing.drain();
    // the directories above what was backed up, with their metadata
    const dirs: PartialTree['dirs'] = [];
    for (const path of [...new Set(items.flatMap((i) => ancestors(i.path)))].sort(compareNames)) {
      try {
        dirs.push({ path, meta: metadataOf(await this.opts.source.stat(path)) });
      } catch (err) {
        this.fail(path, err);
      }
    }
    return this.partialTree({ items, dirs });
  }

  private async batch(batch: WorkBatch): Promise<BatchPart> {
    const items: PartialTree['items'] = [];
    const dirs: PartialTree['dirs'] = [];
    const gone: string[] = [];
    const pending: Promise<unknown>[] = [];
    let started = 0;
    for (const item of batch.items) {
      // the first item is always started: every run makes progress
      if (started > 0 && this.pastDeadline()) break;
      const index = started++;
      if (item.kind === 'gone') gone.push(item.path);
      else if (item.kind === 'error') this.errors.push({ path: item.path, message: item.message });
      else if (item.kind === 'range') pending.push(raisedLater(this.range(item, index)));
      else if (item.entry.type === 'dir') {
        dirs.push({ path: item.path, meta: metadataOf(fromPlannedEntry(item.entry)) });
      } else {
        // only a kept file needs its parent's entry: the others are read (or have no content)
        const prev = item.keep ? await this.previous(item.path) : undefined;
        this.cuttable.set(item.path, { index, item });
        const entry = await this.start(item.path, fromPlannedEntry(item.entry), prev);
        pending.push(raisedLater(this.collect(items, item.path, entry)));
      }
    }
    await Promise.all(pending);
    await this.sealing.drain();
    const { counted } = batch;
    for (const k of ['files', 'dirs', 'symlinks', 'bytes'] as const) this.counts[k] += counted[k];
    const ranges = this.ranges;
    const partial = this.partialTree({ items, dirs, ranges, gone, base: batch.parentRoot });
    const rests = [...this.rests.entries()].sort(([a], [b]) => a - b).map(([, rest]) => rest);
    const left = [...rests, ...batch.items.slice(started)];
    if (left.length === 0) return { partial };
    return { partial, remaining: { ...emptyBatch(batch.parentRoot), items: left } };
  }

  private pastDeadline(): boolean {
    return this.opts.deadline !== undefined && Date.now() >= this.opts.deadline;
  }

  /**
   * Whether a file of a plan's batch whose turn to be read came only past the deadline (it
   * waited for one of the few streams) is left whole for the next run: else every file started
   * would still be read, from a slow source far past the deadline. The batch's first item is
   * always read: every run makes progress.
   */
  private leftUnread(index: number, item: BatchItem): boolean {
    if (index === 0 || !this.pastDeadline()) return false;
    this.rests.set(index, item);
    return true;
  }

  private async collect(items: PartialTree['items'], path: string, started: Started): Promise<void> {
    const entry = await started.entry;
    if (entry) items.push({ path, entry });
  }

  /** A range of a file, read and cut on its own: its chunks are the range's share of the file. */
  private async range(item: RangeItem, index: number): Promise<void> {
    const { offset, length } = item;
    await this.filesInFlight.acquire();
    try {
      const local = this.opts.source.localPath?.(item.path) !== undefined;
      const read = await this.streams[local ? 'local' : 'remote'].run(async () => {
        if (this.leftUnread(index, item)) return undefined;
        const changed = await this.changedSincePlan(item);
        if (changed === undefined) return undefined;
        const content = await this.readContent(item.path, item.entry.size, { offset, length }, true);
        return content && { content, changed };
      });
      if (read) this.rangeRead(item.path, item.entry, { offset, length }, read.content, index, read.changed);
    } finally {
      this.filesInFlight.release();
    }
  }

  /**
   * Whether a file read in parts changed since the plan listed it, stat'ed again before a part
   * past its first byte (the rest of a file the deadline cut, a plan's range of a large file):
   * the parts would join versions of it, so it is flagged as one read at once that changed while
   * read is. Undefined when the stat fails (the file is gone): its error is recorded as an
   * unreadable file's, and the commit leaves its other parts out.
   */
  private async changedSincePlan(item: RangeItem): Promise<boolean | undefined> {
    if (item.offset === 0) return false;
    try {
      const { entry } = item;
      return !sameVersion(await this.opts.source.stat(item.path), { ...entry, mtime: entry.mtimeNs });
    } catch (err) {
      return this.fail(item.path, err);
    }
  }

  /**
   * Records a range read; a range the deadline cut is recorded as far as it was read (a chunk
   * boundary) and its rest is left for the next run. The chunker keeps no state across a
   * boundary, so the rest, cut on its own, makes the chunks one read would have.
   */
  private rangeRead(
    path: string,
    planned: PlannedEntry,
    range: ByteRange,
    content: Content,
    index: number,
    changed = false,
  ): void {
    const { offset, length } = range;
    if (changed || (!content.cut && content.size !== length)) this.warn(path, FILE_CHANGED);
    if (content.cut) {
      const rest = length - content.size;
      this.rests.set(index, {
        kind: 'range',
        path,
        entry: planned,
        offset: offset + content.size,
        length: rest,
      });
    }
    this.counts.bytes += content.size;
    this.progress(path);
    const st = fromPlannedEntry(planned);
    const entry = this.newFileEntry(st, st.size, content.chunks);
    // a cut range covers what it read; a whole one its planned length, whatever the file did
    const covered = content.cut ? content.size : length;
    this.ranges.push({ path, offset, length: covered, read: content.size, entry });
  }

  private partialTree(parts: Pick<PartialTree, 'items' | 'dirs'> & Partial<PartialTree>): PartialTree {
    this.progress('', true);
    const { stats } = this.writer;
    return {
      v: 1,
      ranges: [],
      gone: [],
      ...parts,
      items: parts.items.sort((a, b) => compareNames(a.path, b.path)),
      counts: { ...this.counts, newBytes: stats.newRawBytes, storedBytes: stats.newSealedBytes },
      errors: this.errors,
    };
  }

  /** The entry at `path` in the parent snapshot, if any. */
  private async previous(path: string): Promise<TreeEntry | undefined> {
    if (!this.opts.parentRoot) return undefined;
    try {
      return (await this.parentTrees.resolve(this.opts.parentRoot, path)).entry;
    } catch {
      return undefined; // not in the parent, or the parent is unreadable: read the files again
    }
  }

  private progress(path: string, force = false): void {
    if (!this.opts.onProgress) return;
    const now = Date.now();
    if (!force && now - this.lastProgress < PROGRESS_INTERVAL_MS) return;
    this.lastProgress = now;
    this.opts.onProgress({
      ...this.counts,
      newBytes: this.writer.stats.newRawBytes,
      errors: this.errors.length,
      path,
    });
  }

  private fail(path: string, err: unknown): undefined {
    this.errors.push({ path, message: message(err) });
    return undefined;
  }

  private warn(path: string, msg: string): undefined {
    const w = { path, message: msg };
    this.warnings.push(w);
    this.opts.onWarning?.(w);
    return undefined;
  }

  private async parentEntries(parent: TreeEntry | undefined): Promise<Map<string, TreeEntry>> {
    if (parent?.type !== 'dir') return new Map();
    try {
      return new Map((await this.parentTrees.entries(parent.subtree)).map((e) => [e.name, e]));
    } catch {
      return new Map();
    }
  }

  /**
   * Starts backing up an entry; resolves once it is started: a file once it has a slot among
   * those in flight, a directory once walked with everything below started. Its `entry` settles
   * when all of it is read.
   */
  private async start(path: string, st: SourceEntry, prev: TreeEntry | undefined): Promise<Started> {
    if (st.error !== undefined) return { entry: this.fail(path, new Error(st.error)) };
    switch (st.type) {
      case 'dir':
        return this.dir(path, st, prev);
      case 'file':
        return this.file(path, st, prev);
      case 'symlink':
        this.counts.symlinks++;
        return { entry: { ...metadataOf(st), name: st.name, type: 'symlink', target: st.target ?? '' } };
      default:
        return { entry: this.warn(path, 'special file (device, FIFO or socket) skipped') };
    }
  }

  private async dir(path: string, st: SourceEntry, prev: TreeEntry | undefined): Promise<Started> {
    let children: SourceEntry[];
    try {
      children = await this.opts.source.list(path);
    } catch (err) {
      return { entry: this.fail(path, err) };
    }
    const previous = await this.parentEntries(prev);
    children.sort((a, b) => compareNames(a.name, b.name));
    this.prefetchParents(children, previous);
    // subdirectories are walked one at a time, each without waiting for the files below it:
    // what waits stays proportional to the files in flight and the depth
    const started: Started['entry'][] = [];
    for (const child of children) {
      const childPath = joinSnapshotPath(path, child.name);
      if (this.excluded(childPath, child.name)) continue;
      started.push(raisedLater((await this.start(childPath, child, previous.get(child.name))).entry));
    }
    return { entry: raisedLater(this.dirEntry(path, st, prev, previous, started)) };
  }

  /** A directory's entry, once its own entries are all backed up. */
  private async dirEntry(
    path: string,
    st: SourceEntry,
    prev: TreeEntry | undefined,
    previous: Map<string, TreeEntry>,
    started: readonly Started['entry'][],
  ): Promise<TreeEntry> {
    const entries = (await Promise.all(started)).filter((e): e is TreeEntry => e !== undefined);
    this.counts.dirs++;
    this.progress(path);
    // an unchanged directory keeps the parent's node: no encoding, no hashing, no lookup
    const subtree =
      prev?.type === 'dir' && sameEntries(entries, previous)
        ? prev.subtree
        : await saveDirectory(this.writer, entries);
    return { ...metadataOf(st), name: st.name, type: 'dir', subtree };
  }

  /**
   * Starts loading the parent's nodes of the subdirectories about to be walked: the walk visits
   * them one by one, and each load is a pack read plus a decompression off the main thread.
   */
  private prefetchParents(children: readonly SourceEntry[], previous: Map<string, TreeEntry>): void {
    let started = 0;
    for (const child of children) {
      if (started >= PARENT_PREFETCH) return;
      const prev = child.type === 'dir' ? previous.get(child.name) : undefined;
      if (prev?.type !== 'dir') continue;
      this.parentTrees.entries(prev.subtree).catch(() => undefined);
      started++;
    }
  }

  private fileEntry(st: SourceEntry, size: number, chunks: string[]): FileEntry {
    this.counts.files++;
    this.counts.bytes += size;
    return this.newFileEntry(st, size, chunks);
  }

  private newFileEntry(st: SourceEntry, size: number, chunks: string[]): FileEntry {
    const { device, inode, links } = st;
    return { ...metadataOf(st), name: st.name, type: 'file', device, inode, links, size, chunks };
  }

  /**
   * A file unchanged since the parent snapshot keeps its chunk list without being read; another
   * is read once it has a slot among the files in flight.
   */
  private async file(path: string, st: SourceEntry, prev: TreeEntry | undefined): Promise<Started> {
    if (keepsContent(st, prev, (id) => this.writer.has(id)))
      return { entry: this.fileEntry(st, st.size, prev.chunks) };
    await this.filesInFlight.acquire();
    const local = this.opts.source.localPath?.(path);
    const read =
      local !== undefined && this.sealing.takesFile(st.size)
        ? this.fileInThread(path, local, st)
        : this.streamFile(path, st, local !== undefined);
    return { entry: read.finally(() => this.filesInFlight.release()) };
  }

  /** A small local file: a sealing thread reads, cuts and seals it, its bytes never come here. */
  private async fileInThread(path: string, local: string, st: SourceEntry): Promise<TreeEntry | undefined> {
    const read = await this.sealing.saveFile(local, st.size);
    if ('tooLarge' in read) return this.streamFile(path, st, true); // it grew since the walk
    if ('error' in read) return this.fail(path, Object.assign(new Error(read.error.message), read.error));
    return this.fileRead(path, st, read);
  }

  /**
   * A file read here in pieces and cut here; its chunks are sealed in the threads. A plan's file
   * the deadline cuts becomes a range of its first bytes, joined by the commit with its rest's.
   */
  private streamFile(path: string, st: SourceEntry, local: boolean): Promise<TreeEntry | undefined> {
    const planned = this.cuttable.get(path);
    return this.streams[local ? 'local' : 'remote'].run(async () => {
      if (planned && this.leftUnread(planned.index, planned.item)) return undefined;
      const content = await this.readContent(path, st.size, undefined, planned !== undefined);
      if (!content?.cut) return content && this.fileRead(path, st, content);
      this.rangeRead(path, toPlannedEntry(st), { offset: 0, length: st.size }, content, planned!.index);
      return undefined;
    });
  }

  private fileRead(path: string, st: SourceEntry, content: Content): FileEntry {
    if (content.size !== st.size) this.warn(path, FILE_CHANGED);
    this.counts.filesRead++;
    this.progress(path);
    return this.fileEntry(st, content.size, content.chunks);
  }

  /**
   * Reads and cuts a file's content (or a range of it); `cuttable`: past the deadline, it stops at
   * a chunk boundary once it has read a chunk, short of the end.
   */
  private async readContent(
    path: string,
    expectedSize: number,
    range?: ByteRange,
    cuttable = false,
  ): Promise<Content | undefined> {
    const ids: string[] = [];
    let size = 0;
    const { repo } = this.writer;
    const end = range?.length ?? expectedSize;
    const chunks = chunkStream(repo.chunker, this.opts.source.read(path, expectedSize, range));
    try {
      for (;;) {
        if (cuttable && size > 0 && size < end && this.pastDeadline())
          return { size, chunks: ids, cut: true };
        let next: IteratorResult<Buffer>;
        try {
          next = await chunks.next();
        } catch (err) {
          return this.fail(path, err); // a failed read only skips the file
        }
        if (next.done) return { size, chunks: ids };
        const id = repo.mac.blobId(next.value);
        ids.push(id.toString('hex'));
        size += next.value.length;
        // a failed save (the store's or a worker's) aborts the backup
        await this.sealing.save(BlobType.Data, id, next.value);
      }
    } finally {
      await chunks.return(undefined); // closes the file when a save failed
    }
  }
}
