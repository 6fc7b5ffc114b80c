import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { FastCdc } from '../chunker/fastcdc.js';
import { ID_SIZE, StoreMac } from '../crypto/mac.js';
import { errnoCode, errorText } from '../core/errors.js';
import { BlobType } from '../format/blob.js';
import { fsPath } from '../core/byte-names.js';
import type { BatchSealer, SealSettings } from './batch-sealer.js';
import { type FileBatch, type FileOutcome, type SealedFiles, sealedRoom } from './file-batch.js';

/** Room for the chunk records of a batch, grown as needed. */
class ChunkRecords {
  ids = new Uint8Array(0);
  lengths = new Uint32Array(0);
  rawLengths = new Uint32Array(0);
  count = 0;

  push(id: Buffer, length: number, rawLength: number): void {
    if (this.count === this.lengths.length) this.grow(Math.max(64, this.count * 2));
    this.ids.set(id, this.count * ID_SIZE);
    this.lengths[this.count] = length;
    this.rawLengths[this.count++] = rawLength;
  }

  private grow(capacity: number): void {
    const ids = new Uint8Array(capacity * ID_SIZE);
    ids.set(this.ids);
    this.ids = ids;
    const lengths = new Uint32Array(capacity);
    lengths.set(this.lengths);
    this.lengths = lengths;
    const rawLengths = new Uint32Array(capacity);
    rawLengths.set(this.rawLengths);
    this.rawLengths = rawLengths;
  }
}

/**
 * Reads a batch of small files in a sealing thread, cuts them into chunks, names each chunk by
 * its MAC and seals it into the batch's buffer: what the main thread does for files it streams,
 * without their bytes ever crossing to it. Every chunk is sealed; the main thread drops the ones
 * the store already holds (small files are mostly one chunk, and new when they were read).
 */
export class FileSealer {
  private readonly chunker: FastCdc;
  private readonly mac: StoreMac;
  /** one file's content, reused from file to file */
  private input = Buffer.alloc(0);

  constructor(
    settings: SealSettings,
    private readonly blobs: BatchSealer,
  ) {
    this.chunker = new FastCdc(settings.chunking);
    this.mac = new StoreMac(Buffer.from(settings.macKey));
  }

  seal(batch: FileBatch): SealedFiles {
    const out = Buffer.from(batch.buffer.buffer, batch.buffer.byteOffset, batch.buffer.length);
    if (this.input.length < out.length) this.input = Buffer.allocUnsafeSlow(out.length);
    const chunks = new ChunkRecords();
    let at = 0;
    const files = batch.paths.map((path): FileOutcome => {
      const size = this.read(path, out.length - at);
      if (typeof size !== 'number') return size;
      const first = chunks.count;
      for (let start = 0; start < size;) {
        const n = this.chunker.cut(this.input, start, size);
        const data = this.input.subarray(start, start + n);
        const id = this.mac.blobId(data);
        const length = this.blobs.sealInto(BlobType.Data, id, data, out, at);
        chunks.push(id, length, n);
        at += length;
        start += n;
      }
      return { size, chunks: chunks.count - first };
    });
    const n = chunks.count;
    return {
      buffer: batch.buffer,
      files,
      ids: chunks.ids.slice(0, n * ID_SIZE),
      lengths: chunks.lengths.slice(0, n),
      rawLengths: chunks.rawLengths.slice(0, n),
    };
  }

  /** Reads a whole file into `input`: its size, or why not. */
  private read(path: string, room: number): number | FileOutcome {
    let fd: number;
    try {
      // O_NONBLOCK: a file replaced by a FIFO since the walk must not block the thread
      fd = openSync(fsPath(path), constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (err) {
      return failed(err);
    }
    try {
      if (!fstatSync(fd).isFile()) return { error: { message: 'no longer a regular file' } };
      let size = 0;
      for (;;) {
        // `input` is larger than the room: a file that grew past it is read again on its own
        const n = readSync(fd, this.input, size, this.input.length - size, size);
        size += n;
        if (sealedRoom(size, this.chunker.params.min) > room) return { tooLarge: true };
        if (n === 0) return size;
      }
    } catch (err) {
      return failed(err);
    } finally {
      closeSync(fd);
    }
  }
}

function failed(err: unknown): FileOutcome {
  const message = errorText(err);
  const code = errnoCode(err);
  return { error: code ? { code, message } : { message } };
}
