import { ID_SIZE } from '../crypto/mac.js';
import { type BlobType, PackKind } from '../format/blob.js';
import type { BlobIndex } from '../index/blob-index.js';
import { sealIndexTable } from '../index/index-delta.js';
import {
  type BlobRecord,
  IndexTable,
  LENGTH_AT,
  OFFSET_AT,
  PACK_AT,
  type PackInfo,
  RAW_AT,
  RECORD_SIZE,
  TYPE_AT,
} from '../index/index-table.js';
import { PackBuilder } from '../pack/pack-builder.js';
import type { Repository } from '../repository/repository.js';
import { isLive } from './pack-usage.js';

export interface Repacked {
  /** the new packs */
  readonly packs: PackInfo[];
  /** the index delta listing their blobs */
  readonly delta: string | undefined;
}

/**
 * Copies the live blobs of the `rewrite` packs (numbers in `index`) into new packs, data and
 * metadata apart as a backup writes them, then writes one index delta listing them. Each blob is
 * authenticated before it is copied (a damaged blob stops the repack: nothing is deleted), and
 * copied sealed as it is: its ID and type, not its place, are what its seal binds. The old packs
 * stay indexed: the caller plans them, and a later prune deletes them.
 */
export async function repackPacks(
  repo: Repository,
  index: BlobIndex,
  live: Uint8Array,
  rewrite: ReadonlySet<number>,
  onPack?: () => void,
): Promise<Repacked> {
  const wanted = new Map<number, Buffer[]>([...rewrite].map((p) => [p, []]));
  let position = 0;
  for (const page of index.recordPages()) {
    for (let at = 0; at < page.length; at += RECORD_SIZE, position++) {
      const records = wanted.get(page.readUInt32LE(at + PACK_AT));
      if (records && isLive(live, position)) records.push(Buffer.from(page.subarray(at, at + RECORD_SIZE)));
    }
  }
  const packs: PackInfo[] = [];
  const records: BlobRecord[] = [];
  const builders = new Map<PackKind, PackBuilder>();
  const write = async (builder: PackBuilder) => {
    builders.delete(builder.kind);
    const { pack, blobs } = builder.finish(repo.cipher, repo.mac.authenticator);
    await repo.backend.put('packs', pack.name, pack.parts, { archivable: builder.kind === PackKind.Data });
    const packNo = packs.push({ name: pack.name, kind: builder.kind, size: pack.size }) - 1;
    for (const b of blobs) records.push({ ...b, packNo });
  };
  for (const [packNo, blobs] of wanted) {
    const old = index.packs[packNo]!;
    const data = await repo.backend.get('packs', old.name);
    for (const r of blobs) {
      const loc = {
        id: r.subarray(0, ID_SIZE),
        type: r[TYPE_AT] as BlobType,
        pack: old,
        offset: r.readUInt32LE(OFFSET_AT),
        length: r.readUInt32LE(LENGTH_AT),
        rawLength: r.readUInt32LE(RAW_AT),
      };
      const sealed = data.subarray(loc.offset, loc.offset + loc.length);
      await repo.openBlob(loc, sealed);
      let builder = builders.get(old.kind);
      if (!builder) builders.set(old.kind, (builder = new PackBuilder(old.kind)));
      builder.add(loc.id, loc.type, [sealed], loc.rawLength);
      if (builder.size >= repo.config.packing.targetSize) await write(builder);
    }
    onPack?.();
  }
  for (const builder of [...builders.values()]) await write(builder);
  if (records.length === 0) return { packs, delta: undefined };
  const sealed = await sealIndexTable(
    IndexTable.fromRecords(packs, records),
    repo.cipher,
    repo.mac.authenticator,
  );
  await repo.backend.put('index', sealed.name, sealed.parts);
  return { packs, delta: sealed.name };
}
