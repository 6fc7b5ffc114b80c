import { Semaphore } from '../core/concurrency.js';
import { FsDestination } from '../connectors/fs/fs-destination.js';
import {
  type ExistingEntry,
  type FileContent,
  type RestoreDestination,
  childPath,
} from '../core/restore-destination.js';
import { KlosetError, errorText } from '../core/errors.js';
import type { Repository } from '../repository/repository.js';
import { fileContent } from '../snapshot/file-content.js';
import type { SnapshotError, SnapshotRecord } from '../snapshot/snapshot-record.js';
import { type DirEntry, type FileEntry, type TreeEntry, isSafeName } from '../core/tree-node.js';
import { TreeReader } from '../snapshot/tree-reader.js';
import { requireTargetOutsideStore } from './target-outside-store.js';
import { FileBatches, MAX_BATCHED_FILE } from './file-batches.js';

export type OverwritePolicy = 'never' | 'if-newer' | 'always';

/**
 * A place in the restore's walk, in tree order: the index of an entry in its directory's list,
 * preceded by the index of each directory above it in theirs. Trees never change, so a cursor
 * stays true between two runs over the same snapshot and path.
 */
export type RestoreCursor = readonly number[];

export interface RestoreProgress {
  readonly files: number;
  readonly bytes: number;
  readonly path: string;
}

export interface RestoreOptions {
  /** target directory, created when missing; or give `destination` */
  to?: string;
  /** where to write instead of a local directory (an S3 prefix, an SFTP directory) */
  destination?: RestoreDestination;
  /** what to do with files that already exist there (default `never`) */
  overwrite?: OverwritePolicy;
  onProgress?: (p: RestoreProgress) => void;
  /**
   * Asked before each entry is started (never before the first of a run, so every run moves on):
   * true stops the walk there; what was started is finished, and the result's `resumeAt` says
   * where a later run continues.
   */
  stopBefore?: () => boolean;
  /** continues a run that stopped: its `resumeAt` (the same snapshot, path and destination) */
  resumeAt?: RestoreCursor;
  /**
   * Existing entries the policy keeps that differ from the snapshot's (another type, size or
   * modification time to the second) are also reported in `errors`, for callers to whom a file
   * not restored is a failure. Identical ones, such as a resumed restore's own work, are not.
   */
  reportDiffering?: boolean;
}

export interface RestoreResult {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  /** existing files left alone by the overwrite policy */
  skipped: number;
  errors: SnapshotError[];
  /** where to continue (`resumeAt`) when `stopBefore` stopped the walk; absent once all is restored */
  resumeAt?: RestoreCursor;
}

const FILE_CONCURRENCY = 4;
const PROGRESS_INTERVAL_MS = 100;

const mtimeMs = (ns: string): number => Number(BigInt(ns) / 1_000_000n);
const second = (ms: number): number => Math.floor(ms / 1000);

/** Whether what is at a path is the entry as a restore writes it (SFTP keeps whole seconds). */
function sameAsEntry(existing: ExistingEntry, entry: TreeEntry): boolean {
  return (
    existing.type === entry.type &&
    second(existing.mtimeMs) === second(mtimeMs(entry.mtime)) &&
    (entry.type !== 'file' || existing.size === entry.size)
  );
}

/** A file entry's content from the store, its length checked against the entry. */
function contentOf(repo: Repository, entry: FileEntry): FileContent {
  return {
    size: entry.size,
    async *chunks() {
      let size = 0;
      for await (const chunk of fileContent(repo, entry)) {
        size += chunk.length;
        yield chunk;
      }
      if (size !== entry.size)
        throw new KlosetError('CORRUPT', `content is ${size} bytes, expected ${entry.size}`);
    },
  };
}

/** What a dispatched entry still owes: `done` settles (never rejects) once it is written. */
interface Dispatched {
  readonly done: Promise<unknown>;
}

const settled: Dispatched = { done: Promise.resolve() };

/**
 * Walks a tree and writes it through a destination. The walk only dispatches: it goes through
 * the tree in order, creating directories and handing files over (to writing threads for new
 * files in a local directory, a few at a time through the destination otherwise), and moves on
 * without waiting for them; a directory's metadata is applied once everything below it is
 * written (their writes change its mtime). Hard links are links where the destination has them.
 */
