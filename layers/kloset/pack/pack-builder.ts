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

/** Collects sealed blobs of one pack kind in memory until the pack is large enough to write. */
export class PackBuilder {
  private parts: Buffer[] = [];
  private blobs: PackedBlob[] = [];
  private offset = HEADER_SIZE;

  constructor(readonly kind: PackKind) {}

  add(id: Buffer, type: BlobType, sealed: readonly Buffer[], rawLength: number): void {
    let length = 0;
    for (const p of sealed) {
      this.parts.push(p);
      length += p.length;
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
      [...this.parts, ...index, encodeFooter(this.offset, indexLength)],
      auth,
      this.kind,
    );
    return { pack, blobs: this.blobs };
  }
}
