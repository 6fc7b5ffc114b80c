import {
  closeSync,
  fchmodSync,
  fchownSync,
  futimesSync,
  lstatSync,
  mkdirSync,
  openSync,
  writeSync,
} from 'node:fs';
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
import { join, resolve } from 'node:path';
import { KlosetError, errnoCode } from '../../core/errors.js';
import { fsPath, nameToBytes } from '../../core/byte-names.js';
import type { DirEntry, FileEntry, SymlinkEntry, TreeEntry } from '../../core/tree-node.js';
import { entryType } from '../entry-type.js';
import type {
  ExistingEntry,
  FileContent,
  LocalFile,
  RestoreDestination,
} from '../../core/restore-destination.js';
import { type AsideMedium, writeAside } from '../write-aside.js';

/** The local disk as a medium for replacements (names of any bytes: see fsPath). */
const LOCAL_DISK: AsideMedium = {
  rename: (from, to) => rename(fsPath(from), fsPath(to)),
  unlink: (path) => unlink(fsPath(path)),
};

/** Files up to this size are written in one synchronous call sequence (see writeSmall). */
const SYNC_WRITE_MAX = 1024 * 1024;

const seconds = (ns: string): number => Number(BigInt(ns)) / 1e9;

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * A local directory as a restore destination. Modes, times and (as root) owners are restored;
 * existing files are replaced through a temporary file renamed over them, so a failed restore
 * leaves the old file intact; new files are created exclusively (`wx`), so a pre-existing
 * symbolic link is never followed. The restore writes most new files itself, on worker threads
 * and by the same rules (restore/file-writing.ts); `writeFile` takes replacements and large files.
 */
export class FsDestination implements RestoreDestination {
  readonly root: string;
  private readonly asRoot = process.getuid?.() === 0;

  constructor(readonly location: string) {
    this.root = resolve(location);
  }

  get localRoot(): string {
    return this.root;
  }

  display(path: string): string {
    return path === '' ? this.root : join(this.root, path);
  }

  async prepare(): Promise<{ empty: boolean }> {
    const notDir = () => new KlosetError('NOT_A_DIRECTORY', `${this.location} is not a directory`);
    const st = await mkdir(this.root, { recursive: true })
      .then(() => lstat(this.root))
      .catch((err: unknown) => {
        if (errnoCode(err) === 'EEXIST' || errnoCode(err) === 'ENOTDIR') throw notDir();
        throw err;
      });
    if (!st.isDirectory()) throw notDir();
    return { empty: (await readdir(this.root)).length === 0 };
  }

  /**
   * Synchronous, as mkdir: the restore's walk waits for each, and a call on the main thread costs
   * microseconds where a thread-pool round trip costs a hundred or more.
   */
  async stat(path: string): Promise<ExistingEntry | undefined> {
    const st = lstatSync(fsPath(this.display(path)), { throwIfNoEntry: false });
    return st && { type: entryType(st, 'other'), mtimeMs: st.mtimeMs, size: st.size };
  }

  async mkdir(path: string): Promise<void> {
    mkdirSync(fsPath(this.display(path)), { mode: 0o700 });
  }

  /** As root, owners are restored; files are created owned by root, so only others need a chown. */
  private needsChown(entry: TreeEntry): boolean {
    return this.asRoot && (entry.uid !== 0 || entry.gid !== 0);
  }

  localFile(path: string, entry: FileEntry): LocalFile {
    return {
      path: this.display(path),
      mode: entry.mode,
      mtime: seconds(entry.mtime),
      ...(this.needsChown(entry) && { owner: { uid: entry.uid, gid: entry.gid } }),
    };
  }

  async finishDir(path: string, entry: DirEntry): Promise<void> {
    const at = fsPath(this.display(path));
    if (this.needsChown(entry)) await lchown(at, entry.uid, entry.gid).catch(() => undefined);
    await chmod(at, entry.mode);
    await utimes(at, seconds(entry.mtime), seconds(entry.mtime));
  }

  async writeFile(path: string, entry: FileEntry, content: FileContent, replace: boolean): Promise<void> {
    await writeAside(LOCAL_DISK, this.display(path), replace, (at) => this.writeNew(entry, at, content));
  }

  private async writeNew(entry: FileEntry, at: string, content: FileContent): Promise<void> {
    try {
      if (content.size <= SYNC_WRITE_MAX) this.writeSmall(entry, at, await collect(content.chunks()));
      else await this.writeLarge(entry, at, content);
    } catch (err) {
      // a file that appeared under the new name since the check is not ours to remove
      if (errnoCode(err) !== 'EEXIST') await unlink(fsPath(at)).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Small files are written with synchronous calls: five syscalls on the main thread cost less
   * than five thread-pool round trips, whose wake-ups dominated restore time (strace: 1.7 M
   * futex calls for 46k files).
   */
  private writeSmall(entry: FileEntry, path: string, data: Buffer): void {
    const fd = openSync(fsPath(path), 'wx', 0o600);
    try {
      writeSync(fd, data);
      if (this.needsChown(entry)) fchownSync(fd, entry.uid, entry.gid);
      fchmodSync(fd, entry.mode);
      futimesSync(fd, seconds(entry.mtime), seconds(entry.mtime));
    } finally {
      closeSync(fd);
    }
  }

  private async writeLarge(entry: FileEntry, path: string, content: FileContent): Promise<void> {
    const fh = await open(fsPath(path), 'wx', 0o600);
    try {
      for await (const chunk of content.chunks()) await fh.write(chunk);
      if (this.needsChown(entry)) await fh.chown(entry.uid, entry.gid);
      await fh.chmod(entry.mode);
      await fh.utimes(seconds(entry.mtime), seconds(entry.mtime));
    } finally {
      await fh.close();
    }
  }

  async symlink(path: string, entry: SymlinkEntry, replace: boolean): Promise<void> {
    const dest = this.display(path);
    await writeAside(LOCAL_DISK, dest, replace, (at) => symlink(nameToBytes(entry.target), fsPath(at)));
    if (this.needsChown(entry)) await lchown(fsPath(dest), entry.uid, entry.gid).catch(() => undefined);
    await lutimes(fsPath(dest), seconds(entry.mtime), seconds(entry.mtime)).catch(() => undefined);
  }

  async link(existing: string, path: string, replace: boolean): Promise<void> {
    // a replacement is linked beside the old entry and renamed over it: a failed link loses nothing
    const target = fsPath(this.display(existing));
    await writeAside(LOCAL_DISK, this.display(path), replace, (at) => link(target, fsPath(at)));
  }

  async close(): Promise<void> {}
}
