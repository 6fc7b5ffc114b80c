import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  type BatchResult,
  type Store,
  type WorkBatch,
  backupBatch,
  commitSnapshot,
  planBackup,
} from '../../../../layers/kloset/index.js';
import { FsSource } from '../../../../layers/kloset/connectors/fs/fs-source.js';
import type { BackupSource, ByteRange } from '../../../../layers/kloset/core/backup-source.js';
import { newStore, removeTempDirs, tempDir, treeDigest, writeTree } from '../fixtures.js';
import { itemsOf, planBatches } from './distributed.js';

afterAll(removeTempDirs);

const KiB = 1024;
const MiB = 1024 * KiB;
/** small chunks: a file of a few MiB is many chunks, each a unit a past deadline lets through */
const CHUNKING = { min: 64 * KiB, avg: 128 * KiB, max: 512 * KiB };
const BATCHES = { maxBatchBytes: 8 * MiB, maxBatchEntries: 8 };

/** A batch backed up by calls that each stop at once (a deadline already passed), each on what the last left. */
async function backupInParts(store: Store, batch: WorkBatch, maxCalls = 1000) {
  const parts: BatchResult[] = [];
  let left: WorkBatch | undefined = batch;
  while (left) {
    if (parts.length >= maxCalls) throw new Error(`the batch was not done in ${maxCalls} calls`);
    const part = await backupBatch(store.repo, left, { source: new FsSource(), deadline: 0 });
    parts.push(part);
    // what is left goes to the next invocation as JSON, as the workflow's staging keeps it
    left = part.remaining && (JSON.parse(JSON.stringify(part.remaining)) as WorkBatch);
  }
  return parts;
}

/** Local files as a slow remote source (no local paths: every file is streamed, a few at once) that counts its reads. */
class SlowSource implements BackupSource {
  reads = 0;
  private readonly fs = new FsSource();
  constructor(private readonly delayMs: number) {}
  stat(path: string) {
    return this.fs.stat(path);
  }
  list(dir: string) {
    return this.fs.list(dir);
  }
  async *read(path: string, size: number, range?: ByteRange): AsyncIterable<Buffer> {
    this.reads++;
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    yield* this.fs.read(path, size, range);
  }
}

