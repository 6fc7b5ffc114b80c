import { open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dirtyMarker, type Corpus } from './corpus.js';
import { SeededRandom } from './seeded-random.js';
import { hashFile, type TreeDigest } from './tree-digest.js';

/**
 * The "5% change" step: overwrite 4 KiB in the middle of 5% of the files (seeded, so every tool
 * sees the same change). The sizes stay the same, so a tool must notice the change from mtime
 * and ctime and then find the changed region by chunking. The old bytes are kept, so the corpus
 * is put back for the next tool instead of being copied again.
 */

export const MODIFIED_FRACTION = 0.05;
export const MODIFIED_BYTES = 4096;

interface Patch {
  readonly path: string;
  readonly offset: number;
  readonly original: Buffer;
}

export interface CorpusModification {
  readonly fileCount: number;
  readonly bytesChanged: number;
  /** The corpus digest after the change: what a restore of the latest snapshot must equal. */
  readonly expected: TreeDigest;
  /** Writes the original bytes back. */
  undo(): Promise<void>;
}

async function overwrite(path: string, offset: number, bytes: Buffer): Promise<Buffer> {
  const fh = await open(path, 'r+');
  try {
    const original = Buffer.alloc(bytes.length);
    await fh.read(original, 0, bytes.length, offset);
    await fh.write(bytes, 0, bytes.length, offset);
    return original;
  } finally {
    await fh.close();
  }
}

export async function modifyCorpus(corpus: Corpus): Promise<CorpusModification> {
  const rng = new SeededRandom(corpus.seed, 'modification');
  const candidates = [...corpus.digest].filter(([, d]) => d.size > 0);
  const count = Math.max(1, Math.round(candidates.length * MODIFIED_FRACTION));
  const chosen = rng.shuffle(candidates).slice(0, count);
  chosen.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  await writeFile(dirtyMarker(corpus), 'the 5% modification is applied; the corpus will be rebuilt\n');
  const patches: Patch[] = [];
  const expected: TreeDigest = new Map(corpus.digest);
  let bytesChanged = 0;
  for (const [rel, digest] of chosen) {
    const length = Math.min(MODIFIED_BYTES, digest.size);
    const offset = Math.floor((digest.size - length) / 2);
    const path = join(corpus.root, rel);
    patches.push({ path, offset, original: await overwrite(path, offset, rng.bytes(length)) });
    expected.set(rel, { ...digest, sha256: await hashFile(path) });
    bytesChanged += length;
  }

  return {
    fileCount: patches.length,
    bytesChanged,
    expected,
    async undo() {
      for (const p of patches) await overwrite(p.path, p.offset, p.original);
      await rm(dirtyMarker(corpus), { force: true });
    },
  };
}
