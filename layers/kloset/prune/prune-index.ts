import type { BlobIndex } from '../index/blob-index.js';
import { BudgetedMerge } from '../index/budgeted-merge.js';
import { openIndexDelta } from '../index/index-delta.js';
import { IndexTable, PACK_AT, type PackInfo, RECORD_SIZE } from '../index/index-table.js';
import type { Repository } from '../repository/repository.js';

/**
 * The index prune judges by: the merge of the `covered` deltas, in which a blob stored in several
 * packs keeps a location in a pack no plan names whenever it has one (the records of `planned`
 * packs join the merge last, and a merge keeps a blob's first location). A pack whose live blobs
 * were copied elsewhere (repacked, or stored again by a writer that saw the plan) is then found
 * unused. Built within the store's index memory budget, spilling as the store's own index does.
 */
export async function buildPruneIndex(
  repo: Repository,
  covered: readonly string[],
  planned: ReadonlySet<string>,
): Promise<BlobIndex> {
  const spill = repo.indexSpill;
  const merge = new BudgetedMerge(spill?.dir ?? '', spill?.budget ?? Number.POSITIVE_INFINITY);
  try {
    const load = async (name: string) =>
      openIndexDelta(await repo.backend.get('index', name), name, repo.cipher, repo.mac.authenticator);
    const withPlanned: string[] = [];
    for (const name of covered) {
      const delta = await load(name);
      if (delta.packs.some((p) => planned.has(p.name))) withPlanned.push(name);
      merge.add(selectPacks(delta, (p) => !planned.has(p)));
    }
    // read again rather than held: a delta is large where the store is
    for (const name of withPlanned) merge.add(selectPacks(await load(name), (p) => planned.has(p)));
    return merge.finish();
  } finally {
    merge.abort();
  }
}

/** The table with only the packs `keep` accepts and their records, packs renumbered. */
export function selectPacks(table: IndexTable, keep: (pack: string) => boolean): IndexTable {
  if (table.packs.every((p) => keep(p.name))) return table;
  const packs: PackInfo[] = [];
  const renumber = table.packs.map((p) => (keep(p.name) ? packs.push(p) - 1 : -1));
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
