import type { BlobCipher } from '../crypto/blob-cipher.js';
import type { StoreBackend } from '../core/store-backend.js';
import { corrupt } from '../core/errors.js';
import type { PackKind } from '../format/blob.js';
import { type Authenticator, HEADER_SIZE, ObjectType, TRAILER_SIZE, readHeader } from '../format/object.js';
import {
  PACK_TAIL_SIZE,
  type PackedBlob,
  decodeFooter,
  openPackIndex,
  packKindFromFlags,
} from './pack-format.js';

/** Reads a pack's header and own index with three small ranged reads: no data is read. */
export async function readPackIndex(
  backend: StoreBackend,
  cipher: BlobCipher,
  name: string,
  size: number,
): Promise<{ kind: PackKind; blobs: PackedBlob[] }> {
  const what = `pack ${name.slice(0, 12)}`;
  if (size < PACK_TAIL_SIZE) throw corrupt(`${what} is truncated (${size} bytes)`);
  const header = readHeader(await backend.getRange('packs', name, 0, HEADER_SIZE), ObjectType.Pack, what);
  const kind = packKindFromFlags(header.flags, what);
  const tail = await backend.getRange('packs', name, size - PACK_TAIL_SIZE, PACK_TAIL_SIZE);
  const { offset, length } = decodeFooter(tail, size, what);
  return {
    kind,
    blobs: openPackIndex(await backend.getRange('packs', name, offset, length), cipher, offset, what),
  };
}

export interface PackContents {
  /** whether the trailer MAC matches the whole pack */
  readonly intact: boolean;
  readonly blobs: PackedBlob[];
}

/**
 * Parses a whole pack. A trailer mismatch does not stop the parse: the blobs are still listed,
 * so a check can tell which of them are damaged.
 */
export function parsePack(data: Buffer, name: string, cipher: BlobCipher, auth: Authenticator): PackContents {
  const what = `pack ${name.slice(0, 12)}`;
  readHeader(data, ObjectType.Pack, what);
  if (data.length < PACK_TAIL_SIZE) throw corrupt(`${what} is truncated`);
  const end = data.length - TRAILER_SIZE;
  const intact =
    auth([data.subarray(0, end)]).equals(data.subarray(end)) && data.subarray(end).toString('hex') === name;
  const { offset, length } = decodeFooter(data.subarray(data.length - PACK_TAIL_SIZE), data.length, what);
  const blobs = openPackIndex(data.subarray(offset, offset + length), cipher, offset, what);
  return { intact, blobs };
}