class RestoreRun {
  readonly result: RestoreResult = { files: 0, dirs: 0, symlinks: 0, bytes: 0, skipped: 0, errors: [] };
  private readonly trees: TreeReader;
  private readonly slots = new Semaphore(FILE_CONCURRENCY);
  /** first path of each hard-linked inode, and whether its content was written there */
  private readonly hardLinks = new Map<string, { path: string; written: Promise<boolean> }>();
  private lastProgress = 0;
  /** the index of the entry being walked at each depth */
  private readonly position: number[] = [];
  /** entries started by this run: the first is started whatever stopBefore says */
  private started = 0;

  constructor(
    private readonly repo: Repository,
    private readonly dest: RestoreDestination,
    private readonly opts: RestoreOptions,
    /** new files of a local destination go here; others through the destination */
    private readonly batches: FileBatches | undefined,
  ) {
    this.trees = new TreeReader(repo);
  }

  private fail(path: string, err: unknown): void {
    this.result.errors.push({
      path: this.dest.display(path),
      message: errorText(err),
    });
  }

  private progress(path: string): void {
    const now = Date.now();
    if (!this.opts.onProgress || now - this.lastProgress < PROGRESS_INTERVAL_MS) return;
    this.lastProgress = now;
    this.opts.onProgress({
      files: this.result.files,
      bytes: this.result.bytes,
      path: this.dest.display(path),
    });
  }

  /** `task`, its failure recorded against `path`: settles true once it succeeded. */
  private settle(path: string, task: Promise<void>): Promise<boolean> {
    return task.then(
      () => true,
      (err: unknown) => {
        this.fail(path, err);
        return false;
      },
    );
  }

  /**
   * Dispatches entries (a directory's, in order) into `dir` (which exists and is a real
   * directory), from `resume` on when continuing a run: its first index is the entry to start
   * from, or, with more indexes, the directory to continue inside. `fresh`: this run created
   * `dir`, so nothing can be in the way and no existence checks are made (a restore into a new
   * directory costs one create per file, not three). Stops at once when stopBefore says so.
   */
  async walk(
    entries: readonly TreeEntry[],
    dir: string,
    fresh: boolean,
    resume?: RestoreCursor,
  ): Promise<Dispatched> {
    const pending: Promise<unknown>[] = [];
    for (let i = resume?.[0] ?? 0; i < entries.length && !this.result.resumeAt; i++) {
      const inside = i === resume?.[0] && resume.length > 1 ? resume.slice(1) : undefined;
      if (!inside && this.started > 0 && this.opts.stopBefore?.()) {
        this.result.resumeAt = [...this.position, i];
        break;
      }
      if (!inside) this.started++;
      this.position.push(i);
      try {
        pending.push((await this.named(entries[i]!, dir, fresh, inside)).done);
      } finally {
        this.position.pop();
      }
    }
    return { done: Promise.all(pending) };
  }

  /** An entry whose path must stay below the destination, whatever names a (crafted) tree holds. */
  private async named(
    entry: TreeEntry,
    dir: string,
    fresh: boolean,
    inside?: RestoreCursor,
  ): Promise<Dispatched> {
    if (isSafeName(entry.name)) return this.entry(entry, childPath(dir, entry.name), fresh, inside);
    this.fail(
      childPath(dir, '?'),
      new KlosetError('CORRUPT', `snapshot entry ${JSON.stringify(entry.name)} would escape the destination`),
    );
    return settled;
  }

  /** `inside`: a directory a previous run started, continued from that cursor. */
  async entry(entry: TreeEntry, path: string, fresh: boolean, inside?: RestoreCursor): Promise<Dispatched> {
    try {
      switch (entry.type) {
        case 'dir':
          return await this.dir(entry, path, fresh, inside);
        case 'symlink':
          return { done: this.settle(path, this.symlink(entry, path, fresh)) };
        case 'file':
          return await this.file(entry, path, fresh);
      }
    } catch (err) {
      // the writing threads failed: the restore stops rather than fail every later file
      if (err === this.batches?.failure) throw err;
      this.fail(path, err);
      return settled;
    }
  }

  private async dir(
    entry: DirEntry,
    path: string,
    fresh: boolean,
    inside: RestoreCursor | undefined,
  ): Promise<Dispatched> {
    const existing = fresh ? undefined : await this.dest.stat(path);
    if (existing && existing.type !== 'dir') throw new Error('exists and is not a directory; not replaced');
    if (!existing) await this.dest.mkdir(path);
    const below = await this.walk(await this.trees.entries(entry.subtree), path, !existing, inside);
    // stopped inside: the run that continues finishes the directory
    if (this.result.resumeAt) return below;
    const finished = below.done.then(async () => {
      await this.dest.finishDir(path, entry);
      this.result.dirs++;
    });
    return { done: this.settle(path, finished) };
  }

