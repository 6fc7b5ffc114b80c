import { randomBytes } from 'node:crypto';
import {
  type FileHandle,
  link,
  lstat,
  lutimes,
  mkdir,
  open,
  rename,
  symlink,
  unlink,
  utimes,
  chmod,
  lchown,
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

  /** Restores the children of a directory node into `dir` (which exists and is a real directory). */
  async children(treeId: string, dir: string): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const entry of await this.trees.entries(treeId)) {
      let dest: string;
      try {
        dest = this.dest(dir, entry.name);
      } catch (err) {
        this.fail(join(dir, '?'), err);
        continue;
      }
      const task = this.entry(entry, dest);
      if (entry.type === 'dir') await task;
      else pending.push(task);
    }
    await Promise.all(pending);
  }

  async entry(entry: TreeEntry, dest: string): Promise<void> {
    try {
      switch (entry.type) {
        case 'dir':
          return await this.dir(entry, dest);
        case 'symlink':
          return await this.symlink(entry, dest);
        case 'file':
          return await this.slots.run(() => this.file(entry, dest));
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

  private async dir(entry: Extract<TreeEntry, { type: 'dir' }>, dest: string): Promise<void> {
    const st = await this.existing(dest);
    if (!st) await mkdir(dest, { mode: 0o700 });
    else if (!st.isDirectory()) throw new Error('exists and is not a directory; not replaced');
    await this.children(entry.subtree, dest);
    await this.applyMeta(entry, dest);
    this.result.dirs++;
  }

  /** Decides whether an existing path is replaced; false: leave it. */
  private async mayReplace(entry: TreeEntry, dest: string): Promise<boolean> {
    const st = await this.existing(dest);
    if (!st) return true;
    if (st.isDirectory()) throw new Error('exists and is a directory; not replaced');
    const policy = this.opts.overwrite ?? 'never';
    const replace =
      policy === 'always' || (policy === 'if-newer' && toDate(entry.mtime).getTime() > st.mtimeMs);
    if (!replace) this.result.skipped++;
    return replace;
  }

  private async symlink(entry: Extract<TreeEntry, { type: 'symlink' }>, dest: string): Promise<void> {
    if (!(await this.mayReplace(entry, dest))) return;
    const tmp = `${dest}.kloud-${randomBytes(4).toString('hex')}`;
    await symlink(entry.target, tmp);
    await rename(tmp, dest);
    if (this.asRoot) await lchown(dest, entry.uid, entry.gid).catch(() => undefined);
    await lutimes(dest, nsOf(entry.mtime), nsOf(entry.mtime)).catch(() => undefined);
    this.result.symlinks++;
  }

  private async file(entry: FileEntry, dest: string): Promise<void> {
    if (!(await this.mayReplace(entry, dest))) return;
    const linkKey = entry.links && entry.links > 1 ? `${entry.device}:${entry.inode}` : undefined;
    const first = linkKey && this.hardLinks.get(linkKey);
    if (first) {
      await unlink(dest).catch(() => undefined);
      await link(first, dest);
      this.result.files++;
      return;
    }
    // written beside the destination and renamed over it: an interrupted restore never leaves
    // a half-written file under the real name, and a failed one leaves the old file intact
    const tmp = `${dest}.kloud-${randomBytes(4).toString('hex')}`;
    let fh: FileHandle | undefined = await open(tmp, 'wx', 0o600);
    try {
      let size = 0;
      for await (const chunk of fileContent(this.repo, entry)) {
        await fh.write(chunk);
        size += chunk.length;
      }
      if (size !== entry.size)
        throw new KlosetError('CORRUPT', `content is ${size} bytes, expected ${entry.size}`);
      await fh.close();
      fh = undefined;
      await this.applyMeta(entry, tmp);
      await rename(tmp, dest);
    } catch (err) {
      await fh?.close();
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    if (linkKey) this.hardLinks.set(linkKey, dest);
    this.result.files++;
    this.result.bytes += entry.size;
    this.progress(dest);
  }

  private async applyMeta(entry: TreeEntry, path: string): Promise<void> {
    if (this.asRoot) await lchown(path, entry.uid, entry.gid).catch(() => undefined);
    await chmod(path, entry.mode);
    await utimes(path, nsOf(entry.mtime), nsOf(entry.mtime));
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
  if (at === '/' && entry.type === 'dir') await run.children(entry.subtree, target);
  else await run.entry(entry, join(target, entry.name));
  return run.result;
}
