import { decodePayload, encodePayload } from '../compression/codec.js';
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

export async function openIndexDelta(
  data: Buffer,
  name: string,
  cipher: BlobCipher,
  auth: Authenticator,
): Promise<IndexTable> {
  const what = `index delta ${name.slice(0, 12)}`;
  return IndexTable.decode(await openIndexObject(data, cipher, auth, what, name), what);
}
