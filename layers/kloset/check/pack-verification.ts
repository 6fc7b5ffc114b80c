import { type CipherSpec, type BlobCipher, cipherFromSpec } from '../crypto/blob-cipher.js';
import { ID_SIZE, StoreMac } from '../crypto/mac.js';
import { errorText } from '../core/errors.js';
import type { BlobType } from '../format/blob.js';
import type { BlobLocation } from '../index/index-table.js';
import { parsePack } from '../pack/pack-reader.js';
import { openBlobSync } from '../pack/blob-opening.js';

/** What a verifying thread needs of the store, given once when it starts. */
export interface VerifySettings {
  readonly cipher: CipherSpec;
  readonly macKey: Uint8Array;
}

/**
 * A whole pack and the blobs the index places in it, crossing to a verifying thread in one
 * message; each array is a view of its own ArrayBuffer, moved rather than copied.
 */
export interface PackToVerify {
  readonly name: string;
  readonly data: Uint8Array;
  readonly ids: Uint8Array;
  readonly types: Uint8Array;
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  readonly rawLengths: Uint32Array;
}

/** A verdict, and the pack's buffer moved back so that the reader reuses it for the next pack. */
export interface VerifiedPack {
  readonly verdict: PackVerdict;
  readonly data: Uint8Array;
}

/** What a pack holds according to its own index (IDs back to back), and what did not open. */
export type PackVerdict =
  | { readonly unreadable: string }
  | {
      readonly intact: boolean;
      readonly own: { readonly ids: Uint8Array; readonly offsets: number[]; readonly lengths: number[] };
      /** for each blob of the request, why it does not open; undefined when it does */
      readonly damage: (string | undefined)[];
    };

export function packToVerify(name: string, data: Uint8Array, indexed: readonly BlobLocation[]): PackToVerify {
  const ids = new Uint8Array(indexed.length * ID_SIZE);
  indexed.forEach((b, i) => ids.set(b.id, i * ID_SIZE));
  return {
    name,
    data,
    ids,
    types: Uint8Array.from(indexed, (b) => b.type),
    offsets: Uint32Array.from(indexed, (b) => b.offset),
    lengths: Uint32Array.from(indexed, (b) => b.length),
    rawLengths: Uint32Array.from(indexed, (b) => b.rawLength),
  };
}

export function verifyTransferList(request: PackToVerify): ArrayBuffer[] {
  const { data, ids, types, offsets, lengths, rawLengths } = request;
  return [data, ids, types, offsets, lengths, rawLengths].map((a) => a.buffer as ArrayBuffer);
}

/**
 * Checks a whole pack: its trailer, its own index, and every blob the store's index places in
 * it (decrypted, decompressed, its MAC compared with its ID). Runs in a worker thread.
 */
export class PackVerifier {
  private readonly cipher: BlobCipher;
  private readonly mac: StoreMac;

  constructor(settings: VerifySettings) {
    this.cipher = cipherFromSpec(settings.cipher);
    this.mac = new StoreMac(Buffer.from(settings.macKey));
  }

  verify(request: PackToVerify): VerifiedPack {
    return { verdict: this.verdict(request), data: request.data };
  }

  private verdict(request: PackToVerify): PackVerdict {
    const data = Buffer.from(request.data.buffer, request.data.byteOffset, request.data.length);
    let contents;
    try {
      contents = parsePack(data, request.name, this.cipher, this.mac.authenticator);
    } catch (err) {
      return { unreadable: errorText(err) };
    }
    const ids = new Uint8Array(contents.blobs.length * ID_SIZE);
    contents.blobs.forEach((b, i) => ids.set(b.id, i * ID_SIZE));
    const own = {
      ids,
      offsets: contents.blobs.map((b) => b.offset),
      lengths: contents.blobs.map((b) => b.length),
    };
    const pack = { name: request.name };
    const damage = Array.from(request.types, (type, i) => {
      const id = Buffer.from(request.ids.buffer, request.ids.byteOffset + i * ID_SIZE, ID_SIZE);
      const offset = request.offsets[i]!;
      const length = request.lengths[i]!;
      const rawLength = request.rawLengths[i]!;
      try {
        openBlobSync(
          this.cipher,
          this.mac,
          { id, type: type as BlobType, length, rawLength, pack },
          data.subarray(offset, offset + length),
        );
        return undefined;
      } catch (err) {
        return errorText(err);
      }
    });
    return { intact: contents.intact, own, damage };
  }
}
