import { hostname as osHostname } from 'node:os';
import { chunkStream } from '../chunker/fastcdc.js';
import type { BackupSource, SourceEntry } from '../connectors/backup-source.js';
import { FsSource } from '../connectors/fs/fs-source.js';
import { Semaphore } from '../concurrency.js';
import { KlosetError, errnoCode } from '../errors.js';
import { BlobType } from '../format/blob.js';
import { RepositoryWriter } from '../repository/repository-writer.js';
import type { Repository } from '../repository/repository.js';
import { who } from '../repository/key-slots.js';
import { loadSnapshots } from '../snapshot/snapshot-list.js';
import {
  type SnapshotBody,
  type SnapshotError,
  type SnapshotRecord,
  type SnapshotSummary,
  encodeSnapshot,
} from '../snapshot/snapshot-record.js';
import {
  NODE_MAX_ENTRIES,
  type FileEntry,
  type TreeEntry,
  compareNames,
  encodeNode,
} from '../snapshot/tree-node.js';
import { TreeReader, joinSnapshotPath, rootEntry } from '../snapshot/tree-reader.js';
import { excludeMatcher } from './exclude.js';
import { type SourceNode, normalizeSources, sourceTrie } from './source-set.js';

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

export interface BackupOptions {
  tags?: string[];
  hostname?: string;
  /** glob patterns; see excludeMatcher */
  excludes?: string[];
  dryRun?: boolean;
  /** parent snapshot ID; default: the latest one with the same sources and hostname; null: none */
  parent?: string | null;
  onProgress?: (p: BackupProgress) => void;
  onWarning?: (w: SnapshotError) => void;
  /** where the content comes from; the local file system by default */
  source?: BackupSource;
}

export interface BackupResult {
  /** undefined on a dry run */
  readonly snapshot?: SnapshotRecord;
  readonly summary: SnapshotSummary;
  readonly errors: readonly SnapshotError[];
  readonly warnings: readonly SnapshotError[];
}

/** Files read at once: enough to keep the disk and both cores busy. */
const FILE_CONCURRENCY = 4;
/** Chunks being compressed and sealed at once (bounds memory to this × max chunk size). */
const CHUNK_CONCURRENCY = 8;
const PROGRESS_INTERVAL_MS = 100;

