import { Readable } from 'node:stream';
import { HeadObjectCommand, type PutObjectCommandInput, type S3Client } from '@aws-sdk/client-s3';
import { KlosetError } from '../../core/errors.js';
import { isUtf8Name, nameToBytes } from '../../core/byte-names.js';
import type { DirEntry, FileEntry, SymlinkEntry, TreeEntry } from '../../core/tree-node.js';
import {
  type ExistingEntry,
  type FileContent,
  type RestoreDestination,
  displayBelow,
} from '../../core/restore-destination.js';
import { archiveTerms } from './s3-archive.js';
import { createS3Client } from './s3-client.js';
import { isPreconditionFailed } from './s3-errors.js';
import { type S3Settings, parseS3Location } from './s3-options.js';
import {
  type Multipart,
  anyKeyUnder,
  encryptionParams,
  isMissingKey,
  putObject,
  s3Call,
} from './s3-requests.js';
import type { S3Location } from '../../core/location.js';

/** Files from this size on are streamed as multipart uploads; smaller ones are one PutObject. */
const MULTIPART: Multipart = { threshold: 16 * 1024 * 1024, partSize: 8 * 1024 * 1024, queueSize: 2 };

/**
 * User metadata kloud writes on restored objects, so the snapshot's metadata survives in S3 and
 * a later `--overwrite if-newer` compares the file's own time, not the upload time.
 */
const META = { mtime: 'kloud-mtime', mode: 'kloud-mode', type: 'kloud-type' } as const;

/**
 * An S3 prefix as a restore destination: each file is the object `PREFIX/path`; directories
 * are implied by keys (S3 has none); modes and times are kept as user metadata. A symbolic
 * link becomes a small object holding its target, marked `kloud-type: symlink` (as rclone keeps
 * links), so nothing of the snapshot is dropped silently. New objects are written with
 * `If-None-Match: *` after a HEAD, so nothing is overwritten unless the policy says so.
 */
export class S3Destination implements RestoreDestination {
  readonly settings: S3Settings;
  private readonly client: S3Client;
  private readonly base: string;

  constructor(location: S3Location) {
    this.settings = parseS3Location(location);
    if (archiveTerms(this.settings.storageClass)) {
      throw new KlosetError(
        'INVALID_ARGUMENT',
        `restoring into storage class ${this.settings.storageClass} would make the files unreadable until retrieved; choose another class`,
      );
    }
    this.base = this.settings.prefix ? `${this.settings.prefix}/` : '';
    this.client = createS3Client(this.settings);
  }

  get location(): string {
    return this.settings.location;
  }

  display(path: string): string {
    return displayBelow(this.location, path);
  }

  /** S3 keys are UTF-8: a path holding other bytes has no key. */
  private key(path: string): string {
    if (!isUtf8Name(path))
      throw new KlosetError('UNSUPPORTED', 'the name is not UTF-8, and S3 keys are UTF-8 only; not restored');
    return `${this.base}${path}`;
  }

  async prepare(): Promise<{ empty: boolean }> {
    // a missing bucket surfaces here as BUCKET_NOT_FOUND: kloud does not create buckets
    return { empty: !(await anyKeyUnder(this.client, this.settings, this.base)) };
  }

  async stat(path: string): Promise<ExistingEntry | undefined> {
    const key = this.key(path);
    try {
      const head = await s3Call(this.settings, 'HeadObject', () =>
        this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key })),
      );
      const mtime = head.Metadata?.[META.mtime];
      return {
        type: head.Metadata?.[META.type] === 'symlink' ? 'symlink' : 'file',
        mtimeMs: mtime ? Number(BigInt(mtime) / 1_000_000n) : (head.LastModified?.getTime() ?? 0),
        size: head.ContentLength ?? 0,
      };
    } catch (err) {
      if (!(await isMissingKey(this.client, this.settings, key, err))) throw err;
    }
    return (await anyKeyUnder(this.client, this.settings, `${key}/`))
      ? { type: 'dir', mtimeMs: 0, size: 0 }
      : undefined;
  }

  /** Directories exist through the keys below them: only their names are checked. */
  async mkdir(path: string): Promise<void> {
    this.key(path);
  }

  async finishDir(_path: string, _entry: DirEntry): Promise<void> {}

  private params(path: string, entry: TreeEntry, replace: boolean): PutObjectCommandInput {
    return {
      Bucket: this.settings.bucket,
      Key: this.key(path),
      Metadata: { [META.mtime]: entry.mtime, [META.mode]: entry.mode.toString(8), [META.type]: entry.type },
      ...(!replace && { IfNoneMatch: '*' }),
      ...(this.settings.storageClass && { StorageClass: this.settings.storageClass }),
      ...encryptionParams(this.settings),
    };
  }

  private async put(params: PutObjectCommandInput, size: number): Promise<void> {
    try {
      await putObject(this.client, this.settings, params, size, MULTIPART);
    } catch (err) {
      if (err instanceof KlosetError && isPreconditionFailed(err.cause))
        throw new Error('appeared during the restore; not replaced');
      throw err;
    }
  }

  async writeFile(path: string, entry: FileEntry, content: FileContent, replace: boolean): Promise<void> {
    const params = this.params(path, entry, replace);
    if (content.size >= MULTIPART.threshold)
      return this.put({ ...params, Body: Readable.from(content.chunks()) }, content.size);
    const parts: Buffer[] = [];
    for await (const chunk of content.chunks()) parts.push(chunk);
    return this.put({ ...params, Body: Buffer.concat(parts) }, content.size);
  }

  async symlink(path: string, entry: SymlinkEntry, replace: boolean): Promise<void> {
    const body = nameToBytes(entry.target);
    return this.put({ ...this.params(path, entry, replace), Body: body }, body.length);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
