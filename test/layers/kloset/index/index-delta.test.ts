import { randomBytes } from 'node:crypto';
import { encodePayload } from '../../../../layers/kloset/compression/codec.js';
import { KlosetError } from '../../../../layers/kloset/core/errors.js';
import { AesGcmCipher, type BlobCipher, NullCipher } from '../../../../layers/kloset/crypto/blob-cipher.js';
import { StoreMac } from '../../../../layers/kloset/crypto/mac.js';
import { BlobType, PackKind } from '../../../../layers/kloset/format/blob.js';
import { ObjectType, openObject, sealObject } from '../../../../layers/kloset/format/object.js';
import { openIndexDelta, sealIndexTable } from '../../../../layers/kloset/index/index-delta.js';
import { IndexTable } from '../../../../layers/kloset/index/index-table.js';

const mac = new StoreMac(randomBytes(32));
const auth = mac.authenticator;

/** A table of `n` blobs: 60,000 encode to ~2.9 MB, several of the 1 MiB pieces a delta is read in. */
function table(n: number): IndexTable {
  const packs = [0, 1, 2].map(() => ({
    name: randomBytes(32).toString('hex'),
    kind: PackKind.Data,
    size: 9e9,
  }));
  const records = Array.from({ length: n }, (_, i) => ({
    id: randomBytes(32),
    type: BlobType.Data,
    packNo: i % 3,
    offset: i * 100,
    length: 100,
    rawLength: 150 + (i % 7),
  }));
  return IndexTable.fromRecords(packs, records, ['aa'.repeat(32)], ['bb'.repeat(32)]);
}

/** The delta object of `payload` parts (a codec byte and the encoded table). */
function sealPayload(cipher: BlobCipher, payload: Buffer[]): { data: Buffer; name: string } {
  const sealed = sealObject(ObjectType.Index, cipher.seal(BlobType.IndexDelta, undefined, payload), auth);
  return { data: Buffer.concat(sealed.parts), name: sealed.name };
}

describe('index deltas read a piece at a time', () => {
  const big = table(60_000);

  test.each([
    ['AES-256-GCM', new AesGcmCipher(randomBytes(32))],
    ['no encryption', new NullCipher()],
  ])('a large zstd delta reads back as it was written (%s)', async (_name, cipher) => {
    const sealed = await sealIndexTable(big, cipher, auth);
    const read = await openIndexDelta(Buffer.concat(sealed.parts), sealed.name, cipher, auth);
    expect(read.encode().equals(big.encode())).toBe(true);
    expect(read.snapshots).toEqual(['aa'.repeat(32)]);
    expect(read.tombstones).toEqual(['bb'.repeat(32)]);
  });

  test('a large delta stored raw (not compressed) reads back too', async () => {
    const cipher = new AesGcmCipher(randomBytes(32));
    const { data, name } = sealPayload(cipher, [Buffer.of(0), big.encode()]);
    const read = await openIndexDelta(data, name, cipher, auth);
    expect(read.records.equals(big.records)).toBe(true);
  });

  test('a body that fails its AES-GCM tag is refused once read to its end', async () => {
    const cipher = new AesGcmCipher(randomBytes(32));
    const sealed = await sealIndexTable(big, cipher, auth);
    const { body } = openObject(Buffer.concat(sealed.parts), ObjectType.Index, auth, 'delta');
    const tampered = Buffer.from(body);
    tampered[tampered.length - 1]! ^= 1;
    // the trailer is computed again over the tampered body: only the cipher can notice
    const resealed = sealObject(ObjectType.Index, [tampered], auth);
    await expect(openIndexDelta(Buffer.concat(resealed.parts), resealed.name, cipher, auth)).rejects.toThrow(
      /authentication failed/,
    );
  });

  test('a zstd frame cut short, or followed by more bytes, is refused as corrupt', async () => {
    const cipher = new NullCipher();
    const [codec, frame] = await encodePayload(big.encode(), 'zstd', 3);
    expect(codec![0]).toBe(1);
    for (const payload of [
      [codec!, frame!.subarray(0, frame!.length - 1000)],
      [codec!, frame!, Buffer.from('more')],
    ]) {
      const { data, name } = sealPayload(cipher, payload);
      const err = await openIndexDelta(data, name, cipher, auth).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KlosetError);
      expect((err as KlosetError).code).toBe('CORRUPT');
    }
  });

  test('a record count beyond the declared size is refused before anything is allocated for it', async () => {
    const cipher = new NullCipher();
    const encoded = table(10).encode();
    // the u64 count follows the pack count (u32) and the three packs (41 bytes each)
    encoded.writeBigUInt64LE(2n ** 40n, 4 + 3 * 41);
    const { data, name } = sealPayload(cipher, [Buffer.of(0), encoded]);
    await expect(openIndexDelta(data, name, cipher, auth)).rejects.toThrow(/truncated/);
  });
});
