import { availableParallelism } from 'node:os';
import { BufferPool } from '../core/concurrency.js';
import { BlobType } from '../format/blob.js';
import type { RepositoryWriter } from '../repository/repository-writer.js';
import { LazyWorkerPool } from '../workers/lazy-worker-pool.js';
import { WorkerPool } from '../workers/worker-pool.js';
import type { SealSettings } from './batch-sealer.js';
import { type BatchedBlob, MAX_SEAL_GROWTH, PlainBatchBuilder, type SealedBatch } from './blob-batch.js';
import { FileBatchBuilder, type FileOutcome, type SealedFiles, chunkIds, sealedRoom } from './file-batch.js';
import { type SealAnswer, type SealRequest, sealTransferList, sealingHandler } from './seal-requests.js';

/**
 * A batch goes out when its buffer is full (or holds this many blobs or files): one message per
 * few MiB. Buffers hold at least this much, and always the largest chunk.
 */
const MIN_BATCH_BYTES = 4 * 1024 * 1024;
const BATCH_ITEMS = 1024;
/** Sealed on the main thread before threads start: a backup adding less starts none. */
const MAIN_THREAD_BYTES = 8 * 1024 * 1024;

export type SealingWorkers = WorkerPool<SealRequest, SealAnswer>;

/** Starts worker threads sealing with `settings`, one per core by default. */
export function sealingWorkers(settings: SealSettings, size = availableParallelism()): SealingWorkers {
  return new WorkerPool('sealing', new URL('./seal-worker.js', import.meta.url), size, settings);
}

/** A file read by a sealing thread: its size and chunk IDs (hex), or why it was not read there. */
export type FileRead =
  { readonly size: number; readonly chunks: string[] } | Exclude<FileOutcome, { readonly chunks: number }>;

interface Waiting<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
}

/**
 * Seals new data in worker threads and hands it to the writer's packs. Two kinds of batches go
 * to the threads, one message each way per batch: blobs the main thread cut from a stream
 * (copied into the batch), and small files the thread reads, cuts and names itself. A batch goes
 * out when full, or at the end of the current turn of the event loop (when the walk waits for a
 * read or for a buffer), and comes back sealed in the same buffer. A fixed set of buffers
 * circulates, so the memory in flight is bounded and nothing is allocated per batch.
 */
export class SealQueue {
  private readonly sealers: LazyWorkerPool<SealRequest, SealAnswer>;
  private readonly buffers: BufferPool;
  private readonly minChunk: number;
  private blobs: PlainBatchBuilder | undefined;
  private files: { builder: FileBatchBuilder; waiting: Waiting<FileRead>[] } | undefined;
  private sendScheduled = false;
  private readonly sealing = new Set<Promise<void>>();
  private failure: unknown;

  constructor(
    private readonly writer: RepositoryWriter,
    startWorkers: (settings: SealSettings) => SealingWorkers = sealingWorkers,
  ) {
    const { cipher, config, mac } = writer.repo;
    const settings: SealSettings = {
      cipher: cipher.spec,
      compression: config.compression,
      chunking: config.chunking,
      macKey: mac.key,
    };
    this.sealers = new LazyWorkerPool(
      () => startWorkers(settings),
      () => sealingHandler(settings),
      MAIN_THREAD_BYTES,
    );
    this.minChunk = config.chunking.min;
    const size = Math.max(MIN_BATCH_BYTES, config.chunking.max + MAX_SEAL_GROWTH);
    // one batch per thread being sealed, one being filled
    this.buffers = new BufferPool(size, availableParallelism() + 1);
  }

  /** Whether a file of this size (as walked) is small enough for a sealing thread to read. */
  takesFile(size: number): boolean {
    return sealedRoom(size, this.minChunk) <= this.buffers.size;
  }

  /** Has a sealing thread read, cut and seal a file (see `takesFile`); resolves once it has. */
  async saveFile(path: string, size: number): Promise<FileRead> {
    this.throwIfFailed();
    // test for room and add with no await between: another call could send the batch meanwhile
    while (!this.files?.builder.fits(size)) await this.startFileBatch();
    const { builder, waiting } = this.files;
    builder.add(path, size);
    const read = new Promise<FileRead>((resolve, reject) => waiting.push({ resolve, reject }));
    this.scheduleSend();
    return read;
  }

  /** Queues a blob unless the store or the writer holds it already; returns whether it is new. */
  async save(type: BlobType, id: Buffer, data: Buffer): Promise<boolean> {
    this.throwIfFailed();
    if (!this.writer.claim(id)) return false;
    while (!this.blobs?.fits(data.length)) await this.startBlobBatch();
    this.blobs.add(type, id, data);
    if (this.blobs.fits(1)) this.scheduleSend();
    else this.sendBlobs();
    return true;
  }

