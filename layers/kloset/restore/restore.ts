import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fchownSync, futimesSync, openSync, writeSync } from 'node:fs';
import {
  chmod,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  open,
  readdir,
  rename,
  symlink,
  unlink,
  utimes,
} from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Semaphore } from '../concurrency.js';
import { KlosetError, errnoCode } from '../errors.js';
import type { Repository } from '../repository/repository.js';
import { fileContent } from '../snapshot/file-content.js';
import type { SnapshotError, SnapshotRecord } from '../snapshot/snapshot-record.js';
import type { FileEntry, TreeEntry } from '../snapshot/tree-node.js';
import { TreeReader } from '../snapshot/tree-reader.js';

export type OverwritePolicy = 'never' | 'if-newer' | 'always';

export interface RestoreProgress {
  readonly files: number;
  readonly bytes: number;
  readonly path: string;
}

export interface RestoreOptions {
  /** target directory; created when missing */
  to: string;
  /** what to do with files that already exist there (default `never`) */
  overwrite?: OverwritePolicy;
  onProgress?: (p: RestoreProgress) => void;
}

export interface RestoreResult {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  /** existing files left alone by the overwrite policy */
  skipped: number;
  errors: SnapshotError[];
}

const FILE_CONCURRENCY = 4;
/** Files up to this size are written in one synchronous call sequence (see writeSmall). */
const SYNC_WRITE_MAX = 1024 * 1024;