  /** Whether something is at `path` and whether the policy lets it be replaced. */
  private async mayReplace(
    entry: TreeEntry,
    path: string,
    fresh: boolean,
  ): Promise<{ write: boolean; replace: boolean }> {
    const existing = fresh ? undefined : await this.dest.stat(path);
    if (!existing) return { write: true, replace: false };
    if (existing.type === 'dir') throw new Error('exists and is a directory; not replaced');
    const policy = this.opts.overwrite ?? 'never';
    const write = policy === 'always' || (policy === 'if-newer' && mtimeMs(entry.mtime) > existing.mtimeMs);
    if (write) return { write, replace: true };
    this.result.skipped++;
    if (this.opts.reportDiffering && !sameAsEntry(existing, entry))
      throw new Error(`exists and differs from the snapshot's; not replaced (overwrite: ${policy})`);
    return { write, replace: true };
  }

  private async symlink(
    entry: Extract<TreeEntry, { type: 'symlink' }>,
    path: string,
    fresh: boolean,
  ): Promise<void> {
    const { write, replace } = await this.mayReplace(entry, path, fresh);
    if (!write) return;
    await this.dest.symlink(path, entry, replace);
    this.result.symlinks++;
  }

  private async file(entry: FileEntry, path: string, fresh: boolean): Promise<Dispatched> {
    const { write, replace } = await this.mayReplace(entry, path, fresh);
    if (!write) return settled;
    const linkKey =
      this.dest.link && entry.links && entry.links > 1 ? `${entry.device}:${entry.inode}` : undefined;
    const first = linkKey && this.hardLinks.get(linkKey);
    if (first) return { done: this.settle(path, this.linkOrWrite(first, entry, path, replace)) };
    const written = this.settle(path, (await this.writeContent(entry, path, replace)).written);
    if (linkKey) this.hardLinks.set(linkKey, { path, written });
    return { done: written };
  }

  /** A later name of a hard-linked file: a link once the first name is written, else a copy. */
  private async linkOrWrite(
    first: { path: string; written: Promise<boolean> },
    entry: FileEntry,
    path: string,
    replace: boolean,
  ): Promise<void> {
    if (!(await first.written)) return await (await this.writeContent(entry, path, replace)).written;
    await this.dest.link!(first.path, path, replace);
    this.result.files++;
  }

  /** Starts writing a file; resolves once it is under way (the walk's back-pressure). */
  private async writeContent(
    entry: FileEntry,
    path: string,
    replace: boolean,
  ): Promise<{ written: Promise<void> }> {
    const counted = (): void => {
      this.result.files++;
      this.result.bytes += entry.size;
      this.progress(path);
    };
    if (this.batches && !replace && entry.size <= MAX_BATCHED_FILE) {
      const file = { ...this.dest.localFile!(path, entry), size: entry.size };
      const { written } = await this.batches.add(file, entry.chunks);
      return { written: written.then(counted) };
    }
    await this.slots.acquire();
    const written = this.dest
      .writeFile(path, entry, contentOf(this.repo, entry), replace)
      .then(counted)
      .finally(() => this.slots.release());
    return { written };
  }
}

/** Restores a snapshot (or one path of it) to a destination: a local directory by default. */
export async function restore(
  repo: Repository,
  snapshot: SnapshotRecord,
  path: string | undefined,
  opts: RestoreOptions,
): Promise<RestoreResult> {
  const dest = opts.destination ?? new FsDestination(requiredTarget(opts.to));
  await requireTargetOutsideStore(repo.backend, dest);
  const { empty } = await dest.prepare();
  const batches = dest.localFile ? new FileBatches(repo) : undefined;
  const run = new RestoreRun(repo, dest, opts, batches);
  try {
    const trees = new TreeReader(repo);
    const { entry, path: at } = await trees.resolve(snapshot.root, path ?? '/');
    const top = at === '/' && entry.type === 'dir' ? await trees.entries(entry.subtree) : [entry];
    const dispatched = await run.walk(top, '', empty, opts.resumeAt);
    // files queued from now on (a hard link whose first name failed) are sent at once
    await batches?.drain();
    await dispatched.done;
  } finally {
    await batches?.close();
  }
  return run.result;
}

function requiredTarget(to: string | undefined): string {
  if (to === undefined)
    throw new KlosetError('INVALID_ARGUMENT', 'restore needs a target directory or destination');
  return to;
}
