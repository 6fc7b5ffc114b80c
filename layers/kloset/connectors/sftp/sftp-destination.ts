import type { InputAttributes } from 'ssh2';
import { KlosetError } from '../../core/errors.js';
import { isUtf8Name } from '../../core/byte-names.js';
import type { DirEntry, FileEntry, SymlinkEntry, TreeEntry } from '../../core/tree-node.js';
import {
  type ExistingEntry,
  type FileContent,
  type RestoreDestination,
  displayBelow,
} from '../../core/restore-destination.js';
import { entryType } from '../entry-type.js';
import { isNoSuchFile } from './sftp-errors.js';
import { SftpConnector, notUtf8 } from './sftp-connector.js';
import { type AsideMedium, writeAside } from '../write-aside.js';

/** SFTP v3 times are unsigned 32-bit seconds: the sub-second part is lost, times before 1970 become 0. */
const seconds = (ns: string): number => Math.max(0, Number(BigInt(ns) / 1_000_000_000n));

const timesOf = (entry: TreeEntry): InputAttributes => ({
  atime: seconds(entry.mtime),
  mtime: seconds(entry.mtime),
});

/**
 * A directory on an SFTP server as a restore destination. Modes and times (whole seconds) are
 * restored, and owners when the login is root. New files are created exclusively, so nothing
 * in the way is followed or overwritten; a replacement is written beside the old file and
 * renamed over it with posix-rename@openssh.com (where the server lacks it, the old file is
 * removed first). Hard links need hardlink@openssh.com.
 */
export class SftpDestination extends SftpConnector implements RestoreDestination {
  private readonly asRoot = this.settings.user === 'root';

  display(path: string): string {
    return displayBelow(this.location, path);
  }

  async prepare(): Promise<{ empty: boolean }> {
    await this.session.mkdirp(this.root);
    // the root as named may be a link to a directory (a home directory often is)
    if (!(await this.session.stat(this.root)).isDirectory())
      throw new KlosetError('NOT_A_DIRECTORY', `${this.location} is not a directory`);
    return { empty: (await this.session.readdir(this.root)).length === 0 };
  }

  async stat(path: string): Promise<ExistingEntry | undefined> {
    try {
      const st = await this.session.lstat(this.remote(path));
      return { type: entryType(st, 'other'), mtimeMs: st.mtime * 1000, size: st.size };
    } catch (err) {
      if (isNoSuchFile(err)) return undefined;
      throw err;
    }
  }

  async mkdir(path: string): Promise<void> {
    await this.session.mkdir(this.remote(path), 0o700);
  }

  /** Owners first: a chown clears the setuid and setgid bits the mode then sets. */
  private owner(entry: TreeEntry): InputAttributes | undefined {
    return this.asRoot && (entry.uid !== 0 || entry.gid !== 0)
      ? { uid: entry.uid, gid: entry.gid }
      : undefined;
  }

  async finishDir(path: string, entry: DirEntry): Promise<void> {
    const at = this.remote(path);
    const owner = this.owner(entry);
    if (owner) await this.session.setstat(at, owner).catch(() => undefined);
    await this.session.setstat(at, { mode: entry.mode, ...timesOf(entry) });
  }

  async writeFile(path: string, entry: FileEntry, content: FileContent, replace: boolean): Promise<void> {
    await writeAside(this.medium, this.remote(path), replace, (at) =>
      this.session.createFile(at, (handle) => this.fill(handle, at, entry, content)),
    );
  }

  private async fill(handle: Buffer, at: string, entry: FileEntry, content: FileContent): Promise<void> {
    let position = 0;
    for await (const chunk of content.chunks()) {
      await this.session.writeAt(handle, at, [chunk], position);
      position += chunk.length;
    }
    const owner = this.owner(entry);
    if (owner) await this.session.fsetstat(handle, at, owner);
    await this.session.fsetstat(handle, at, { mode: entry.mode, ...timesOf(entry) });
  }

  /** Renames atomically with posix-rename, else by removing the old entry first. */
  private readonly medium: AsideMedium = {
    rename: async (from, to) => {
      if (await this.session.replace(from, to)) return;
      await this.session.unlink(to);
      await this.session.rename(from, to);
    },
    unlink: (path) => this.session.unlink(path),
  };

  async symlink(path: string, entry: SymlinkEntry, replace: boolean): Promise<void> {
    if (!isUtf8Name(entry.target)) throw notUtf8('the link target');
    const dest = this.remote(path);
    await writeAside(this.medium, dest, replace, (at) => this.session.symlink(entry.target, at));
    // a link's own owner and times, where the server can set them (not its mode: links have none)
    await this.session.lsetstat(dest, { ...this.owner(entry), ...timesOf(entry) }).catch(() => undefined);
  }

  async link(existing: string, path: string, replace: boolean): Promise<void> {
    // a replacement is linked beside the old entry and renamed over it: a failed link loses nothing
    await writeAside(this.medium, this.remote(path), replace, async (at) => {
      if (!(await this.session.hardlink(this.remote(existing), at)))
        throw new KlosetError(
          'UNSUPPORTED',
          `${this.location}: the server offers no hard links (hardlink@openssh.com), so this link to ${existing} was not restored`,
        );
    });
  }
}
