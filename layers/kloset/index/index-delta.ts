import { decodePayload, decodePayloadPieces, encodePayload } from '../compression/codec.js';
import type { BlobCipher } from '../crypto/blob-cipher.js';
import { BlobType } from '../format/blob.js';
import {
  type Authenticator,
  ObjectType,
  type SealedObject,
  openObject,
  sealObject,
} from '../format/object.js';
import { IndexTable } from './index-table.js';
import { PieceReader } from './piece-reader.js';

/** An index delta object: the encoded table, zstd-compressed, sealed, in the object wrapper. */
export async function sealIndexTable(
  table: IndexTable,
  cipher: BlobCipher,
  auth: Authenticator,
  prefix?: Buffer,
): Promise<SealedObject> {
  const encoded = table.encode();
  const payload = await encodePayload(prefix ? Buffer.concat([prefix, encoded]) : encoded, 'zstd', 3);
  return sealObject(ObjectType.Index, cipher.seal(BlobType.IndexDelta, undefined, payload), auth);
}

export async function openIndexObject(
  data: Buffer,
  cipher: BlobCipher,
  auth: Authenticator,
  what: string,
  expectedName?: string,
): Promise<Buffer> {
  const { body } = openObject(data, ObjectType.Index, auth, what, expectedName);
  return decodePayload(cipher.open(BlobType.IndexDelta, undefined, body, what), what);
}

/** Bytes of ciphertext decrypted at a time while a delta is read. */
const PIECE_BYTES = 1 << 20;

/**
 * Reads an index delta without holding it twice: once the object's trailer is checked, the body
 * is decrypted and decompressed a piece at a time straight into the table's records, so what
 * reading a delta costs beyond the object is the records kept, not three more copies of them
 * (opening 10 million blobs in deltas of 500,000 within a 16 MiB budget: 293 MiB peak RSS
 * decoded whole, 243 MiB in pieces; docs/PERFORMANCE.md).
 */
export async function openIndexDelta(
  data: Buffer,
  name: string,
  cipher: BlobCipher,
  auth: Authenticator,
): Promise<IndexTable> {
  const what = `index delta ${name.slice(0, 12)}`;
  const { body } = openObject(data, ObjectType.Index, auth, what, name);
  const payload = decodePayloadPieces(
    cipher.openPieces(BlobType.IndexDelta, undefined, body, what, PIECE_BYTES),
    body.length - cipher.overhead,
    what,
  );
  return IndexTable.read(new PieceReader(payload.pieces, payload.size ?? Infinity, what), what);
}
