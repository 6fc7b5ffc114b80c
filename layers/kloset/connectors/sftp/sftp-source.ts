import { posix } from 'node:path';
import type { Stats } from 'ssh2';
import { KlosetError } from '../../core/errors.js';
import type { BackupSource, ByteRange, SourceEntry } from '../../core/backup-source.js';
import { entryType } from '../entry-type.js';
import { isNoSuchFile } from './sftp-errors.js';
import { SftpConnector } from './sftp-connector.js';

/** Bytes per step of a file's content stream (the next step is requested while one is consumed). */
const READ_SIZE = 2 * 1024 * 1024;

/** What ssh2 gives for bytes of a name that are not UTF-8: it decodes every name as UTF-8. */
const REPLACED = '\uFFFD';
const NOT_UTF8 =
  'kloud reads and sends SFTP names as UTF-8 only (the ssh2 library), so it cannot name this one; not backed up';

/**
 * A directory tree on an SFTP server as a backup source. The location's path is the root the
 * source's paths hang from: with `sftp://host` they are the server's own absolute paths, with
 * `sftp://host/srv` the path `/www` is the server's `/srv/www`.
 *
 * SFTP v3 reports mode, owner and group numbers, size and whole-second times, but no device,
 * inode or link count: entries carry device 0, inode 0 and one link, so the backup's
 * unchanged-file test compares size and mtime only, hard links are stored as separate files,
 * and a file rewritten within the same second at the same size is not read again.
 *
 * ssh2 reads and sends names as UTF-8 only (its path arguments must be strings, its listings
 * decode each name with U+FFFD for bytes that are not UTF-8): an entry whose name or link target
 * is not UTF-8 is listed marked with `error`, never backed up under another name.
 */
export class SftpSource extends SftpConnector implements BackupSource {
  private metadata(name: string, attrs: Stats): SourceEntry {
    const type = entryType(attrs, 'special');
    return {
      name,
      type,
      mode: attrs.mode & 0o7777,
      uid: attrs.uid,
      gid: attrs.gid,
      mtimeNs: BigInt(attrs.mtime) * 1_000_000_000n,
      size: type === 'file' ? attrs.size : 0,
      device: 0,
      inode: 0,
      links: 1,
    };
  }

  private async entry(name: string, attrs: Stats, remote: string): Promise<SourceEntry> {
    const entry = this.metadata(name, attrs);
    if (entry.type !== 'symlink') return entry;
    const target = await this.session.readlink(remote);
    if (!target.includes(REPLACED)) return { ...entry, target };
    return { ...entry, error: `its link target is not UTF-8 (read as ${target}): ${NOT_UTF8}` };
  }

  async stat(path: string): Promise<SourceEntry> {
    const remote = this.remote(path);
    try {
      return await this.entry(posix.basename(path) || '/', await this.session.lstat(remote), remote);
    } catch (err) {
      if (isNoSuchFile(err))
        throw new KlosetError('PATH_NOT_FOUND', `no such file or directory ${path} in ${this.location}`, {
          cause: err,
        });
      throw err;
    }
  }

  async list(dir: string): Promise<SourceEntry[]> {
    const remote = this.remote(dir);
    const byName = new Map<string, Stats[]>();
    for (const { filename, attrs } of await this.session.readdir(remote)) {
      const same = byName.get(filename);
      if (same) same.push(attrs);
      else byName.set(filename, [attrs]);
    }
    const named = await Promise.all([...byName].map(([name, listed]) => this.named(remote, name, listed)));
    return named.flat();
  }

  /**
   * The entries listed under one name. A name holding U+FFFD may stand for names that are not
   * UTF-8 (several, even): only the one lstat finds under it, if any, is real; the others come
   * back marked with an error, so the backup reports them.
   */
  private async named(remote: string, name: string, listed: Stats[]): Promise<SourceEntry[]> {
    const at = posix.join(remote, name);
    const real = name.includes(REPLACED) ? await this.session.lstat(at).catch(orMissing) : listed[0];
    const unnamed = listed.slice(real ? 1 : 0).map((attrs) => ({
      ...this.metadata(name, attrs),
      error: `a name that is not UTF-8 (read as ${name}): ${NOT_UTF8}`,
    }));
    if (!real) return unnamed;
    // a link that vanished between the listing and its readlink is left out, as fs does
    const entry = await this.entry(name, real, at).catch(orMissing);
    return entry ? [entry, ...unnamed] : unnamed;
  }

  /**
   * The content, at most READ_SIZE at a time, the next step requested before this one is handed
   * on. Steps are sized by `size` plus one byte, so the end of the file shows in the last
   * answer (a small file is one read) and a file that grew since its stat is read to its end.
   * A range is read from its offset and stops at its end.
   */
  async *read(path: string, size: number, range?: ByteRange): AsyncIterable<Buffer> {
    const remote = this.remote(path);
    const handle = await this.session.open(remote, 'r');
    const start = range?.offset ?? 0;
    const end = range ? start + range.length : Infinity;
    const stepLength = (position: number) =>
      Math.min(READ_SIZE, end - position, Math.max(size - position, 0) + 1);
    let position = start;
    let asked = stepLength(start);
    let next: Promise<Buffer> | undefined =
      asked > 0 ? this.session.readAt(handle, remote, start, asked) : undefined;
    try {
      while (next) {
        const data = await next;
        position += data.length;
        next = undefined;
        if (data.length === asked && position < end) {
          asked = stepLength(position);
          next = this.session.readAt(handle, remote, position, asked);
        }
        if (data.length > 0) yield data;
      }
    } finally {
      await next?.catch(() => undefined);
      await this.session.closeHandle(handle, remote).catch(() => undefined);
    }
  }
}

function orMissing(err: unknown): undefined {
  if (isNoSuchFile(err)) return undefined;
  throw err;
}
