import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadObjectCommand,
  type S3Client,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { KlosetError } from '../../core/errors.js';
import type { BackupSource, ByteRange, SourceEntry, WalkedSourceEntry } from '../../core/backup-source.js';
import { createS3Client } from './s3-client.js';
import { type S3Settings, parseS3Location } from './s3-options.js';
import { anyKeyUnder, isMissingKey, s3Call } from './s3-requests.js';
import type { S3Location } from '../../core/location.js';

/**
 * A 48-bit number from an ETag, recorded as the entry's inode: the backup's unchanged-file test
 * compares size, mtime and inode, so an object whose ETag changed is read again even when its
 * size and LastModified did not (a copy in place keeps neither promise). 48 bits stay exact in
 * a JSON number.
 */
function etagInode(etag: string | undefined): number {
  if (!etag) return 0;
  return createHash('sha256').update(etag).digest().readUIntBE(0, 6);
}

const msToNs = (d: Date | undefined): bigint => BigInt(d?.getTime() ?? 0) * 1_000_000n;

/** A path segment that a snapshot path can hold: S3 keys may have empty or dot segments, or NUL. */
const usableName = (name: string): boolean =>
  name !== '' && name !== '.' && name !== '..' && !name.includes('\0');

const UNNAMED = 'has a path segment no file name can be (empty, ".", ".." or holding NUL)';

/**
 * A bucket prefix as a backup source: `/a/b` is the object `PREFIX/a/b`, key prefixes ending in
 * `/` are directories. S3 has no owners, modes or directory times: files are 0644 and
 * directories 0755, owned by the user running the backup, and directories carry mtime 0.
 * An object whose name is also a prefix (`a` and `a/x`) is kept as the directory. Keys that no
 * file tree can hold (that object, segments that are empty, `.`, `..` or hold NUL) are listed
 * marked with `error`: the backup reports them instead of skipping them silently.
 */
export class S3Source implements BackupSource {
  readonly settings: S3Settings;
  readonly client: S3Client;
  private readonly base: string;
  private readonly uid = process.getuid?.() ?? 0;
  private readonly gid = process.getgid?.() ?? 0;

  constructor(location: S3Location) {
    this.settings = parseS3Location(location);
    this.base = this.settings.prefix ? `${this.settings.prefix}/` : '';
    this.client = createS3Client(this.settings);
  }

  get location(): string {
    return this.settings.location;
  }

  private key(path: string): string {
    const rel = path.replace(/^\/+/, '');
    return `${this.base}${rel}`;
  }

  private dirEntry(name: string): SourceEntry {
    return {
      ...this.owner(),
      name,
      type: 'dir',
      mode: 0o755,
      mtimeNs: 0n,
      size: 0,
      device: 0,
      inode: 0,
      links: 1,
    };
  }

  private fileEntry(
    name: string,
    size: number,
    modified: Date | undefined,
    etag: string | undefined,
  ): SourceEntry {
    return {
      ...this.owner(),
      name,
      type: 'file',
      mode: 0o644,
      mtimeNs: msToNs(modified),
      size,
      device: 0,
      inode: etagInode(etag),
      links: 1,
    };
  }

  private owner(): { uid: number; gid: number } {
    return { uid: this.uid, gid: this.gid };
  }

  private fail<T>(action: string, fn: () => Promise<T>): Promise<T> {
    return s3Call(this.settings, action, fn);
  }

