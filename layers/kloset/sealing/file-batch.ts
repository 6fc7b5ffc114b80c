import { ID_SIZE } from '../crypto/mac.js';
import { MAX_SEAL_GROWTH } from './blob-batch.js';

/**
 * Small files for a sealing thread to read, cut, name and seal itself, one message per batch:
 * the main thread only walks. The buffer (moved, not copied) comes back holding the sealed chunks.
 */
export interface FileBatch {
  readonly buffer: Uint8Array;
  readonly paths: readonly string[];
}

/**
 * What became of one file: its size and how many chunks it gave (in order in the answer), an
 * error to report, or `tooLarge` when it had grown past the room left in the batch.
 */
export type FileOutcome =
  | { readonly size: number; readonly chunks: number }
  | { readonly error: { readonly code?: string; readonly message: string } }
  | { readonly tooLarge: true };

/** The answer: per file an outcome; per chunk, in file order, its ID and lengths. */
export interface SealedFiles {
  /** the batch's buffer, holding the sealed chunks back to back */
  readonly buffer: Uint8Array;
  readonly files: readonly FileOutcome[];
  /** ID_SIZE bytes per chunk */
  readonly ids: Uint8Array;
  readonly lengths: Uint32Array;
  readonly rawLengths: Uint32Array;
}

/** Room a file of `size` bytes needs in a batch: its chunks, each grown by sealing. */
export function sealedRoom(size: number, minChunk: number): number {
  return size + (Math.ceil(size / minChunk) + 1) * MAX_SEAL_GROWTH;
}

export function sealedFilesTransferList(sealed: SealedFiles): ArrayBuffer[] {
  const { buffer, ids, lengths, rawLengths } = sealed;
  return [buffer, ids, lengths, rawLengths].map((a) => a.buffer as ArrayBuffer);
}

/** Gathers the files of one batch, as many as their sizes (when walked) leave room for. */
export class FileBatchBuilder {
  readonly paths: string[] = [];
  private room: number;

  constructor(
    private readonly buffer: Buffer,
    private readonly maxFiles: number,
    private readonly minChunk: number,
  ) {
    this.room = buffer.length;
  }

  fits(size: number): boolean {
    return this.paths.length < this.maxFiles && sealedRoom(size, this.minChunk) <= this.room;
  }

  add(path: string, size: number): void {
    this.paths.push(path);
    this.room -= sealedRoom(size, this.minChunk);
  }

  finish(): FileBatch {
    return { buffer: this.buffer, paths: this.paths };
  }
}

/** The IDs of the chunks of a sealed batch as Buffers (views of the answer's ID array). */
export function chunkIds(sealed: SealedFiles): Buffer[] {
  const { ids } = sealed;
  return Array.from(sealed.lengths, (_, i) => Buffer.from(ids.buffer, ids.byteOffset + i * ID_SIZE, ID_SIZE));
}
