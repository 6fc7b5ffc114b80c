import { posix } from 'node:path';
import type { Stats } from 'ssh2';
import { KlosetError } from '../../core/errors.js';
import type { BackupSource, SourceEntry } from '../../core/backup-source.js';
import { entryType } from '../entry-type.js';
import { isNoSuchFile } from './sftp-errors.js';
import { SftpConnector } from './sftp-connector.js';

/** Bytes per step of a file's content stream (the next step is requested while one is consumed). */
const READ_SIZE = 2 * 1024 * 1024;

/**
 * A directory tree on an SFTP server as a backup source. The location's path is the root the
 * source's paths hang from: with `sftp://host` they are the server's own absolute paths, with
 * `sftp://host/srv` the path `/www` is the server's `/srv/www`.
 *
 * SFTP v3 reports mode, owner and group numbers, size and whole-second times, but no device,
 * inode or link count: entries carry device 0, inode 0 and one link, so the backup's
 * unchanged-file test compares size and mtime only, hard links are stored as separate files,
 * and a file rewritten within the same second at the same size is not read again.
 */
export class SftpSource extends SftpConnector implements BackupSource {
  private async entry(name: string, attrs: Stats, remote: string): Promise<SourceEntry> {
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
      ...(type === 'symlink' && { target: await this.session.readlink(remote) }),
    };
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
    const entries = await this.session.readdir(remote);
    const out = await Promise.all(
      entries.map((e) =>
        // a link that vanished between the listing and its readlink is left out, as fs does
        this.entry(e.filename, e.attrs, posix.join(remote, e.filename)).catch((err: unknown) => {
          if (isNoSuchFile(err)) return undefined;
          throw err;
        }),
      ),
    );
    return out.filter((e): e is SourceEntry => e !== undefined);
  }

  /**
   * The content, at most READ_SIZE at a time, the next step requested before this one is handed
   * on. Steps are sized by `size` plus one byte, so the end of the file shows in the last
   * answer (a small file is one read) and a file that grew since its stat is read to its end.
   */
  async *read(path: string, size: number): AsyncIterable<Buffer> {
    const remote = this.remote(path);
    const handle = await this.session.open(remote, 'r');
    const stepLength = (position: number) => Math.min(READ_SIZE, Math.max(size - position, 0) + 1);
    let position = 0;
    let asked = stepLength(0);
    let next: Promise<Buffer> | undefined = this.session.readAt(handle, remote, 0, asked);
    try {
      while (next) {
        const data = await next;
        position += data.length;
        next = undefined;
        if (data.length === asked) {
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
