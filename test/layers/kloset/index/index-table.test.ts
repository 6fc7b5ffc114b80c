import { randomBytes } from 'node:crypto';
import { BlobType, PackKind } from '../../../../layers/kloset/format/blob.js';
import { type BlobRecord, IndexTable } from '../../../../layers/kloset/index/index-table.js';

function pack(): { name: string; kind: PackKind; size: number } {
  return { name: randomBytes(32).toString('hex'), kind: PackKind.Data, size: 1000 };
}

function records(n: number, packNo = 0): BlobRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    id: randomBytes(32),
    type: BlobType.Data,
    packNo,
    offset: 8 + i,
    length: 100 + i,
    rawLength: 200 + i,
  }));
}

describe('IndexTable', () => {
  test('finds every record it holds and nothing else', () => {
    const recs = records(5000);
    const table = IndexTable.fromRecords([pack()], recs);
    expect(table.blobCount).toBe(5000);
    for (const r of recs) {
      const loc = table.find(r.id)!;
      expect(loc.offset).toBe(r.offset);
      expect(loc.length).toBe(r.length);
      expect(loc.rawLength).toBe(r.rawLength);
    }
    for (let i = 0; i < 100; i++) expect(table.has(randomBytes(32))).toBe(false);
  });

  test('encodes and decodes losslessly', () => {
    const table = IndexTable.fromRecords(
      [pack(), pack()],
      records(300, 1),
      ['aa'.repeat(32)],
      ['bb'.repeat(32)],
    );
    const copy = IndexTable.decode(table.encode(), 'test');
    expect(copy.encode().equals(table.encode())).toBe(true);
    expect(copy.snapshots).toEqual(['aa'.repeat(32)]);
    expect(copy.tombstones).toEqual(['bb'.repeat(32)]);
  });

  test('decode refuses truncated input', () => {
    const enc = IndexTable.fromRecords([pack()], records(10)).encode();
    expect(() => IndexTable.decode(enc.subarray(0, enc.length - 5), 'delta')).toThrow(/truncated/);
  });

  test('merge renumbers packs, keeps the first copy of a duplicate blob and unions snapshots', () => {
    const pa = pack();
    const pb = pack();
    const ra = records(1000);
    const rb = records(1000);
    const dup = { ...ra[0]!, offset: 999 };
    const a = IndexTable.fromRecords([pa], ra, ['01'.repeat(32)]);
    const b = IndexTable.fromRecords([pb], [...rb, dup], ['02'.repeat(32)]);
    const c = IndexTable.fromRecords([pa], records(10), ['01'.repeat(32)]);
    const merged = IndexTable.merge([a, b, c]);
    expect(merged.blobCount).toBe(2010);
    expect(merged.packs.map((p) => p.name)).toEqual([pa.name, pb.name]);
    expect(merged.find(ra[0]!.id)!.offset).toBe(ra[0]!.offset);
    expect(merged.find(rb[5]!.id)!.pack.name).toBe(pb.name);
    expect([...merged.snapshots].sort()).toEqual(['01'.repeat(32), '02'.repeat(32)]);
    const ids = [...merged.blobs()].map((l) => l.id.toString('hex'));
    expect([...ids].sort()).toEqual(ids);
  });
});
