import { decodePayloadSync } from '../compression/codec.js';
import type { BlobCipher } from '../crypto/blob-cipher.js';
import type { StoreMac } from '../crypto/mac.js';
import { corrupt } from '../core/errors.js';
import { BLOB_TYPE_NAMES } from '../format/blob.js';
import type { BlobLocation } from '../index/index-table.js';

/** What opening a blob needs to know of where it sits. */
export type SealedBlobAddress = Pick<BlobLocation, 'id' | 'type' | 'length' | 'rawLength'> & {
  readonly pack: { readonly name: string };
};

/** How messages name a blob: its type, ID and pack. */
export function describeBlob(loc: SealedBlobAddress): string {
  return `${BLOB_TYPE_NAMES[loc.type]} blob ${loc.id.toString('hex').slice(0, 12)} in pack ${loc.pack.name.slice(0, 12)}`;
}

/** The payload of a sealed blob, once its length and its AEAD tag check out. */
export function decryptBlob(
  cipher: BlobCipher,
  loc: SealedBlobAddress,
  sealed: Buffer,
  what: string,
): Buffer {
  if (sealed.length !== loc.length) throw corrupt(`${what} is truncated`);
  return cipher.open(loc.type, loc.id, sealed, what);
}

/** The plaintext, once its MAC is the blob's ID. */
export function verifyBlobId(mac: StoreMac, loc: SealedBlobAddress, plain: Buffer, what: string): Buffer {
  if (!mac.blobId(plain).equals(loc.id)) throw corrupt(`${what} is damaged (content does not match its ID)`);
  return plain;
}

/**
 * Decrypts, decompresses and verifies a blob on the calling thread, for worker threads. What it
 * returns may live in a buffer the thread reuses (see `decodePayloadSync`).
 */
export function openBlobSync(
  cipher: BlobCipher,
  mac: StoreMac,
  loc: SealedBlobAddress,
  sealed: Buffer,
): Buffer {
  const what = describeBlob(loc);
  const payload = decryptBlob(cipher, loc, sealed, what);
  return verifyBlobId(mac, loc, decodePayloadSync(payload, what, loc.rawLength), what);
}
