import { SpareBuffers } from '../core/concurrency.js';
import type { BlobCipher } from '../crypto/blob-cipher.js';
import type { BlobType, PackKind } from '../format/blob.js';
import {
  type Authenticator,
  HEADER_SIZE,
  ObjectType,
  type SealedObject,
  sealObject,
} from '../format/object.js';
import { type PackedBlob, encodeFooter, sealPackIndex } from './pack-format.js';

/** Blob data is held in segments of this size: no buffer grows, nothing is copied twice. */
const SEGMENT_SIZE = 4 * 1024 * 1024;

/**
 * Collects sealed blobs of one pack kind until the pack is large enough to write. Blobs are
 * copied into segments of the pack's own, since the buffers they arrive in are handed round
 * again; a blob may straddle two segments (the pack is written as their concatenation).
 */
export class PackBuilder {
  private readonly segments: Buffer[] = [];
  /** bytes used in the last segment */
  private filled = SEGMENT_SIZE;
  private blobs: PackedBlob[] = [];
  private offset = HEADER_SIZE;

  constructor(
    readonly kind: PackKind,
    /** segments of packs already written, for this one (a writer writes hundreds of packs) */
    private readonly spares = new SpareBuffers(0),
  ) {}

  add(id: Buffer, type: BlobType, sealed: readonly Buffer[], rawLength: number): void {
    let length = 0;
    for (const part of sealed) {
      for (let at = 0; at < part.length;) {
        if (this.filled === SEGMENT_SIZE) {
          this.segments.push(this.spares.take(SEGMENT_SIZE));
          this.filled = 0;
        }
        const copied = part.copy(this.segments.at(-1)!, this.filled, at);
        this.filled += copied;
        at += copied;
      }
      length += part.length;
    }
    this.blobs.push({ id, type, offset: this.offset, length, rawLength });
    this.offset += length;
  }

  /** Bytes of blob data so far (header included). */
  get size(): number {
    return this.offset;
  }

  get count(): number {
    return this.blobs.length;
  }

  finish(cipher: BlobCipher, auth: Authenticator): { pack: SealedObject; blobs: PackedBlob[] } {
    const index = sealPackIndex(this.blobs, cipher);
    const indexLength = index.reduce((n, p) => n + p.length, 0);
    const pack = sealObject(
      ObjectType.Pack,
      [
        ...this.segments.slice(0, -1),
        this.segments.at(-1)!.subarray(0, this.filled),
        ...index,
        encodeFooter(this.offset, indexLength),
      ],
      auth,
      this.kind,
    );
    return { pack, blobs: this.blobs };
  }

  /** Hands the segments back to the spares: call once the finished pack is written, never before. */
  recycle(): void {
    this.spares.give(...this.segments.splice(0));
  }
}
