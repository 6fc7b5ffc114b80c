import { createReadStream, lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fsPath, nameFromBytes } from '../../core/byte-names.js';
import type { BackupSource, ByteRange, SourceEntry } from '../../core/backup-source.js';
import { entryType } from '../entry-type.js';
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
  const at = fsPath(path);
  yield size <= SYNC_READ_MAX ? readFileSync(at) : await readFile(at);
}

async function* readRange(path: string, { offset, length }: ByteRange): AsyncGenerator<Buffer> {
  if (length === 0) return;
  const end = offset + length - 1; // inclusive
  yield* createReadStream(fsPath(path), { start: offset, end, highWaterMark: READ_SIZE });
}

/**
 * The local file system as a backup source. Metadata calls are synchronous on purpose: from the
 * dentry cache an lstat is a microsecond, while a promise-based one is a thread-pool round trip
 * that queues behind compression jobs (measured: a no-change backup of 46k files spent most of
 * its time waiting for them). Content reads of large files stay asynchronous.
 */
export class FsSource implements BackupSource {
  private readonly accounts = new Accounts();

  private entry(path: string, name: string): SourceEntry {
    const at = fsPath(path);
    const st: BigIntStats = lstatSync(at, { bigint: true });
    const type = entryType(st, 'special');
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
      target: type === 'symlink' ? nameFromBytes(readlinkSync(at, { encoding: 'buffer' })) : undefined,
    };
  }

  async stat(path: string): Promise<SourceEntry> {
    return this.entry(path, basename(path) || '/');
  }

  async list(dir: string): Promise<SourceEntry[]> {
    const out: SourceEntry[] = [];
    // names are read as bytes: a name that is not UTF-8 is kept, not replaced by U+FFFD
    for (const raw of readdirSync(fsPath(dir), { encoding: 'buffer' })) {
      const name = nameFromBytes(raw);
      try {
        out.push(this.entry(dir === '/' ? `/${name}` : `${dir}/${name}`, name));
      } catch {
        // vanished between readdir and lstat
      }
    }
    return out;
  }

  localPath(path: string): string {
    return path;
  }

  read(path: string, size: number, range?: ByteRange): AsyncIterable<Buffer> {
    if (range) return readRange(path, range);
    // most files are small: one open, one read, one close, no stream machinery
    if (size < READ_SIZE) return readWhole(path, size);
    return createReadStream(fsPath(path), { highWaterMark: READ_SIZE });
  }
}
