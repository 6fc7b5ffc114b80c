import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type PutObjectCommandInput,
  RestoreObjectCommand,
  type S3Client,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { Semaphore } from '../../core/concurrency.js';
import { KlosetError } from '../../core/errors.js';
import type {
  LocationState,
  ListedKind,
  ObjectInfo,
  ObjectKind,
  PutOptions,
  StoreBackend,
  ThawOptions,
  ThawState,
} from '../../core/store-backend.js';
import { S3_TIER, archiveTerms, thawStateOf } from './s3-archive.js';
import { createS3Client } from './s3-client.js';
import { isPreconditionFailed, s3ErrorName } from './s3-errors.js';
import { type S3Settings, parseS3Location } from './s3-options.js';
import { anyKeyUnder, encryptionParams, isMissingKey, putObject, s3Call } from './s3-requests.js';
import type { S3Location } from '../../core/location.js';
import { missingObject, noStoreAt } from '../store-errors.js';
import { objectPath } from '../store-layout.js';

export interface S3StoreTuning {
  /** objects from this size on are sent as multipart uploads (S3's minimum part is 5 MiB) */
  readonly multipartThreshold?: number;
  /** part size of multipart uploads */
  readonly partSize?: number;
  /** requests in flight at once for this store */
  readonly concurrency?: number;
}

const DEFAULT_TUNING: Required<S3StoreTuning> = {
  multipartThreshold: 32 * 1024 * 1024,
  partSize: 8 * 1024 * 1024,
  concurrency: 32,
};

/** Parts of one multipart upload in flight (inside one of the store's request slots). */
const PART_QUEUE = 4;

/**
 * A store under an S3 prefix, laid out as the fs store:
 *   PREFIX/config, PREFIX/keys/<name>, PREFIX/index/<name>, PREFIX/packs/<first 2 hex>/<name>
 * Objects are written once: a HEAD before the write (s3rver and some S3-compatible services
 * ignore conditions), then a PutObject with `If-None-Match: *` where the service enforces it.
 * Names are content hashes, so losing a race to the same name is harmless; only `config` must
 * not be written twice, and there a conflict is STORE_EXISTS.
 * With an archive class (GLACIER, DEEP_ARCHIVE) only archivable packs (data) go there; the
 * objects needed to browse the store stay STANDARD, and `thaw` retrieves data packs for a restore.
 */
export class S3Store implements StoreBackend {
  readonly location: string;
  readonly settings: S3Settings;
  /** the SDK client (tests watch its requests through its middleware stack) */
  readonly client: S3Client;
  private readonly base: string;
  private readonly tuning: Required<S3StoreTuning>;
  private readonly slots: Semaphore;

  constructor(location: S3Location, tuning: S3StoreTuning = {}) {
    this.settings = parseS3Location(location);
    this.location = this.settings.location;
    this.base = this.settings.prefix ? `${this.settings.prefix}/` : '';
    this.tuning = { ...DEFAULT_TUNING, ...tuning };
    this.slots = new Semaphore(this.tuning.concurrency);
    this.client = createS3Client(this.settings);
  }

  get bucket(): string {
    return this.settings.bucket;
  }

  /** The object key of a store object. */
  key(kind: ObjectKind, name: string): string {
    return `${this.base}${objectPath(kind, name)}`;
  }

  private send<T>(action: string, fn: () => Promise<T>): Promise<T> {
    return this.slots.run(() => s3Call(this.settings, action, fn));
  }

  /** Whether a read of the object failed because it does not exist (its own request slot). */
  private missing(kind: ObjectKind, name: string, err: unknown): Promise<boolean> {
    return this.slots.run(() => isMissingKey(this.client, this.settings, this.key(kind, name), err));
  }

  /**
   * Whether the bucket exists and anything lies under the prefix. A listing rather than
   * HeadBucket: HEAD answers have no body, so a refused access key would only say "403".
   */
  private async peek(): Promise<'no bucket' | 'objects' | 'nothing'> {
    try {
      const any = await this.slots.run(() => anyKeyUnder(this.client, this.settings, this.base));
      return any ? 'objects' : 'nothing';
    } catch (err) {
      if (err instanceof KlosetError && err.code === 'BUCKET_NOT_FOUND') return 'no bucket';
      throw err;
    }
  }

