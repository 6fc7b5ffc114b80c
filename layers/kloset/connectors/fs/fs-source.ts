import { createReadStream, readFileSync } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { basename } from 'node:path';
import { mapLimit } from '../../concurrency.js';
import type { BackupSource, SourceEntry } from '../backup-source.js';
import { Accounts } from './accounts.js';

/** Large reads: fewer syscalls, and the chunker sees whole chunks at once. */
const READ_SIZE = 4 * 1024 * 1024;

/**
 * Small files are read synchronously: from the page cache that is a few microseconds of
 * syscalls, where the promise API costs four thread-pool round trips (open, fstat, read, close)
 * queued behind compression jobs. Below SYNC_READ_MAX a blocked main thread costs less than that.
 */
const SYNC_READ_MAX = 256 * 1024;

async function* readWhole(path: string, size: number): AsyncGenerator<Buffer> {
  yield size <= SYNC_READ_MAX ? readFileSync(path) : await readFile(path);
}

export class FsSource implements BackupSource {
  private readonly accounts = new Accounts();

  private async entry(path: string, name: string): Promise<SourceEntry> {
    const st: BigIntStats = await lstat(path, { bigint: true });
    const type = st.isFile()
      ? 'file'
      : st.isDirectory()
        ? 'dir'
        : st.isSymbolicLink()
          ? 'symlink'
          : 'special';
    const uid = Number(st.uid);
    const gid = Number(st.gid);
    return {
      name,
      type,
      mode: Number(st.mode) & 0o7777,
      uid,
      gid,
      user: this.accounts.user(uid),
      group: this.accounts.group(gid),
      mtimeNs: st.mtimeNs,
      size: type === 'file' ? Number(st.size) : 0,
      device: Number(st.dev),
      inode: Number(st.ino),
      links: Number(st.nlink),
      target: type === 'symlink' ? await readlink(path) : undefined,
    };
  }

  stat(path: string): Promise<SourceEntry> {
    return this.entry(path, basename(path) || '/');
  }

  async list(dir: string): Promise<SourceEntry[]> {
    const names = await readdir(dir);
    const out = await mapLimit(names, 16, async (name) => {
      try {
        return await this.entry(dir === '/' ? `/${name}` : `${dir}/${name}`, name);
      } catch {
        return undefined; // vanished between readdir and lstat
      }
    });
    return out.filter((e): e is SourceEntry => e !== undefined);
  }

  read(path: string, size: number): AsyncIterable<Buffer> {
    // most files are small: one open, one read, one close, no stream machinery
    if (size < READ_SIZE) return readWhole(path, size);
    return createReadStream(path, { highWaterMark: READ_SIZE });
  }
}
