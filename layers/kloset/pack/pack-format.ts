import { Codec } from '../compression/codec.js';
import type { BlobCipher } from '../crypto/blob-cipher.js';
import { ID_SIZE } from '../crypto/mac.js';
import { corrupt } from '../core/errors.js';
import { BinaryReader, BinaryWriter } from '../format/binary.js';
import { BlobType, PackKind, isBlobType } from '../format/blob.js';
import { HEADER_SIZE, TRAILER_SIZE } from '../format/object.js';

/**
 * Pack layout (docs/FORMAT.md, "Packs"):
 *
 *   header (8) | sealed blob ... | sealed pack index | footer (16) | trailer (32)
 *   footer = index offset u64 LE | index length u32 LE | "KPAK"
 *
 * The pack index lists every blob of the pack, so a pack can be read and checked alone.
 */
const FOOTER_MAGIC = Buffer.from('KPAK', 'ascii');
export const FOOTER_SIZE = 16;
export const PACK_TAIL_SIZE = FOOTER_SIZE + TRAILER_SIZE;
const ENTRY_SIZE = ID_SIZE + 1 + 4 + 4 + 4;

export interface PackedBlob {
  readonly id: Buffer;
  readonly type: BlobType;
  /** byte offset of the sealed blob in the pack */
  readonly offset: number;
  /** sealed length */
  readonly length: number;
  /** plaintext length */
  readonly rawLength: number;
}

export function packKindFromFlags(flags: number, what: string): PackKind {
  if (flags !== PackKind.Data && flags !== PackKind.Metadata)
    throw corrupt(`${what} has unknown pack kind ${flags}`);
  return flags;
}

export function sealPackIndex(blobs: readonly PackedBlob[], cipher: BlobCipher): Buffer[] {
  const w = new BinaryWriter(4 + blobs.length * ENTRY_SIZE);
  w.u32(blobs.length);
  for (const b of blobs) w.bytes(b.id).u8(b.type).u32(b.offset).u32(b.length).u32(b.rawLength);
  return cipher.seal(BlobType.PackIndex, undefined, [Buffer.of(Codec.None), w.finish()]);
}

export function encodeFooter(indexOffset: number, indexLength: number): Buffer {
  return new BinaryWriter(FOOTER_SIZE).u64(indexOffset).u32(indexLength).bytes(FOOTER_MAGIC).finish();
}

/** Locates the pack index from the last PACK_TAIL_SIZE bytes of a pack of `packSize` bytes. */
export function decodeFooter(
  tail: Buffer,
  packSize: number,
  what: string,
): { offset: number; length: number } {
  if (tail.length < PACK_TAIL_SIZE || packSize < HEADER_SIZE + PACK_TAIL_SIZE)
    throw corrupt(`${what} is truncated`);
  const footer = tail.subarray(tail.length - PACK_TAIL_SIZE, tail.length - TRAILER_SIZE);
  const r = new BinaryReader(footer, `${what} footer`);
  const offset = r.u64();
  const length = r.u32();
  if (!r.bytes(4).equals(FOOTER_MAGIC)) throw corrupt(`${what} has no pack footer (truncated or damaged)`);
  if (offset < HEADER_SIZE || offset + length !== packSize - PACK_TAIL_SIZE) {
    throw corrupt(`${what} footer points outside the pack (truncated or damaged)`);
  }
  return { offset, length };
}

export function openPackIndex(
  sealed: Buffer,
  cipher: BlobCipher,
  indexOffset: number,
  what: string,
): PackedBlob[] {
  const payload = cipher.open(BlobType.PackIndex, undefined, sealed, `${what} index`);
  if (payload[0] !== Codec.None) throw corrupt(`${what} index has unknown codec ${payload[0]}`);
  const r = new BinaryReader(payload.subarray(1), `${what} index`);
  const count = r.u32();
  const blobs: PackedBlob[] = [];
  for (let i = 0; i < count; i++) {
    const id = Buffer.from(r.bytes(ID_SIZE));
    const type = r.u8();
    const offset = r.u32();
    const length = r.u32();
    const rawLength = r.u32();
    if (!isBlobType(type)) throw corrupt(`${what} index lists a blob of unknown type ${type}`);
    if (offset < HEADER_SIZE || offset + length > indexOffset)
      throw corrupt(`${what} index points outside the pack`);
    blobs.push({ id, type, offset, length, rawLength });
  }
  r.expectEnd();
  return blobs;
}