  async stat(path: string): Promise<SourceEntry> {
    const name = path.split('/').filter(Boolean).pop() ?? '/';
    if (path.replace(/\/+$/, '') === '') {
      await anyKeyUnder(this.client, this.settings, this.base); // the bucket exists and answers
      return this.dirEntry('/');
    }
    const key = this.key(path);
    let head: { ContentLength?: number; LastModified?: Date; ETag?: string } | undefined;
    try {
      head = await this.fail('HeadObject', () =>
        this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key })),
      );
    } catch (err) {
      if (!(await isMissingKey(this.client, this.settings, key, err))) throw err;
    }
    if (await anyKeyUnder(this.client, this.settings, `${key}/`)) return this.dirEntry(name);
    if (head) return this.fileEntry(name, head.ContentLength ?? 0, head.LastModified, head.ETag);
    throw new KlosetError('PATH_NOT_FOUND', `no object or prefix ${path} in ${this.location}`);
  }

  async list(dir: string): Promise<SourceEntry[]> {
    const prefix = dir.replace(/\/+$/, '') === '' ? this.base : `${this.key(dir)}/`;
    const dirs = new Map<string, SourceEntry>();
    const files = new Map<string, SourceEntry>();
    const unusable: SourceEntry[] = [];
    const report = (entry: SourceEntry, key: string, why: string) =>
      unusable.push(this.unusable(entry, key, why));
    const pages = paginateListObjectsV2(
      { client: this.client, pageSize: 1000 },
      { Bucket: this.settings.bucket, Prefix: prefix, Delimiter: '/' },
    );
    const iterator = pages[Symbol.asyncIterator]();
    for (;;) {
      const page = await this.fail('ListObjectsV2', () => iterator.next());
      if (page.done) break;
      for (const p of page.value.CommonPrefixes ?? []) {
        const name = p.Prefix!.slice(prefix.length, -1);
        if (usableName(name)) dirs.set(name, this.dirEntry(name));
        else report(this.dirEntry(name), p.Prefix!, UNNAMED);
      }
      for (const o of page.value.Contents ?? []) {
        const name = o.Key!.slice(prefix.length);
        // `prefix/` itself is a console-made "folder" marker, not a file
        if (name === '') continue;
        const entry = this.fileEntry(name, o.Size ?? 0, o.LastModified, o.ETag);
        if (usableName(name)) files.set(name, entry);
        else report(entry, o.Key!, UNNAMED);
      }
    }
    for (const name of dirs.keys()) {
      const shadowed = files.get(name);
      if (!shadowed) continue;
      report(shadowed, `${prefix}${name}`, 'is also the prefix of other keys (kept as the directory)');
      files.delete(name);
    }
    return [...dirs.values(), ...files.values(), ...unusable];
  }

  async *read(path: string, _size: number, range?: ByteRange): AsyncIterable<Buffer> {
    if (range?.length === 0) return;
    const bytes = range && `bytes=${range.offset}-${range.offset + range.length - 1}`;
    const res = await this.fail('GetObject', () =>
      this.client.send(
        new GetObjectCommand({ Bucket: this.settings.bucket, Key: this.key(path), Range: bytes }),
      ),
    );
    // in Node the body is an http.IncomingMessage: a stream of Buffers
    for await (const chunk of res.Body as Readable) yield chunk as Buffer;
  }

  /**
   * Everything below `dir` as one listing without a delimiter, in key order (the walk order),
   * from the key after `after`: a plan stopped at a deadline resumes with StartAfter, and only
   * one page of 1,000 keys is held. Directories are the key prefixes, yielded when the first key
   * below them goes by. Keys no file tree can hold are yielded marked with `error`, a directory
   * so marked once, its keys skipped. An object whose name is also a prefix (`a` and `a/x`) is
   * yielded as a file and the prefix as a directory: the commit keeps the directory.
   */
  async *walk(dir: string, after?: string): AsyncIterable<WalkedSourceEntry> {
    const top = dir.replace(/\/+$/, '');
    const prefix = top === '' ? this.base : `${this.key(top)}/`;
    // the directories the previous key was in; on resuming, those of `after` were yielded already
    let open =
      after === undefined
        ? []
        : after
            .slice(top.length + 1)
            .split('/')
            .slice(0, -1);
    const pages = paginateListObjectsV2(
      { client: this.client, pageSize: 1000 },
      {
        Bucket: this.settings.bucket,
        Prefix: prefix,
        ...(after !== undefined && { StartAfter: `${prefix}${after.slice(top.length + 1)}` }),
      },
    );
    const iterator = pages[Symbol.asyncIterator]();
    for (;;) {
      const page = await this.fail('ListObjectsV2', () => iterator.next());
      if (page.done) return;
      for (const o of page.value.Contents ?? []) {
        const parts = o.Key!.slice(prefix.length).split('/');
        const name = parts.pop()!;
        let shared = 0;
        while (shared < Math.min(open.length, parts.length) && open[shared] === parts[shared]) shared++;
        open = parts;
        let usable = parts.slice(0, shared).every(usableName);
        for (let depth = shared; depth < parts.length && usable; depth++) {
          const path = `${top}/${parts.slice(0, depth + 1).join('/')}`;
          usable = usableName(parts[depth]!);
          const entry = this.dirEntry(parts[depth]!);
          yield usable
            ? { path, entry }
            : { path, entry: this.unusable(entry, `${prefix}${parts.slice(0, depth + 1).join('/')}/`) };
        }
        // `dir/` itself is a console-made "folder" marker, not a file
        if (!usable || name === '') continue;
        const entry = this.fileEntry(name, o.Size ?? 0, o.LastModified, o.ETag);
        const path = `${top}/${[...parts, name].join('/')}`;
        yield usableName(name) ? { path, entry } : { path, entry: this.unusable(entry, o.Key!) };
      }
    }
  }

  /** The entry marked with why it is not backed up. */
  private unusable(entry: SourceEntry, key: string, why = UNNAMED): SourceEntry {
    return { ...entry, error: `the S3 key ${JSON.stringify(key)} ${why}; not backed up` };
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