function sameSources(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

function message(err: unknown): string {
  const code = errnoCode(err);
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'vanished during the backup';
  return err instanceof Error ? err.message : String(err);
}

/** One backup: walks the sources, stores new content and trees, then commits one snapshot. */
class BackupRun {
  private readonly writer: RepositoryWriter;
  private readonly source: BackupSource;
  private readonly excluded: (path: string, name: string) => boolean;
  private readonly files = new Semaphore(FILE_CONCURRENCY);
  private readonly chunks = new Semaphore(CHUNK_CONCURRENCY);
  private readonly parentTrees: TreeReader;
  readonly errors: SnapshotError[] = [];
  readonly warnings: SnapshotError[] = [];
  readonly counts = { files: 0, dirs: 0, symlinks: 0, bytes: 0, filesRead: 0 };
  private lastProgress = 0;

  constructor(
    private readonly repo: Repository,
    private readonly opts: BackupOptions,
  ) {
    this.writer = new RepositoryWriter(repo, { dryRun: opts.dryRun });
    this.source = opts.source ?? new FsSource();
    this.excluded = excludeMatcher(opts.excludes ?? []);
    this.parentTrees = new TreeReader(repo);
  }

  get stats() {
    return this.writer.stats;
  }

  async run(sources: string[], parentRoot: string | undefined): Promise<string> {
    const root = await this.synthesized(
      '/',
      sourceTrie(sources),
      parentRoot ? rootEntry(parentRoot) : undefined,
    );
    if (!root || root.type !== 'dir') throw new KlosetError('IO', 'nothing could be backed up');
    return root.subtree;
  }

  commit(snapshotId: string): Promise<string | undefined> {
    return this.writer.commit({ snapshots: [snapshotId] });
  }

  async saveSnapshot(body: SnapshotBody): Promise<string> {
    return (await this.writer.saveBlob(BlobType.Snapshot, encodeSnapshot(body))).id.toString('hex');
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
      return new Map(); // an unreadable parent only costs reading the files again
    }
  }

  /** A directory on the way from `/` to a source: its metadata, and only the source children. */
  private async synthesized(
    path: string,
    node: SourceNode,
    prev: TreeEntry | undefined,
  ): Promise<TreeEntry | undefined> {
    if (node.source) return this.entry(path, await this.source.stat(path), prev);
    const previous = await this.parentEntries(prev);
    const entries: TreeEntry[] = [];
    for (const name of [...node.children.keys()].sort(compareNames)) {
      const child = await this.synthesized(
        joinSnapshotPath(path, name),
        node.children.get(name)!,
        previous.get(name),
      );
      if (child) entries.push(child);
    }
    const st = await this.source.stat(path);
    return { ...this.meta(st), type: 'dir', subtree: await this.saveTree(entries) };
  }

  private meta(st: SourceEntry) {
    return {
      name: st.name,
      mode: st.mode,
      uid: st.uid,
      gid: st.gid,
      ...(st.user !== undefined && { user: st.user }),
      ...(st.group !== undefined && { group: st.group }),
      mtime: st.mtimeNs.toString(),
    };
  }

  private async entry(
    path: string,
    st: SourceEntry,
    prev: TreeEntry | undefined,
  ): Promise<TreeEntry | undefined> {
    switch (st.type) {
      case 'dir':
        return this.dir(path, st, prev);
      case 'file':
        return this.files.run(() => this.file(path, st, prev));
      case 'symlink':
        this.counts.symlinks++;
        return { ...this.meta(st), type: 'symlink', target: st.target ?? '' };
      default:
        return this.warn(path, 'special file (device, FIFO or socket) skipped');
    }
  }

  private async dir(
    path: string,
    st: SourceEntry,
    prev: TreeEntry | undefined,
  ): Promise<TreeEntry | undefined> {
    let children: SourceEntry[];
    try {
      children = await this.source.list(path);
    } catch (err) {
      return this.fail(path, err);
    }
    const previous = await this.parentEntries(prev);
    children.sort((a, b) => compareNames(a.name, b.name));
    // files start at once (bounded by the semaphore); subdirectories are walked one at a time,
    // so pending work stays proportional to the depth, not to the size of the tree
    const results: (Promise<TreeEntry | undefined> | TreeEntry | undefined)[] = [];
    for (const child of children) {
      const childPath = joinSnapshotPath(path, child.name);
      if (this.excluded(childPath, child.name)) continue;
      const task = this.entry(childPath, child, previous.get(child.name));
      results.push(child.type === 'dir' ? await task : task);
    }
    const entries = (await Promise.all(results)).filter((e): e is TreeEntry => e !== undefined);
    this.counts.dirs++;
    this.progress(path);
    return { ...this.meta(st), type: 'dir', subtree: await this.saveTree(entries) };
  }

  private unchanged(st: SourceEntry, prev: TreeEntry | undefined): prev is FileEntry {
    return (
      prev?.type === 'file' &&
      prev.size === st.size &&
      prev.mtime === st.mtimeNs.toString() &&
      prev.inode === st.inode &&
      prev.device === st.device &&
      prev.chunks.every((c) => this.writer.has(Buffer.from(c, 'hex')))
    );
  }

  private async file(
    path: string,
    st: SourceEntry,
    prev: TreeEntry | undefined,
  ): Promise<TreeEntry | undefined> {
    const base = {
      ...this.meta(st),
      type: 'file' as const,
      device: st.device,
      inode: st.inode,
      links: st.links,
    };
    let entry: FileEntry;
    if (this.unchanged(st, prev)) {
      entry = { ...base, size: st.size, chunks: prev.chunks };
    } else {
      const content = await this.readContent(path, st.size);
      if (!content) return undefined;
      if (content.size !== st.size) this.warn(path, 'file changed while it was read');
      entry = { ...base, size: content.size, chunks: content.chunks };
      this.counts.filesRead++;
    }
    this.counts.files++;
    this.counts.bytes += entry.size;
    this.progress(path);
    return entry;
  }

  private async readContent(
    path: string,
    expectedSize: number,
  ): Promise<{ size: number; chunks: string[] } | undefined> {
    const chunks: string[] = [];
    const saves: Promise<unknown>[] = [];
    let size = 0;
    let readError: unknown;
    try {
      for await (const chunk of chunkStream(this.repo.chunker, this.source.read(path, expectedSize))) {
        const id = this.repo.mac.blobId(chunk);
        chunks.push(id.toString('hex'));
        size += chunk.length;
        await this.chunks.acquire();
        saves.push(this.writer.saveBlob(BlobType.Data, chunk, id).finally(() => this.chunks.release()));
      }
    } catch (err) {
      readError = err;
    }
    // a failed save is a store failure and aborts the backup; a failed read only skips the file
    await Promise.all(saves);
    if (readError !== undefined) return this.fail(path, readError);
    return { size, chunks };
  }

  private async saveTree(entries: TreeEntry[]): Promise<string> {
    const save = async (body: Buffer) => (await this.writer.saveBlob(BlobType.Tree, body)).id.toString('hex');
    if (entries.length <= NODE_MAX_ENTRIES) return save(encodeNode({ v: 1, entries }));
    const parts: string[] = [];
    for (let i = 0; i < entries.length; i += NODE_MAX_ENTRIES) {
      parts.push(await save(encodeNode({ v: 1, entries: entries.slice(i, i + NODE_MAX_ENTRIES) })));
    }
    return save(encodeNode({ v: 1, parts }));
  }
}

