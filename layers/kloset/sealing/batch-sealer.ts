import type { ChunkingParams } from '../chunker/fastcdc.js';
import { type CompressionAlgorithm, encodePayloadSync } from '../compression/codec.js';
import { type BlobCipher, type CipherSpec, cipherFromSpec } from '../crypto/blob-cipher.js';
import { ID_SIZE } from '../crypto/mac.js';
import type { BlobType } from '../format/blob.js';
import type { PlainBatch, SealedBatch } from './blob-batch.js';

/** What a sealing thread needs of the store, given once when it starts. */
export interface SealSettings {
  readonly cipher: CipherSpec;
  readonly compression: { readonly algorithm: CompressionAlgorithm; readonly level: number };
  /** for threads that read files: how to cut them and name the chunks */
  readonly chunking: ChunkingParams;
  readonly macKey: Uint8Array;
}

function view(a: Uint8Array, offset: number, length: number): Buffer {
  return Buffer.from(a.buffer, a.byteOffset + offset, length);
}

/**
 * Compresses and encrypts blobs exactly as `RepositoryWriter.saveBlob` does: the same payload
 * encoding and the same AEAD, so a reader cannot tell them apart.
 */
export class BatchSealer {
  private readonly cipher: BlobCipher;
  /** sealed blobs are gathered here, then copied over the plaintexts into the batch's buffer */
  private output = Buffer.alloc(0);

  constructor(private readonly settings: SealSettings) {
    this.cipher = cipherFromSpec(settings.cipher);
  }

  /** Seals one blob into `out` at `at`; returns its sealed length. */
  sealInto(type: BlobType, id: Buffer, data: Buffer, out: Buffer, at: number): number {
    const { algorithm, level } = this.settings.compression;
    let to = at;
    for (const part of this.cipher.seal(type, id, encodePayloadSync(data, algorithm, level)))
      to += part.copy(out, to);
    return to - at;
  }

  seal(batch: PlainBatch): SealedBatch {
    if (this.output.length < batch.buffer.length) this.output = Buffer.allocUnsafeSlow(batch.buffer.length);
    const lengths = new Uint32Array(batch.lengths.length);
    let from = 0;
    let to = 0;
    for (let i = 0; i < lengths.length; i++) {
      const data = view(batch.buffer, from, batch.lengths[i]!);
      from += data.length;
      const id = view(batch.ids, i * ID_SIZE, ID_SIZE);
      lengths[i] = this.sealInto(batch.types[i] as BlobType, id, data, this.output, to);
      to += lengths[i]!;
    }
    batch.buffer.set(this.output.subarray(0, to));
    return { buffer: batch.buffer, lengths };
  }
}
