import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCorpus, selectRealFiles, DEFAULT_SOURCE_ROOTS, type Corpus } from '../../bench/corpus.js';
import { MODIFIED_BYTES, modifyCorpus } from '../../bench/corpus-modification.js';
import { compareDigests, digestTree } from '../../bench/tree-digest.js';

let workDir: string;
let corpus: Corpus;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'kloud-bench-corpus-'));
  corpus = await buildCorpus({ workDir: join(workDir, 'a'), size: 'tiny', seed: 7 });
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('bench corpus', () => {
  test('holds real files and the synthetic part, with no symlinks', async () => {
    const { digest, others } = await digestTree(corpus.root);
    expect(others).toEqual([]);
    expect(digest.size).toBe(corpus.fileCount);
    expect(corpus.realFileCount).toBeGreaterThan(100);
    for (const name of ['mixed-1.bin', 'mixed-2.bin', 'vm-disk.img']) {
      expect(digest.get(`synthetic/${name}`)?.size).toBeGreaterThan(0);
    }
    expect([...digest.keys()].some((p) => p.startsWith('usr/'))).toBe(true);
  });

  test('the same seed gives the same corpus, another seed another selection', async () => {
    const again = await buildCorpus({ workDir: join(workDir, 'b'), size: 'tiny', seed: 7 });
    expect(again.fingerprint).toBe(corpus.fingerprint);
    const spec = { realBytes: 3 << 20, realFiles: 250, maxFileBytes: 256 << 10 };
    const [seven, eight] = await Promise.all(
      [7, 8].map((s) => selectRealFiles(spec, s, DEFAULT_SOURCE_ROOTS)),
    );
    expect(seven?.map((f) => f.path)).not.toEqual(eight?.map((f) => f.path));
  });

  test('the 5% change rewrites 4 KiB in 5% of the files, keeps sizes, and is undone exactly', async () => {
    const mod = await modifyCorpus(corpus);
    const changed = await digestTree(corpus.root);
    expect(compareDigests(mod.expected, changed.digest)).toEqual([]);
    const differing = compareDigests(corpus.digest, changed.digest, Infinity);
    expect(differing).toHaveLength(mod.fileCount);
    expect(differing.every((d) => d.startsWith('content '))).toBe(true);
    const nonEmpty = [...corpus.digest.values()].filter((d) => d.size > 0).length;
    expect(mod.fileCount).toBe(Math.round(nonEmpty * 0.05));
    expect(mod.bytesChanged).toBeLessThanOrEqual(mod.fileCount * MODIFIED_BYTES);

    const second = await modifyCorpus(corpus); // same seed: the very same change
    expect([...second.expected]).toEqual([...mod.expected]);
    await second.undo();
    await mod.undo();
    expect(compareDigests(corpus.digest, (await digestTree(corpus.root)).digest)).toEqual([]);
  });

  test('a corpus left modified (a crashed run) is rebuilt, an intact one reused', async () => {
    const lines: string[] = [];
    const log = (l: string): void => void lines.push(l);
    await buildCorpus({ workDir: join(workDir, 'a'), size: 'tiny', seed: 7, log });
    expect(lines.join('\n')).toContain('reusing');
    await modifyCorpus(corpus); // and never undone
    const rebuilt = await buildCorpus({ workDir: join(workDir, 'a'), size: 'tiny', seed: 7, log });
    expect(lines.join('\n')).toContain('building');
    expect(rebuilt.fingerprint).toBe(corpus.fingerprint);
  });
});