  async probe(): Promise<LocationState> {
    const seen = await this.peek();
    if (seen === 'no bucket') return 'absent';
    if (seen === 'nothing') return 'empty';
    return (await this.stat('config', 'config')) !== undefined ? 'store' : 'other';
  }

  async prepare(): Promise<void> {
    // kloud does not create buckets: where and how (region, policies, lifecycle) is the owner's choice
    const state = await this.probe();
    if (state === 'absent') throw new KlosetError('BUCKET_NOT_FOUND', `bucket ${this.bucket} does not exist`);
    if (state === 'store')
      throw new KlosetError('STORE_EXISTS', `a store already exists at ${this.location}`);
    if (state === 'other') {
      throw new KlosetError('STORE_EXISTS', `${this.location} is not empty; choose an empty or new prefix`);
    }
  }

  async put(kind: ObjectKind, name: string, parts: readonly Buffer[], opts?: PutOptions): Promise<void> {
    if ((await this.stat(kind, name)) !== undefined) return this.exists(kind);
    const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    const params: PutObjectCommandInput = {
      Bucket: this.bucket,
      Key: this.key(kind, name),
      Body: body,
      ContentType: 'application/octet-stream',
      IfNoneMatch: '*',
      ...(kind === 'packs' && { StorageClass: this.packClass(opts) }),
      ...encryptionParams(this.settings),
    };
    try {
      const { multipartThreshold: threshold, partSize } = this.tuning;
      await this.slots.run(() =>
        putObject(this.client, this.settings, params, body.length, {
          threshold,
          partSize,
          queueSize: PART_QUEUE,
        }),
      );
    } catch (err) {
      if (!(err instanceof KlosetError) || !isPreconditionFailed(err.cause)) throw err;
      return this.exists(kind);
    }
  }

  /** A pack's class: the configured one, except that only archivable packs go to an archive class. */
  private packClass(opts: PutOptions | undefined): PutObjectCommandInput['StorageClass'] {
    const configured = this.settings.storageClass;
    if (archiveTerms(configured) && !opts?.archivable) return undefined;
    return configured;
  }

  /** The object is there already: same content by its name, except for `config`. */
  private exists(kind: ObjectKind): void {
    if (kind === 'config')
      throw new KlosetError('STORE_EXISTS', `a store already exists at ${this.location}`);
  }

  async get(kind: ObjectKind, name: string): Promise<Buffer> {
    try {
      return (await this.read(kind, name)).data;
    } catch (err) {
      if (kind === 'config' && (await this.missing(kind, name, err))) throw await this.noStore();
      throw err;
    }
  }

  async getRange(kind: ObjectKind, name: string, offset: number, length: number): Promise<Buffer> {
    if (length === 0) return Buffer.alloc(0);
    const { data, start } = await this.read(kind, name, `bytes=${offset}-${offset + length - 1}`);
    // s3rver 3.7.1 answers `bytes=0-0` with the whole object: keep the bytes asked for
    if (start === offset && data.length >= length) return data.subarray(0, length);
    if (start !== offset)
      throw new KlosetError('IO', `${this.location} answered a ranged read with other bytes`);
    throw new KlosetError(
      'CORRUPT',
      `${kind} object ${name.slice(0, 12)} in ${this.location} is shorter than its index says`,
    );
  }

