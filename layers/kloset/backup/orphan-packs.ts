import { listPacks, readUnindexedPacks } from '../check/unindexed-packs.js';
import type { RepositoryWriter } from '../repository/repository-writer.js';

/**
 * Packs that no index delta lists were left by an interrupted writer (or belong to one still
 * running). Their blobs are intact — packs are written whole or not at all — so a new backup
 * lists them in its own delta instead of uploading the same content again. Listing the same
 * pack as a concurrent writer does is harmless: readers keep one location per blob. Archived
 * packs (their footer needs a retrieval) and unreadable ones are left: their blobs are written
 * again, and check reports the unreadable ones.
 */
export async function adoptOrphanPacks(writer: RepositoryWriter): Promise<number> {
  // a planned pack is unindexed because a prune is deleting it: adopting it would index a pack about to go
  const planned = writer.repo.plannedPacks;
  const unindexed = [...(await listPacks(writer.repo)).values()].filter((p) => !planned.has(p.name));
  const { readable } = await readUnindexedPacks(writer.repo, unindexed);
  for (const { pack, blobs } of readable) writer.adoptPack(pack, blobs);
  return readable.length;
}