async function checkSources(sources: readonly string[], source: BackupSource): Promise<void> {
  if (sources.length === 0)
    throw new KlosetError('INVALID_ARGUMENT', 'nothing to back up: give at least one path');
  for (const s of sources) {
    try {
      await source.stat(s);
    } catch (err) {
      throw new KlosetError('INVALID_ARGUMENT', `cannot back up ${s}: ${message(err)}`);
    }
  }
}

export async function backup(
  repo: Repository,
  paths: readonly string[],
  opts: BackupOptions = {},
): Promise<BackupResult> {
  const started = Date.now();
  const sources = normalizeSources(paths);
  const run = new BackupRun(repo, opts);
  await checkSources(sources, opts.source ?? new FsSource());
  const host = opts.hostname ?? osHostname();
  let parent: SnapshotRecord | undefined;
  if (opts.parent !== null) {
    const all = await loadSnapshots(repo);
    parent = opts.parent
      ? all.find((s) => s.id === opts.parent)
      : all.find((s) => s.hostname === host && sameSources(s.sources, sources));
  }
  const root = await run.run(sources, parent?.root);
  const summary: SnapshotSummary = {
    ...run.counts,
    newBytes: run.stats.newRawBytes,
    storedBytes: run.stats.newSealedBytes,
    durationMs: Date.now() - started,
  };
  const body: SnapshotBody = {
    v: 1,
    time: new Date().toISOString(),
    hostname: host,
    username: who().username,
    tags: [...new Set(opts.tags ?? [])].sort(),
    sources,
    root,
    ...(parent && { parent: parent.id }),
    summary,
    errors: run.errors,
  };
  const id = await run.saveSnapshot(body);
  await run.commit(id);
  return {
    snapshot: opts.dryRun ? undefined : { id, ...body },
    summary,
    errors: run.errors,
    warnings: run.warnings,
  };
}