  /** An object's bytes, and where they start (from Content-Range; 0 without a range). */
  private async read(
    kind: ObjectKind,
    name: string,
    range?: string,
  ): Promise<{ data: Buffer; start: number }> {
    try {
      return await this.send('GetObject', async () => {
        const res = await this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: this.key(kind, name), Range: range }),
        );
        const bytes = await res.Body!.transformToByteArray();
        const start = Number(/^bytes (\d+)-/.exec(res.ContentRange ?? '')?.[1] ?? 0);
        return { data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), start };
      });
    } catch (err) {
      if (kind === 'config' || !(err instanceof KlosetError)) throw err;
      if (await this.missing(kind, name, err)) throw missingObject(this.location, kind, name, err);
      if (s3ErrorName(err.cause) === 'InvalidObjectState') {
        const storageClass = (err.cause as { StorageClass?: string }).StorageClass ?? 'archive storage';
        throw new KlosetError(
          'ARCHIVED',
          `${kind} object ${name.slice(0, 12)} of ${this.location} is in ${storageClass} and has not been retrieved`,
          { cause: err },
        );
      }
      if ((err.cause as { name?: string }).name === 'InvalidRange')
        throw new KlosetError(
          'CORRUPT',
          `${kind} object ${name.slice(0, 12)} in ${this.location} is shorter than its index says`,
          { cause: err },
        );
      throw err;
    }
  }

  private async noStore(): Promise<KlosetError> {
    const seen = await this.peek();
    if (seen === 'no bucket')
      return new KlosetError('BUCKET_NOT_FOUND', `bucket ${this.bucket} does not exist`);
    return noStoreAt(this.location, seen === 'objects');
  }

  async stat(kind: ObjectKind, name: string): Promise<number | undefined> {
    try {
      const res = await this.send('HeadObject', () =>
        this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(kind, name) })),
      );
      return res.ContentLength ?? 0;
    } catch (err) {
      if (await this.missing(kind, name, err)) return undefined;
      throw err;
    }
  }

  async *list(kind: ListedKind): AsyncIterable<ObjectInfo> {
    const prefix = `${this.base}${kind}/`;
    const pages = paginateListObjectsV2(
      { client: this.client, pageSize: 1000 },
      { Bucket: this.bucket, Prefix: prefix },
    );
    const iterator = pages[Symbol.asyncIterator]();
    for (;;) {
      const page = await this.send('ListObjectsV2', () => iterator.next());
      if (page.done) return;
      for (const o of page.value.Contents ?? []) {
        const rel = o.Key!.slice(prefix.length);
        const depth = rel.split('/').length;
        // packs live one level down (packs/ab/ab12...), the other kinds directly under their folder
        if (rel.endsWith('/') || depth !== (kind === 'packs' ? 2 : 1)) continue;
        yield {
          name: rel.slice(rel.lastIndexOf('/') + 1),
          size: o.Size ?? 0,
          ...(o.LastModified && { modifiedAt: o.LastModified.getTime() }),
          ...(archiveTerms(o.StorageClass) && { archived: true, archive: archiveTerms(o.StorageClass) }),
        };
      }
    }
  }

  async delete(kind: ObjectKind, name: string): Promise<void> {
    // S3 deletes are idempotent: a missing object is not an error
    await this.send('DeleteObject', () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(kind, name) })),
    );
  }

  async thawState(kind: ObjectKind, name: string): Promise<ThawState> {
    try {
      const res = await this.send('HeadObject', () =>
        this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(kind, name) })),
      );
      return thawStateOf(res.StorageClass, res.Restore);
    } catch (err) {
      if (await this.missing(kind, name, err)) throw missingObject(this.location, kind, name, err);
      throw err;
    }
  }

  async thaw(kind: ObjectKind, name: string, opts: ThawOptions): Promise<void> {
    try {
      await this.send('RestoreObject', () =>
        this.client.send(
          new RestoreObjectCommand({
            Bucket: this.bucket,
            Key: this.key(kind, name),
            RestoreRequest: { Days: opts.days, GlacierJobParameters: { Tier: S3_TIER[opts.tier] } },
          }),
        ),
      );
    } catch (err) {
      const cause = err instanceof KlosetError ? err.cause : err;
      const s3Name = s3ErrorName(cause);
      // asked already (by an earlier run or another user), or no longer archived: nothing to do
      if (s3Name === 'RestoreAlreadyInProgress' || s3Name === 'InvalidObjectState') return;
      if (s3Name === 'GlacierExpeditedRetrievalNotAvailable')
        throw new KlosetError('IO', `S3 has no capacity for expedited retrievals right now`, { cause });
      throw err;
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