function checkSize(entry: FileEntry, size: number): void {
  if (size !== entry.size)
    throw new KlosetError('CORRUPT', `content is ${size} bytes, expected ${entry.size}`);
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
const PROGRESS_INTERVAL_MS = 100;

function toDate(ns: string): Date {
  return new Date(Number(BigInt(ns) / 1_000_000n));
}

function nsOf(ns: string): number {
  return Number(BigInt(ns)) / 1e9;
}

class RestoreRun {
  readonly result: RestoreResult = { files: 0, dirs: 0, symlinks: 0, bytes: 0, skipped: 0, errors: [] };
  private readonly trees: TreeReader;
  private readonly slots = new Semaphore(FILE_CONCURRENCY);
  private readonly hardLinks = new Map<string, string>();
  private readonly asRoot = process.getuid?.() === 0;
  private lastProgress = 0;

  constructor(
    private readonly repo: Repository,
    private readonly target: string,
    private readonly opts: RestoreOptions,
  ) {
    this.trees = new TreeReader(repo);
  }

  /** Every destination must stay below the target, whatever names a (crafted) tree holds. */
  private dest(dir: string, name: string): string {
    const p = join(dir, name);
    if (!p.startsWith(this.target + sep) || dirname(p) !== dir) {
      throw new KlosetError(
        'CORRUPT',
        `snapshot entry ${JSON.stringify(name)} would escape the target directory`,
      );
    }
    return p;
  }

  private fail(path: string, err: unknown): void {
    this.result.errors.push({ path, message: err instanceof Error ? err.message : String(err) });
  }

  private progress(path: string): void {
    const now = Date.now();
    if (!this.opts.onProgress || now - this.lastProgress < PROGRESS_INTERVAL_MS) return;
    this.lastProgress = now;
    this.opts.onProgress({ files: this.result.files, bytes: this.result.bytes, path });
  }

  /**
   * Restores the children of a directory node into `dir` (which exists and is a real directory).
   * `fresh`: this run created `dir`, so nothing can be in the way and no existence checks are
   * made (a restore into a new directory costs one create per file, not three).
   */
  async children(treeId: string, dir: string, fresh: boolean): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const entry of await this.trees.entries(treeId)) {
      let dest: string;
      try {
        dest = this.dest(dir, entry.name);
      } catch (err) {
        this.fail(join(dir, '?'), err);
        continue;
      }
      const task = this.entry(entry, dest, fresh);
      if (entry.type === 'dir') await task;
      else pending.push(task);
    }
    await Promise.all(pending);
  }

  async entry(entry: TreeEntry, dest: string, fresh: boolean): Promise<void> {
    try {
      switch (entry.type) {
        case 'dir':
          return await this.dir(entry, dest, fresh);
        case 'symlink':
          return await this.symlink(entry, dest, fresh);
        case 'file':
          return await this.slots.run(() => this.file(entry, dest, fresh));
      }
    } catch (err) {
      this.fail(dest, err);
    }
  }

  private async existing(dest: string) {
    try {
      return await lstat(dest);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  private async dir(entry: Extract<TreeEntry, { type: 'dir' }>, dest: string, fresh: boolean): Promise<void> {
    const st = fresh ? undefined : await this.existing(dest);
    if (st && !st.isDirectory()) throw new Error('exists and is not a directory; not replaced');
    if (!st) await mkdir(dest, { mode: 0o700 });
    await this.children(entry.subtree, dest, !st);
    if (this.needsChown(entry)) await lchown(dest, entry.uid, entry.gid).catch(() => undefined);
    await chmod(dest, entry.mode);
    await utimes(dest, nsOf(entry.mtime), nsOf(entry.mtime));
    this.result.dirs++;
  }

  /** Decides whether an existing path is replaced; false: leave it. */
  private async mayReplace(entry: TreeEntry, dest: string): Promise<{ replace: boolean; exists: boolean }> {
    const st = await this.existing(dest);
    if (!st) return { replace: true, exists: false };
    if (st.isDirectory()) throw new Error('exists and is a directory; not replaced');
    const policy = this.opts.overwrite ?? 'never';
    const replace =
      policy === 'always' || (policy === 'if-newer' && toDate(entry.mtime).getTime() > st.mtimeMs);
    if (!replace) this.result.skipped++;
    return { replace, exists: true };
  }

  /** As root, owners are restored; files are created owned by root, so only others need a chown. */
  private needsChown(entry: TreeEntry): boolean {
    return this.asRoot && (entry.uid !== 0 || entry.gid !== 0);
  }

  private async symlink(
    entry: Extract<TreeEntry, { type: 'symlink' }>,
    dest: string,
    fresh: boolean,
  ): Promise<void> {
    const { replace, exists } = fresh ? { replace: true, exists: false } : await this.mayReplace(entry, dest);
    if (!replace) return;
    const at = exists ? `${dest}.kloud-${randomBytes(4).toString('hex')}` : dest;
    await symlink(entry.target, at);
    if (at !== dest) await rename(at, dest);
    if (this.needsChown(entry)) await lchown(dest, entry.uid, entry.gid).catch(() => undefined);
    await lutimes(dest, nsOf(entry.mtime), nsOf(entry.mtime)).catch(() => undefined);
    this.result.symlinks++;
  }

  /**
   * Small files are written with synchronous calls: five syscalls on the main thread cost less
   * than five thread-pool round trips, whose wake-ups dominated restore time (strace: 1.7 M
   * futex calls for 46k files).
   */
  private writeSmall(entry: FileEntry, path: string, content: Buffer): void {
    checkSize(entry, content.length);
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, content);
      if (this.needsChown(entry)) fchownSync(fd, entry.uid, entry.gid);
      fchmodSync(fd, entry.mode);
      futimesSync(fd, nsOf(entry.mtime), nsOf(entry.mtime));
    } finally {
      closeSync(fd);
    }
  }

  private async writeLarge(entry: FileEntry, path: string): Promise<void> {
    const fh = await open(path, 'wx', 0o600);
    try {
      let size = 0;
      for await (const chunk of fileContent(this.repo, entry)) {
        await fh.write(chunk);
        size += chunk.length;
      }
      checkSize(entry, size);
      if (this.needsChown(entry)) await fh.chown(entry.uid, entry.gid);
      await fh.chmod(entry.mode);
      await fh.utimes(nsOf(entry.mtime), nsOf(entry.mtime));
    } finally {
      await fh.close();
    }
  }

  private async file(entry: FileEntry, dest: string, fresh: boolean): Promise<void> {
    const { replace, exists } = fresh ? { replace: true, exists: false } : await this.mayReplace(entry, dest);
    if (!replace) return;
    const linkKey = entry.links && entry.links > 1 ? `${entry.device}:${entry.inode}` : undefined;
    const first = linkKey && this.hardLinks.get(linkKey);
    if (first) {
      if (exists) await unlink(dest);
      await link(first, dest);
      this.result.files++;
      return;
    }
    // a file that exists is replaced through a temporary file renamed over it, so a failed
    // restore leaves the old file intact; a new file is created exclusively under its name
    const at = exists ? `${dest}.kloud-${randomBytes(4).toString('hex')}` : dest;
    try {
      if (entry.size <= SYNC_WRITE_MAX)
        this.writeSmall(entry, at, await collect(fileContent(this.repo, entry)));
      else await this.writeLarge(entry, at);
      if (at !== dest) await rename(at, dest);
    } catch (err) {
      await unlink(at).catch(() => undefined);
      throw err;
    }
    if (linkKey) this.hardLinks.set(linkKey, dest);
    this.result.files++;
    this.result.bytes += entry.size;
    this.progress(dest);
  }
}

/** Restores a snapshot (or one path of it) below `opts.to`. */
export async function restore(
  repo: Repository,
  snapshot: SnapshotRecord,
  path: string | undefined,
  opts: RestoreOptions,
): Promise<RestoreResult> {
  const target = resolve(opts.to);
  const st = await mkdir(target, { recursive: true })
    .then(() => lstat(target))
    .catch((err: unknown) => {
      if (errnoCode(err) === 'EEXIST' || errnoCode(err) === 'ENOTDIR') {
        throw new KlosetError('NOT_A_DIRECTORY', `${opts.to} is not a directory`);
      }
      throw err;
    });
  if (!st.isDirectory()) throw new KlosetError('NOT_A_DIRECTORY', `${opts.to} is not a directory`);
  const run = new RestoreRun(repo, target, opts);
  const { entry, path: at } = await new TreeReader(repo).resolve(snapshot.root, path ?? '/');
  const fresh = (await readdir(target)).length === 0;
  if (at === '/' && entry.type === 'dir') await run.children(entry.subtree, target, fresh);
  else await run.entry(entry, join(target, entry.name), fresh);
  return run.result;
}
