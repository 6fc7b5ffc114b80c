import { openIndexDelta, sealIndexTable } from '../index/index-delta.js';
import { IndexTable, PACK_AT, type PackInfo, RECORD_SIZE } from '../index/index-table.js';
import type { Repository } from '../repository/repository.js';

/**
 * Replaces the `covered` deltas by one: their packs, blobs, snapshots and tombstones, less the
 * records of the `dropped` packs. The new delta is written before any covered one is removed,
 * so a reader sees each blob at every moment; deltas written meanwhile are not covered and stay.
 * Tombstones are kept: a snapshot copied in again by a late writer must stay removed.
 */
export async function consolidateIndex(
  repo: Repository,
  covered: readonly string[],
  dropped: ReadonlySet<string>,
): Promise<string> {
  const tables: IndexTable[] = [];
  for (const name of covered) {
    const delta = await openIndexDelta(
      await repo.backend.get('index', name),
      name,
      repo.cipher,
      repo.mac.authenticator,
    );
    tables.push(withoutPacks(delta, dropped));
  }
  const merged = IndexTable.merge(tables);
  const sealed = await sealIndexTable(merged, repo.cipher, repo.mac.authenticator);
  await repo.backend.put('index', sealed.name, sealed.parts);
  for (const name of covered) if (name !== sealed.name) await repo.backend.delete('index', name);
  return sealed.name;
}

/** The table without the records of `dropped` packs, packs renumbered. */
function withoutPacks(table: IndexTable, dropped: ReadonlySet<string>): IndexTable {
  if (!table.packs.some((p) => dropped.has(p.name))) return table;
  const packs: PackInfo[] = [];
  const renumber = table.packs.map((p) => (dropped.has(p.name) ? -1 : packs.push(p) - 1));
  const kept = Buffer.allocUnsafe(table.records.length);
  let o = 0;
  for (let at = 0; at < table.records.length; at += RECORD_SIZE) {
    const to = renumber[table.records.readUInt32LE(at + PACK_AT)]!;
    if (to < 0) continue;
    table.records.copy(kept, o, at, at + RECORD_SIZE);
    kept.writeUInt32LE(to, o + PACK_AT);
    o += RECORD_SIZE;
  }
  return new IndexTable(packs, kept.subarray(0, o), table.snapshots, table.tombstones);
}
