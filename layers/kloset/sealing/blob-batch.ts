import { MAX_CIPHER_OVERHEAD } from '../crypto/blob-cipher.js';
import { ID_SIZE } from '../crypto/mac.js';
import type { BlobType } from '../format/blob.js';

/**
 * A sealed blob is at most this much longer than its plaintext: the codec byte (zstd output that
 * does not shrink the blob is dropped for the raw bytes) and the cipher's nonce and tag.
 */
export const MAX_SEAL_GROWTH = 1 + MAX_CIPHER_OVERHEAD;

/**
 * Blobs on their way to be sealed, one message per batch. Each array is a view of its own
 * ArrayBuffer, moved with the message rather than copied (`transferList`).
 */
export interface PlainBatch {
  /** a whole buffer: the plaintexts back to back from its start, room for their growth after */
  readonly buffer: Uint8Array;
  /** the blob IDs, ID_SIZE bytes each */
  readonly ids: Uint8Array;
  readonly types: Uint8Array;
  readonly lengths: Uint32Array;
}

/** The answer, in the same buffer: the sealed blobs back to back, in the order of the batch. */
export interface SealedBatch {
  readonly buffer: Uint8Array;
  readonly lengths: Uint32Array;
}

/** A blob of a batch as the main thread keeps it while the batch is away. */
export interface BatchedBlob {
  readonly type: BlobType;
  readonly id: Buffer;
  readonly rawLength: number;
}

export function transferList(batch: PlainBatch | SealedBatch): ArrayBuffer[] {
  return Object.values(batch).map((a: Uint8Array | Uint32Array) => a.buffer as ArrayBuffer);
}

/** Fills one plain batch, in a buffer that goes to the sealer and comes back sealed. */
export class PlainBatchBuilder {
  private readonly ids: Uint8Array;
  private readonly types: Uint8Array;
  private readonly lengths: Uint32Array;
  readonly blobs: BatchedBlob[] = [];
  /** plaintext bytes in the batch */
  bytes = 0;

  constructor(
    private readonly buffer: Buffer,
    maxBlobs: number,
  ) {
    this.ids = new Uint8Array(maxBlobs * ID_SIZE);
    this.types = new Uint8Array(maxBlobs);
    this.lengths = new Uint32Array(maxBlobs);
  }

  /** Whether a blob of `length` bytes fits, with room for every blob to grow when sealed. */
  fits(length: number): boolean {
    const sealedMax = this.bytes + length + (this.blobs.length + 1) * MAX_SEAL_GROWTH;
    return this.blobs.length < this.types.length && sealedMax <= this.buffer.length;
  }

  /**
   * Copies a blob in: what the reader and the chunker hand over are views of buffers that
   * cannot be moved to another thread (file reads, Node's small-buffer pool).
   */
  add(type: BlobType, id: Buffer, data: Uint8Array): void {
    const i = this.blobs.length;
    this.buffer.set(data, this.bytes);
    this.ids.set(id, i * ID_SIZE);
    this.types[i] = type;
    this.lengths[i] = data.length;
    this.blobs.push({ type, id, rawLength: data.length });
    this.bytes += data.length;
  }

  finish(): PlainBatch {
    const n = this.blobs.length;
    return {
      buffer: this.buffer,
      ids: this.ids.subarray(0, n * ID_SIZE),
      types: this.types.subarray(0, n),
      lengths: this.lengths.subarray(0, n),
    };
  }
}