  /** Sends what is queued and waits until every blob is in a pack builder; throws the first failure. */
  async drain(): Promise<void> {
    this.sendBlobs();
    this.sendFiles();
    await Promise.all(this.sealing);
    this.throwIfFailed();
  }

  /** Stops the worker threads. */
  async close(): Promise<void> {
    await this.sealers.close();
  }

  /** The first failure (of the writer or of a worker), rethrown: it aborts the backup. */
  throwIfFailed(): void {
    this.writer.throwIfFailed();
    if (this.failure !== undefined) throw this.failure;
  }

  private async startBlobBatch(): Promise<void> {
    this.sendBlobs();
    const buffer = await this.buffers.take();
    this.throwIfFailed();
    // another save may have started a batch while this one waited for a buffer
    if (this.blobs) this.buffers.give(buffer);
    else this.blobs = new PlainBatchBuilder(buffer, BATCH_ITEMS);
  }

  private async startFileBatch(): Promise<void> {
    this.sendFiles();
    const buffer = await this.buffers.take();
    this.throwIfFailed();
    if (this.files) this.buffers.give(buffer);
    else this.files = { builder: new FileBatchBuilder(buffer, BATCH_ITEMS, this.minChunk), waiting: [] };
  }

  private scheduleSend(): void {
    if (this.sendScheduled) return;
    this.sendScheduled = true;
    setImmediate(() => {
      this.sendScheduled = false;
      this.sendBlobs();
      this.sendFiles();
    });
  }

  private sendBlobs(): void {
    const builder = this.blobs;
    if (!builder) return;
    this.blobs = undefined;
    const request = { blobs: builder.finish() };
    this.track(
      this.sealers
        .run(request, builder.bytes, () => sealTransferList(request))
        .then((answer) => this.packBlobs(builder.blobs, (answer as { blobs: SealedBatch }).blobs)),
    );
  }

  private sendFiles(): void {
    const batch = this.files;
    if (!batch) return;
    this.files = undefined;
    const request = { files: batch.builder.finish() };
    const bytes = request.files.buffer.length;
    this.track(
      this.sealers
        .run(request, bytes, () => sealTransferList(request))
        .then((answer) => this.packFiles((answer as { files: SealedFiles }).files, batch.waiting))
        .catch((err: unknown) => {
          for (const w of batch.waiting) w.reject(err);
          throw err;
        }),
    );
  }

  /** Follows a batch until its blobs are packed; its failure aborts the backup. */
  private track(packed: Promise<void>): void {
    const done = packed
      .catch((err: unknown) => {
        this.failure ??= err;
        // its buffer is gone with the failed thread: let a waiting batch have another
        this.buffers.lose();
      })
      .finally(() => this.sealing.delete(done));
    this.sealing.add(done);
  }

  /** Adds the sealed blobs to the writer's packs (which copy them), then frees the buffer. */
  private async packBlobs(blobs: readonly BatchedBlob[], sealed: SealedBatch): Promise<void> {
    const buffer = Buffer.from(sealed.buffer.buffer, sealed.buffer.byteOffset, sealed.buffer.length);
    let at = 0;
    for (const [i, blob] of blobs.entries()) {
      const length = sealed.lengths[i]!;
      await this.writer.addSealed(blob.type, blob.id, [buffer.subarray(at, at + length)], blob.rawLength);
      at += length;
    }
    this.buffers.give(buffer);
  }

  /** Packs the chunks the store does not hold yet, then tells each file's caller what became of it. */
  private async packFiles(sealed: SealedFiles, waiting: readonly Waiting<FileRead>[]): Promise<void> {
    const buffer = Buffer.from(sealed.buffer.buffer, sealed.buffer.byteOffset, sealed.buffer.length);
    const ids = chunkIds(sealed);
    let chunk = 0;
    let at = 0;
    for (const [i, outcome] of sealed.files.entries()) {
      if (!('chunks' in outcome)) {
        waiting[i]!.resolve(outcome);
        continue;
      }
      const chunks: string[] = [];
      for (const end = chunk + outcome.chunks; chunk < end; chunk++) {
        const id = ids[chunk]!;
        const length = sealed.lengths[chunk]!;
        if (this.writer.claim(id)) {
          const blob = buffer.subarray(at, at + length);
          await this.writer.addSealed(BlobType.Data, id, [blob], sealed.rawLengths[chunk]!);
        }
        chunks.push(id.toString('hex'));
        at += length;
      }
      waiting[i]!.resolve({ size: outcome.size, chunks });
    }
    this.buffers.give(buffer);
  }
}
