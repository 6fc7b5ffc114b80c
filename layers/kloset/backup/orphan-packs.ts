import { mapLimit } from '../core/concurrency.js';
import { readPackIndex } from '../pack/pack-reader.js';
import type { RepositoryWriter } from '../repository/repository-writer.js';

/**
 * Packs that no index delta lists were left by an interrupted writer (or belong to one still
 * running). Their blobs are intact — packs are written whole or not at all — so a new backup
 * lists them in its own delta instead of uploading the same content again. Listing the same
 * pack as a concurrent writer does is harmless: readers keep one location per blob.
 */
export async function adoptOrphanPacks(writer: RepositoryWriter): Promise<number> {
  const { repo } = writer;
  const indexed = new Set(repo.index.packs.map((p) => p.name));
  const orphans: { name: string; size: number }[] = [];
  // an archived pack's footer cannot be read without a retrieval: its blobs are written again
  for await (const p of repo.backend.list('packs')) if (!indexed.has(p.name) && !p.archived) orphans.push(p);
  const adopted = await mapLimit(orphans, 8, async ({ name, size }) => {
    try {
      const { kind, blobs } = await readPackIndex(repo.backend, repo.cipher, name, size);
      writer.adoptPack({ name, size, kind }, blobs);
      return 1;
    } catch {
      return 0; // unreadable: check reports it; the blobs are simply written again
    }
  });
  return adopted.reduce((a: number, b) => a + b, 0);
}
