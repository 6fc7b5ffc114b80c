import { encodePayload } from '../compression/codec.js';
import { SpareBuffers } from '../core/concurrency.js';
import { KlosetError, errnoCode, errorText } from '../core/errors.js';
import { type BlobType, PackKind, packKindOf } from '../format/blob.js';
import { sealIndexTable } from '../index/index-delta.js';
import { type BlobRecord, IndexTable, type PackInfo } from '../index/index-table.js';
import { PackBuilder } from '../pack/pack-builder.js';
import type { PackedBlob } from '../pack/pack-format.js';
import type { Repository } from './repository.js';

export interface WriterStats {
  /** blobs this writer stored */
  newBlobs: number;
  /** their plaintext bytes */
  newRawBytes: number;
  /** their sealed (compressed, encrypted) bytes */
  newSealedBytes: number;
  /** bytes of packs and index delta written */
  storedBytes: number;
}

export interface WriterOptions {
  /** compute everything, write nothing */
  dryRun?: boolean;
  /** packs being uploaded at once per writer (memory = this × pack size) */
  maxUploads?: number;
}

/** Pack segments kept for reuse: about three 16 MiB data packs (two uploading, one filling). */
const SEGMENTS_KEPT = 16;

const WRITE_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EIO: 'input/output error',
};

/** A failed write, said plainly; nothing was committed, so the store stays as it was. */
function writeError(err: unknown, location: string): KlosetError {
  if (err instanceof KlosetError) return err;
  const code = errnoCode(err);
  const why = (code && WRITE_ERRORS[code]) ?? errorText(err);
  return new KlosetError(
    'IO',
    `writing to ${location} failed: ${why}; nothing was committed, the store is unchanged`,
    {
      cause: err,
    },
  );
}

/**
 * One writer of a store (a backup, a batch worker, a sync): seals new blobs into data and
 * metadata packs, uploads full packs with bounded concurrency, and at commit writes one
 * immutable index delta listing everything it wrote plus the snapshots it adds or removes.
 * Writers never coordinate: a blob written twice by concurrent writers is harmless.
 */
export class RepositoryWriter {
  readonly stats: WriterStats = { newBlobs: 0, newRawBytes: 0, newSealedBytes: 0, storedBytes: 0 };
  private readonly segments = new SpareBuffers(SEGMENTS_KEPT);
  private readonly builders = new Map<PackKind, PackBuilder>([
    [PackKind.Data, new PackBuilder(PackKind.Data, this.segments)],
    [PackKind.Metadata, new PackBuilder(PackKind.Metadata, this.segments)],
  ]);
  /** IDs (latin1 keys) this writer has taken on, stored or in flight */
  private readonly claimed = new Set<string>();
  private readonly packs: PackInfo[] = [];
  private readonly records: BlobRecord[] = [];
  private readonly uploads = new Set<Promise<void>>();
  private failure: unknown;

  constructor(
    readonly repo: Repository,
    private readonly opts: WriterOptions = {},
  ) {}

  /**
   * Whether the store (as indexed when opened) or this writer already holds the blob. A blob
   * only in packs a prune plan names counts as absent: those packs are about to be deleted.
   */
  has(id: Buffer): boolean {
    if (this.claimed.has(id.toString('latin1'))) return true;
    const planned = this.repo.plannedPacks;
    if (planned.size === 0) return this.repo.index.has(id);
    const pack = this.repo.index.find(id)?.pack.name;
    return pack !== undefined && !planned.has(pack);
  }

  /**
   * Takes a blob on unless the store or this writer already holds it; returns whether it is new.
   * A claimed blob must then be added (`addSealed`) before the commit.
   */
  claim(id: Buffer): boolean {
    this.throwIfFailed();
    if (this.has(id)) return false;
    this.claimed.add(id.toString('latin1'));
    return true;
  }

