import { availableParallelism } from 'node:os';
import { BufferPool, Semaphore, mapLimit } from '../core/concurrency.js';
import { ID_SIZE } from '../crypto/mac.js';
import { corrupt } from '../core/errors.js';
import type { BlobLocation } from '../index/index-table.js';
import type { Repository } from '../repository/repository.js';
import { describeBlob } from '../pack/blob-opening.js';
import { LazyWorkerPool } from '../workers/lazy-worker-pool.js';
import { WorkerPool } from '../workers/worker-pool.js';
import {
  type FileToWrite,
  FileWriter,
  type FilesToWrite,
  type WriteOutcome,
  type WriteSettings,
  writeTransferList,
} from './file-writing.js';

/** A batch closes at this many sealed bytes or files: one message, one worker wake-up. */
const BATCH_BYTES = 4 * 1024 * 1024;
const BATCH_FILES = 256;
/** Larger files are streamed by the destination instead: a batch holds a file whole in memory. */
export const MAX_BATCHED_FILE = 32 * 1024 * 1024;
/** Batches queued per thread, so that none waits for the restoring thread between two. */
const BATCHES_PER_THREAD = 2;
/** Pack reads in flight for one batch: one for a local store; remote stores answer in parallel. */
const READS_IN_FLIGHT = 8;
/**
 * Writing threads at most: each holds ~50–70 MB, and the kernel's work of creating files does
 * not spread far (here 4 threads on 2 cores were slower than 2).
 */
const MAX_WRITERS = 4;
/** A restore this small writes on the main thread and starts no thread (see LazyWorkerPool). */
const MAIN_THREAD_BYTES = 8 * 1024 * 1024;

export interface FileBatchOptions {
  /** writing threads (default: one per core) */
  readonly threads?: number;
  /** bytes written on the main thread before threads start (default 8 MiB) */
  readonly mainThreadBytes?: number;
  /** starts the writing threads (default: `write-worker.js`, one per thread) */
  readonly startWriters?: (settings: WriteSettings) => WorkerPool<FilesToWrite, WriteOutcome>;
}

interface QueuedFile {
  readonly file: FileToWrite;
  readonly done: { resolve: () => void; reject: (err: Error) => void };
}

/** Files gathered for one request, and the distinct blobs they are made of. */
class Batch {
  readonly files: QueuedFile[] = [];
  readonly blobs: BlobLocation[] = [];
  readonly blobIndex = new Map<string, number>();
  bytes = 0;

  indexOf(loc: BlobLocation): number {
    const key = loc.id.toString('latin1');
    let i = this.blobIndex.get(key);
    if (i === undefined) {
      i = this.blobs.push(loc) - 1;
      this.blobIndex.set(key, i);
      this.bytes += loc.length;
    }
    return i;
  }
}

/** Consecutive blobs of a batch stored back to back in one pack: read with one request. */
interface PackRun {
  readonly first: number;
  readonly end: number;
}

function packRuns(blobs: readonly BlobLocation[]): PackRun[] {
  const runs: PackRun[] = [];
  let first = 0;
  for (let i = 1; i <= blobs.length; i++) {
    const prev = blobs[i - 1]!;
    const b = blobs[i];
    if (b && b.pack.name === prev.pack.name && b.offset === prev.offset + prev.length) continue;
    runs.push({ first, end: i });
    first = i;
  }
  return runs;
}

/**
 * New files for a local destination, written by worker threads a batch at a time: the restoring
 * thread walks the tree, reads each batch's blobs from their packs (adjacent blobs in one read)
 * and hands the sealed bytes over; a worker opens them (decrypts, checks, decompresses) and
 * creates the files. Both cores then share the kernel's work of creating files, which is most of
 * a restore's time.
 */
export class FileBatches {
  private batch = new Batch();
  private readonly inFlight: Semaphore;
  private readonly sent = new Set<Promise<void>>();
  private readonly writers: LazyWorkerPool<FilesToWrite, WriteOutcome>;
  /**
   * Batches are read into these and the threads hand them back: fresh memory for every batch
   * cost page faults, more than the reads (a batch outgrows one only by a file larger than the
   * rest of it, and then has memory of its own).
   */
  private readonly buffers: BufferPool;
  /** why the writing threads stopped: every later file fails with it, and so does close() */
  private stopped: Error | undefined;
  /** the walk is over: a file queued now is sent at once, nothing waits for a batch to fill */
  private draining = false;

  constructor(
    private readonly repo: Repository,
    {
      threads = Math.min(availableParallelism(), MAX_WRITERS),
      mainThreadBytes = MAIN_THREAD_BYTES,
      startWriters = (settings) =>
        new WorkerPool('writing', new URL('./write-worker.js', import.meta.url), threads, settings),
    }: FileBatchOptions = {},
  ) {
    this.inFlight = new Semaphore(threads * BATCHES_PER_THREAD);
    this.buffers = new BufferPool(2 * BATCH_BYTES, threads * BATCHES_PER_THREAD);
    const settings: WriteSettings = {
      cipher: repo.cipher.spec,
      macKey: repo.mac.key,
      umask: process.umask(),
    };
    this.writers = new LazyWorkerPool(
      () => startWriters(settings),
      () => {
        const writer = new FileWriter(settings);
        return (request) => writer.write(request);
      },
      mainThreadBytes,
    );
  }

