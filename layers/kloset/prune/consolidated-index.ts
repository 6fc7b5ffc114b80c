import type { BlobIndex } from '../index/blob-index.js';
import { sealIndexTable } from '../index/index-delta.js';
import { IndexTable, PACK_AT, type PackInfo, RECORD_SIZE } from '../index/index-table.js';
import type { Repository } from '../repository/repository.js';

/**
 * Blobs per consolidated delta: a delta is sealed whole, so this bounds what writing one holds
 * (~6 MB of records, and its encoded, compressed and sealed copies) whatever the store's size,
 * and what a reader holds of it (the object and its records): at 524,288 blobs the copies of
 * one delta being written were ~125 MB of a prune's peak. A store of 10 million blobs then
 * opens from 77 deltas rather than 20: as many more reads, each of a quarter of the bytes.
 */
export const CONSOLIDATED_DELTA_BLOBS = 128 * 1024;

/**
 * Replaces the `covered` deltas by `index` (their merge) less the records and packs of the
 * `dropped` packs, as consecutive ranges of blob IDs of at most `CONSOLIDATED_DELTA_BLOBS` each:
 * one delta for most stores. The new deltas are written before any covered one is removed, so a
 * reader sees each blob at every moment; deltas written meanwhile are not covered and stay.
 * Tombstones are kept: a snapshot copied in again by a late writer must stay removed. Returns
 * the names of the new deltas.
 */
export async function consolidateIndex(
  repo: Repository,
  covered: readonly string[],
  index: BlobIndex,
  dropped: ReadonlySet<string>,
  maxBlobs = CONSOLIDATED_DELTA_BLOBS,
): Promise<string[]> {
  const written: string[] = [];
  // packs no record locates (their blobs all located elsewhere) stay indexed: a later prune plans them
  const located = new Uint8Array(index.packs.length);
  let chunk = new RangeDelta(index.packs, dropped);
  const seal = async (last: boolean) => {
    const table = last
      ? chunk.table(
          index.packs.filter((p, i) => located[i] === 0 && !dropped.has(p.name)),
          index.snapshots,
          index.tombstones,
        )
      : chunk.table([], [], []);
    const sealed = await sealIndexTable(table, repo.cipher, repo.mac.authenticator);
    await repo.backend.put('index', sealed.name, sealed.parts);
    written.push(sealed.name);
    chunk = new RangeDelta(index.packs, dropped);
  };
  for (const page of index.recordPages()) {
    for (let at = 0; at < page.length; at += RECORD_SIZE) {
      const packNo = page.readUInt32LE(at + PACK_AT);
      if (!chunk.add(page, at, packNo)) continue;
      located[packNo] = 1;
      if (chunk.count === maxBlobs) await seal(false);
    }
  }
  await seal(true);
  for (const name of covered) if (!written.includes(name)) await repo.backend.delete('index', name);
  return written;
}

/** Records are gathered in blocks of this many: no copy per record, no buffer that grows. */
const BLOCK_RECORDS = 4096;

/** The records of one consolidated delta, with the packs they name renumbered in order of use. */
class RangeDelta {
  private readonly blocks: Buffer[] = [];
  private readonly packs: PackInfo[] = [];
  private readonly renumber = new Map<number, number>();
  count = 0;

  constructor(
    private readonly allPacks: readonly PackInfo[],
    private readonly dropped: ReadonlySet<string>,
  ) {}

  /** Adds the record unless its pack is dropped; false when dropped. */
  add(page: Buffer, at: number, packNo: number): boolean {
    const pack = this.allPacks[packNo]!;
    if (this.dropped.has(pack.name)) return false;
    let to = this.renumber.get(packNo);
    if (to === undefined) this.renumber.set(packNo, (to = this.packs.push(pack) - 1));
    const inBlock = this.count % BLOCK_RECORDS;
    if (inBlock === 0) this.blocks.push(Buffer.allocUnsafe(BLOCK_RECORDS * RECORD_SIZE));
    const o = inBlock * RECORD_SIZE;
    page.copy(this.blocks.at(-1)!, o, at, at + RECORD_SIZE);
    this.blocks.at(-1)!.writeUInt32LE(to, o + PACK_AT);
    this.count++;
    return true;
  }

  table(extraPacks: readonly PackInfo[], snapshots: readonly string[], tombstones: readonly string[]) {
    const records = Buffer.concat(this.blocks).subarray(0, this.count * RECORD_SIZE);
    return new IndexTable([...this.packs, ...extraPacks], records, snapshots, tombstones);
  }
}