describe('a batch cut at its deadline continues in the next call', () => {
  test('cut at every item and chunk, the batches make the tree one call each makes, and it restores byte for byte', async () => {
    const { store } = await newStore({ chunking: CHUNKING });
    const src = join(await tempDir(), 'src');
    const streamed = randomBytes(5 * MiB + 777); // read whole by one worker, more than a sealing thread takes
    const ranged = randomBytes(12 * MiB + 4321); // larger than a batch: planned in ranges
    await writeTree(src, {
      'streamed.bin': streamed,
      'ranged.bin': ranged,
      'small.txt': 'small',
      a: {
        dir: {
          'a1.txt': 'a1',
          link: { symlink: 'a1.txt' },
          deep: { dir: { 'a2.bin': randomBytes(90 * KiB) } },
        },
      },
      many: { dir: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`m${i}.txt`, `many ${i}`])) },
    });
    const { plan, batches } = await planBatches(store, [src], { ...BATCHES, parent: null });
    expect(itemsOf(batches)).toContain(`entry ${src}/streamed.bin`);
    expect(itemsOf(batches)).toContain(`range ${src}/ranged.bin@0+${8 * MiB}`);

    const whole = await Promise.all(
      batches.map((b) =>
        backupBatch(store.repo, b, { source: new FsSource(), deadline: Date.now() + 3_600_000 }),
      ),
    );
    expect(whole.every((r) => r.remaining === undefined)).toBe(true);
    const cut = [];
    for (const b of batches) cut.push(...(await backupInParts(store, b)));

    // one unit a call: every item, and every chunk of a file read here, took a call of its own
    const items = batches.reduce((n, b) => n + b.items.length, 0);
    expect(cut.length).toBeGreaterThan(items + (5 * MiB + 12 * MiB) / CHUNKING.max);
    // the file read whole was cut at a chunk boundary and went on as a range
    const rests = cut.flatMap((p) => (p.remaining ? itemsOf([p.remaining]) : []));
    expect(rests.some((i) => i.startsWith(`range ${src}/streamed.bin@`) && !i.includes('@0+'))).toBe(true);
    expect(rests.some((i) => i.startsWith(`range ${src}/ranged.bin@`) && !/@(0|8388608)\+/.test(i))).toBe(
      true,
    );

    const meta = { sources: plan.sources, startedAt: 1_000, time: 2_000_000 };
    const one = await commitSnapshot(
      store.repo,
      whole.map((r) => r.partialTree),
      meta,
    );
    const parts = await commitSnapshot(
      store.repo,
      cut.map((r) => r.partialTree),
      meta,
    );
    expect(parts.root).toBe(one.root);
    const { files, dirs, symlinks, bytes, filesRead } = one.summary;
    expect(parts.summary).toMatchObject({ files, dirs, symlinks, bytes, filesRead });
    expect(bytes).toBeGreaterThan(17 * MiB);
    expect(parts.errors).toEqual([]);

    const to = await tempDir();
    expect((await store.restore(parts.id, undefined, { to })).errors).toEqual([]);
    expect(await treeDigest(join(to, src))).toEqual(await treeDigest(src));
    expect((await store.check({ readData: true })).ok).toBe(true);
  });

  test('a deadline far ahead backs up the whole batch in one call, and the first call always makes progress', async () => {
    const { store } = await newStore({ chunking: CHUNKING });
    const src = join(await tempDir(), 'src');
    await writeTree(src, { 'one.txt': 'one', 'two.txt': 'two' });
    const plan = await planBackup(store.repo, new FsSource(), [src], { ...BATCHES, parent: null });
    const steps = [];
    for await (const step of plan.steps()) steps.push(step);
    const batch = 'batch' in steps[0]! ? steps[0].batch : undefined;
    const first = await backupBatch(store.repo, batch!, { source: new FsSource(), deadline: 0 });
    expect(first.remaining!.items.length).toBe(batch!.items.length - 1);
    // the plan's counts go with the first part only
    expect(first.remaining!.counted).toEqual({ files: 0, dirs: 0, symlinks: 0, bytes: 0 });
  });

  test('files still waiting for a stream when the deadline passes are left whole, unread, for the next call', async () => {
    const { store } = await newStore({ chunking: CHUNKING });
    const src = join(await tempDir(), 'src');
    await writeTree(
      src,
      Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}.txt`, `file ${i}`])),
    );
    const source = new SlowSource(500);
    const { plan, batches } = await planBatches(
      store,
      [src],
      { ...BATCHES, maxBatchEntries: 100, parent: null },
      source,
    );
    expect(batches).toHaveLength(1);
    const [batch] = batches;
    // four files are read at once from a remote source; the deadline passes while the others wait
    const first = await backupBatch(store.repo, batch!, { source, deadline: Date.now() + 200 });
    expect(source.reads).toBe(4);
    const files = batch!.items.filter((i) => i.kind === 'entry' && i.entry.type === 'file');
    expect(first.remaining!.items).toEqual(files.slice(4));
    const rest = await backupBatch(store.repo, first.remaining!, { source });
    expect(rest.remaining).toBeUndefined();
    expect(source.reads).toBe(12);

    const meta = { sources: plan.sources, startedAt: 1_000, time: 2_000_000 };
    const parts = await commitSnapshot(store.repo, [first.partialTree, rest.partialTree], meta);
    const one = await backupBatch(store.repo, batch!, { source: new FsSource() });
    expect(parts.root).toBe((await commitSnapshot(store.repo, [one.partialTree], meta)).root);
    expect(parts.summary).toMatchObject({ files: 12, filesRead: 12 });
  });
});