  /**
   * Stores a blob unless it is known. Resolves once the blob sits in a pack builder (not
   * necessarily uploaded); `commit` waits for the uploads. `data` is read after awaits: it must
   * stay unchanged until the returned promise settles.
   */
  async saveBlob(
    type: BlobType,
    data: Buffer,
    id = this.repo.mac.blobId(data),
  ): Promise<{ id: Buffer; isNew: boolean }> {
    if (!this.claim(id)) return { id, isNew: false };
    const { compression } = this.repo.config;
    const payload = await encodePayload(data, compression.algorithm, compression.level);
    await this.addSealed(type, id, this.repo.cipher.seal(type, id, payload), data.length);
    return { id, isNew: true };
  }

  /**
   * Adds a claimed blob, sealed here or in a worker thread, to its pack; writes the pack once it
   * is full, waiting while too many uploads are in flight.
   */
  async addSealed(type: BlobType, id: Buffer, sealed: readonly Buffer[], rawLength: number): Promise<void> {
    this.throwIfFailed();
    const kind = packKindOf(type);
    const builder = this.builders.get(kind)!;
    const before = builder.size;
    builder.add(id, type, sealed, rawLength);
    this.stats.newSealedBytes += builder.size - before;
    this.stats.newBlobs++;
    this.stats.newRawBytes += rawLength;
    if (builder.size >= this.repo.config.packing.targetSize) await this.flushPack(kind);
  }

  /** Lists an existing pack (found unindexed) in this writer's delta, so its blobs are reused. */
  adoptPack(pack: PackInfo, blobs: readonly PackedBlob[]): void {
    const packNo = this.packs.push(pack) - 1;
    for (const b of blobs) {
      this.claimed.add(b.id.toString('latin1'));
      this.records.push({ ...b, packNo });
    }
  }

  private async flushPack(kind: PackKind): Promise<void> {
    const builder = this.builders.get(kind)!;
    if (builder.count === 0) return;
    this.builders.set(kind, new PackBuilder(kind, this.segments));
    const { pack, blobs } = builder.finish(this.repo.cipher, this.repo.mac.authenticator);
    const upload = (
      this.opts.dryRun
        ? Promise.resolve()
        : this.repo.backend.put('packs', pack.name, pack.parts, { archivable: kind === PackKind.Data })
    ).then(
      () => {
        const packNo = this.packs.push({ name: pack.name, kind, size: pack.size }) - 1;
        for (const b of blobs) this.records.push({ ...b, packNo });
        this.stats.storedBytes += pack.size;
        // written: nothing reads the segments any more (after a failure, a retry might)
        builder.recycle();
      },
      (err: unknown) => {
        this.failure ??= writeError(err, this.repo.backend.location);
      },
    );
    const tracked = upload.finally(() => this.uploads.delete(tracked));
    this.uploads.add(tracked);
    while (this.uploads.size >= (this.opts.maxUploads ?? 2)) await Promise.race(this.uploads);
    this.throwIfFailed();
  }

  /** Throws the first upload failure: the writer takes nothing on after one. */
  throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /** Writes out every partly filled pack and waits for all uploads. */
  async flush(): Promise<void> {
    await this.flushPack(PackKind.Data);
    await this.flushPack(PackKind.Metadata);
    await Promise.all(this.uploads);
    this.throwIfFailed();
  }

  /**
   * Flushes, then writes the index delta: the moment the snapshots it names become visible.
   * Returns the delta's name, or undefined when there was nothing to record.
   */
  async commit(
    change: { snapshots?: readonly string[]; tombstones?: readonly string[] } = {},
  ): Promise<string | undefined> {
    await this.flush();
    const table = IndexTable.fromRecords(this.packs, this.records, change.snapshots, change.tombstones);
    if (table.blobCount === 0 && table.snapshots.length === 0 && table.tombstones.length === 0)
      return undefined;
    const sealed = await sealIndexTable(table, this.repo.cipher, this.repo.mac.authenticator);
    if (!this.opts.dryRun) {
      await this.repo.backend.put('index', sealed.name, sealed.parts).catch((err: unknown) => {
        throw writeError(err, this.repo.backend.location);
      });
    }
    this.stats.storedBytes += sealed.size;
    return sealed.name;
  }
}
