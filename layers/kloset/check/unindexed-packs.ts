import { mapLimit } from '../core/concurrency.js';
import type { ObjectInfo } from '../core/store-backend.js';
import { KlosetError, errorText } from '../core/errors.js';
import { BlobType } from '../format/blob.js';
import type { BlobLocation, PackInfo } from '../index/index-table.js';
import type { PackedBlob } from '../pack/pack-format.js';
import { readPackIndex } from '../pack/pack-reader.js';
import type { Repository } from '../repository/repository.js';
import { type SnapshotRecord, decodeSnapshot } from '../snapshot/snapshot-record.js';

/** A pack no readable index delta lists, with the blobs its own index (at its end) lists. */
export interface UnindexedPack {
  readonly pack: PackInfo;
  readonly blobs: readonly PackedBlob[];
}

export interface UnindexedPacks {
  readonly readable: UnindexedPack[];
  /** packs whose own index cannot be read: what they hold is unknown */
  readonly unreadable: { readonly name: string; readonly reason: string }[];
  /** in archive storage: their own index cannot be read without a retrieval */
  readonly archived: string[];
}

/**
 * The packs of `stored` (a listing of the store's packs) that no readable delta lists: left by
 * an interrupted writer, or listed only by a damaged delta. Each pack ends with its own index,
 * so what it holds is known without any delta (three small reads a pack).
 */
export async function readUnindexedPacks(
  repo: Repository,
  stored: Iterable<ObjectInfo>,
  onProgress?: (done: number, total: number) => void,
): Promise<UnindexedPacks> {
  const indexed = new Set(repo.index.packs.map((p) => p.name));
  const found: UnindexedPacks = { readable: [], unreadable: [], archived: [] };
  const candidates: ObjectInfo[] = [];
  for (const p of stored) {
    if (indexed.has(p.name)) continue;
    if (p.archived) found.archived.push(p.name);
    else candidates.push(p);
  }
  let done = 0;
  await mapLimit(candidates, 8, async ({ name, size }) => {
    try {
      const { kind, blobs } = await readPackIndex(repo.backend, repo.cipher, name, size);
      found.readable.push({ pack: { name, kind, size }, blobs });
    } catch (err) {
      // damage, or a pack of a newer format: either way its blobs cannot be listed here
      if (!(err instanceof KlosetError) || err.code === 'IO') throw err;
      found.unreadable.push({ name, reason: errorText(err) });
    }
    onProgress?.(++done, candidates.length);
  });
  found.readable.sort((a, b) => a.pack.name.localeCompare(b.pack.name));
  found.unreadable.sort((a, b) => a.name.localeCompare(b.name));
  return found;
}

/** Every pack of the store as listed now. */
export async function listPacks(repo: Repository): Promise<Map<string, ObjectInfo>> {
  const stored = new Map<string, ObjectInfo>();
  for await (const o of repo.backend.list('packs')) stored.set(o.name, o);
  return stored;
}

/** A snapshot record no delta lists: its ID and record, or why it cannot be read. */
export type FoundSnapshot =
  | { readonly id: string; readonly pack: string; readonly record: SnapshotRecord }
  | { readonly id: string; readonly pack: string; readonly reason: string };

/**
 * The snapshot records that are neither visible nor removed, in unindexed packs (the snapshots
 * a damaged or deleted delta hides, or the record of a backup interrupted just before its
 * commit) and, with `indexed`, among the indexed blobs too: a backup adopts unindexed packs, so
 * what a damaged delta hid may be indexed since. Without a damaged delta, an indexed record no
 * delta lists is one of a backup whose commit failed (and said so): it stays unlisted.
 */
export async function unlistedSnapshots(
  repo: Repository,
  packs: readonly UnindexedPack[],
  opts: { indexed: boolean },
): Promise<FoundSnapshot[]> {
  const known = new Set([...repo.index.snapshots, ...repo.index.tombstones]);
  const unknown = (b: { type: BlobType; id: Buffer }) =>
    b.type === BlobType.Snapshot && !known.has(b.id.toString('hex'));
  const wanted: BlobLocation[] = [];
  if (opts.indexed) for (const b of repo.index.blobs()) if (unknown(b)) wanted.push(b);
  for (const { pack, blobs } of packs) for (const b of blobs) if (unknown(b)) wanted.push({ ...b, pack });
  const found = await mapLimit(wanted, 8, async (loc): Promise<FoundSnapshot> => {
    const id = loc.id.toString('hex');
    try {
      const sealed = await repo.backend.getRange('packs', loc.pack.name, loc.offset, loc.length);
      return { id, pack: loc.pack.name, record: decodeSnapshot(id, await repo.openBlob(loc, sealed)) };
    } catch (err) {
      if (!(err instanceof KlosetError) || err.code !== 'CORRUPT') throw err;
      return { id, pack: loc.pack.name, reason: errorText(err) };
    }
  });
  // one record may sit in several packs (concurrent writers): report it once
  const byId = new Map<string, FoundSnapshot>();
  for (const f of found) if (!byId.has(f.id) || 'record' in f) byId.set(f.id, f);
  return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
}