  /**
   * Queues a file made of `chunks` (blob IDs, hex); resolves once it is queued (later when enough
   * batches are in flight), and its `written` once the file is complete or has failed.
   */
  async add(
    file: Omit<FileToWrite, 'blobs'>,
    chunks: readonly string[],
  ): Promise<{ written: Promise<void> }> {
    if (this.stopped) throw this.stopped;
    const locs = chunks.map((c) => this.repo.locate(Buffer.from(c, 'hex'), 'data blob'));
    const bytes = locs.reduce((sum, l) => sum + l.length, 0);
    if (this.batch.files.length > 0 && this.batch.bytes + bytes > BATCH_BYTES) await this.flush();
    const batch = this.batch;
    const blobs = locs.map((l) => batch.indexOf(l));
    const written = new Promise<void>((resolve, reject) => {
      batch.files.push({ file: { ...file, blobs }, done: { resolve, reject } });
    });
    written.catch(() => undefined); // the caller observes it; avoid an unhandled rejection meanwhile
    if (this.draining || batch.files.length >= BATCH_FILES || batch.bytes >= BATCH_BYTES) await this.flush();
    return { written };
  }

  /** Sends the batch being gathered; resolves once a place in flight is free for the next one. */
  async flush(): Promise<void> {
    const batch = this.batch;
    if (batch.files.length === 0) return;
    this.batch = new Batch();
    await this.inFlight.acquire();
    const sending = this.send(batch)
      .catch((err: Error) => {
        // the batch itself failed (a file's own failure is answered per file): its files fail
        this.stopped ??= err;
        for (const q of batch.files) q.done.reject(err);
      })
      .finally(() => {
        this.inFlight.release();
        this.sent.delete(sending);
      });
    this.sent.add(sending);
  }

  /** Why the writing threads stopped, if they did. */
  get failure(): Error | undefined {
    return this.stopped;
  }

  /** Sends what is gathered, and from now on every file as it is queued. */
  async drain(): Promise<void> {
    this.draining = true;
    await this.flush();
  }

  /**
   * Sends what is gathered and waits until every file is written; stops the threads. Throws when
   * a thread failed: the restore stops there rather than report every later file as an error.
   */
  async close(): Promise<void> {
    try {
      await this.flush();
      await Promise.all(this.sent);
    } finally {
      await this.writers.close();
    }
    if (this.stopped) throw this.stopped;
  }

  private async send(batch: Batch): Promise<void> {
    const pooled = batch.bytes <= this.buffers.size ? await this.buffers.take() : undefined;
    let answer: WriteOutcome | undefined;
    try {
      answer = await this.write(batch, pooled ?? Buffer.allocUnsafeSlow(batch.bytes));
    } finally {
      if (pooled) this.buffers.reclaim(pooled, answer?.sealed);
    }
  }

  /** Reads the batch's blobs into `into` and has its files written; the answer, if any came. */
  private async write(batch: Batch, into: Buffer): Promise<WriteOutcome | undefined> {
    const { sealed, failed } = await this.readBlobs(batch.blobs, into);
    const files: QueuedFile[] = [];
    for (const q of batch.files) {
      const bad = q.file.blobs.find((i) => failed.has(i));
      if (bad === undefined) files.push(q);
      else q.done.reject(failed.get(bad)!);
    }
    if (files.length === 0) return undefined;
    const ids = new Uint8Array(batch.blobs.length * ID_SIZE);
    batch.blobs.forEach((b, i) => ids.set(b.id, i * ID_SIZE));
    const request: FilesToWrite = {
      files: files.map((q) => q.file),
      sealed,
      ids,
      lengths: Uint32Array.from(batch.blobs, (b) => b.length),
      rawLengths: Uint32Array.from(batch.blobs, (b) => b.rawLength),
      packs: batch.blobs.map((b) => b.pack.name),
    };
    try {
      const answer = await this.writers.run(request, sealed.length, () => writeTransferList(request));
      files.forEach((q, i) => {
        const err = answer.errors[i];
        if (err === undefined) q.done.resolve();
        else q.done.reject(new Error(err));
      });
      return answer;
    } catch (err) {
      this.stopped ??= err as Error;
      for (const q of files) q.done.reject(err as Error);
      return undefined;
    }
  }

  /**
   * The batch's sealed blobs back to back in `into`, and why those that did not read did not
   * (their place stays unwritten: no file sent uses them).
   */
  private async readBlobs(
    blobs: readonly BlobLocation[],
    into: Buffer,
  ): Promise<{ sealed: Buffer; failed: Map<number, Error> }> {
    const failed = new Map<number, Error>();
    const starts: number[] = [];
    let size = 0;
    for (const b of blobs) {
      starts.push(size);
      size += b.length;
    }
    // a connector that reads into memory of its own returns its own bytes: those are copied
    const place = (data: Buffer, at: number): void => {
      if (data.buffer !== into.buffer || data.byteOffset !== into.byteOffset + at) data.copy(into, at);
    };
    await mapLimit(packRuns(blobs), READS_IN_FLIGHT, async (run) => {
      const within = blobs.slice(run.first, run.end);
      const first = within[0]!;
      const at = starts[run.first]!;
      const length = within.reduce((sum, b) => sum + b.length, 0);
      const data = await this.repo.backend
        .getRange('packs', first.pack.name, first.offset, length, into.subarray(at, at + length))
        .catch(() => undefined);
      if (data?.length === length) return place(data, at);
      // read blob by blob: the error belongs to the files using the blob that does not read
      await Promise.all(
        within.map(async (b, k) => {
          try {
            place(await this.readBlob(b), starts[run.first + k]!);
          } catch (err) {
            failed.set(run.first + k, err as Error);
          }
        }),
      );
    });
    return { sealed: into.subarray(0, size), failed };
  }

  private async readBlob(loc: BlobLocation): Promise<Buffer> {
    const sealed = await this.repo.backend.getRange('packs', loc.pack.name, loc.offset, loc.length);
    if (sealed.length !== loc.length) throw corrupt(`${describeBlob(loc)} is truncated`);
    return sealed;
  }
}
