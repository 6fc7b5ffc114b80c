import { randomBytes } from 'node:crypto';
import { readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  type BatchResult,
  type Store,
  type WorkBatch,
  backupBatch,
  commitSnapshot,
  planBackup,
} from '../../../../layers/kloset/index.js';
import { FsSource } from '../../../../layers/kloset/connectors/fs/fs-source.js';
import { S3Source } from '../../../../layers/kloset/connectors/s3/s3-source.js';
import { type S3Location, parseLocation } from '../../../../layers/kloset/core/location.js';
import type { BackupSource, ByteRange } from '../../../../layers/kloset/core/backup-source.js';
import { newStore, removeTempDirs, tempDir, treeDigest, writeTree } from '../fixtures.js';
import { s3rverForTests } from '../connectors/s3/s3rver.js';
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

/**
 * A batch backed up by calls that each stop at once until `path` is cut at a chunk boundary; then
 * `change` (the file changes between its parts) and the rest in one call. Answers every call's
 * result and the byte where the rest starts.
 */
async function cutThenChange(
  store: Store,
  batch: WorkBatch,
  path: string,
  change: () => Promise<unknown>,
  source: BackupSource = new FsSource(),
) {
  const parts: BatchResult[] = [];
  const restOf = (b: WorkBatch | undefined) =>
    b?.items.find((i) => i.kind === 'range' && i.path === path && i.offset > 0);
  let left: WorkBatch | undefined = batch;
  while (left && !restOf(left)) {
    if (parts.length >= 100) throw new Error(`${path} was not cut in 100 calls`);
    const part = await backupBatch(store.repo, left, { source, deadline: 0 });
    parts.push(part);
    left = part.remaining;
  }
  const rest = restOf(left);
  if (!left || rest?.kind !== 'range') throw new Error(`${path} was read without a cut`);
  await change();
  const last = await backupBatch(store.repo, left, { source });
  expect(last.remaining).toBeUndefined();
  return { parts: [...parts, last], cutAt: rest.offset };
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
    // an unchanged file is not taken for changed when its rest (or a plan's range) is stat'ed again
    expect(cut.flatMap((p) => p.warnings)).toEqual([]);

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

describe('a file that changes between the parts of a cut batch', () => {
  /** The snapshot of the parts' partial trees. */
  const committed = (store: Store, parts: readonly { partialTree: string }[], sources: string[]) =>
    commitSnapshot(
      store.repo,
      parts.map((p) => p.partialTree),
      { sources, startedAt: 1_000, time: 2_000_000 },
    );
  /** Where the snapshot was restored. */
  const restored = async (store: Store, snapshotId: string): Promise<string> => {
    const to = await tempDir();
    await store.restore(snapshotId, undefined, { to });
    return to;
  };

  /** A source tree with a file larger than a sealing thread takes (streamed here, so cut), planned in one batch. */
  async function plannedLog() {
    const { store } = await newStore({ chunking: CHUNKING });
    const src = join(await tempDir(), 'src');
    const log = randomBytes(5 * MiB + 777);
    await writeTree(src, { 'kept.txt': 'kept', 'log.bin': log });
    const { plan, batches } = await planBatches(store, [src], { ...BATCHES, parent: null });
    expect(batches).toHaveLength(1);
    return { store, src, log, path: `${src}/log.bin`, sources: plan.sources, batch: batches[0]! };
  }

  test('deleted before its rest: the backup commits without it, its error recorded, and the store checks clean', async () => {
    const { store, src, path, sources, batch } = await plannedLog();
    const { parts } = await cutThenChange(store, batch, path, () => rm(path));
    expect(parts.at(-1)!.errors).toEqual([{ path, message: 'vanished during the backup' }]);

    const snapshot = await committed(store, parts, sources);
    expect(snapshot.errors).toEqual([{ path, message: 'vanished during the backup' }]);
    // its first part's bytes are not counted: the summary is that of a backup without the file
    expect(snapshot.summary).toMatchObject({ files: 1, filesRead: 1, bytes: 'kept'.length });
    const to = await tempDir();
    expect((await store.restore(snapshot.id, undefined, { to })).errors).toEqual([]);
    expect(await readFile(join(to, src, 'kept.txt'), 'utf8')).toBe('kept');
    await expect(stat(join(to, path))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await store.check({ readData: true })).ok).toBe(true);
  });

  test('changed in place before its rest: flagged as a file changed while it was read, as one read at once is', async () => {
    const { store, src, log, path, sources, batch } = await plannedLog();
    const other = randomBytes(log.length); // same size, same inode: only the mtime tells
    const { parts, cutAt } = await cutThenChange(store, batch, path, () => writeFile(path, other));
    expect((await stat(path)).size).toBe(log.length);
    expect(parts.flatMap((p) => p.warnings)).toEqual([{ path, message: 'file changed while it was read' }]);

    // what was read is stored, as for a file that changes during one read: its head then its new tail
    const snapshot = await committed(store, parts, sources);
    expect(snapshot.errors).toEqual([]);
    const to = await restored(store, snapshot.id);
    const joined = await readFile(join(to, path));
    expect(joined.equals(Buffer.concat([log.subarray(0, cutAt), other.subarray(cutAt)]))).toBe(true);
    expect(await readFile(join(to, src, 'kept.txt'), 'utf8')).toBe('kept');
  });

  test('shrunk below its cut before its rest: flagged, and what is left of it stored', async () => {
    const { store, log, path, sources, batch } = await plannedLog();
    const { parts, cutAt } = await cutThenChange(store, batch, path, () => truncate(path, 100));
    expect(parts.flatMap((p) => p.warnings)).toEqual([{ path, message: 'file changed while it was read' }]);
    const snapshot = await committed(store, parts, sources);
    const to = await restored(store, snapshot.id);
    // the rest reads nothing past the end: the file holds the head read before it shrank
    expect((await readFile(join(to, path))).equals(log.subarray(0, cutAt))).toBe(true);
  });

  describe('an S3 object', () => {
    const BUCKET = 'kloud-cut';
    const s3 = s3rverForTests([BUCKET]);
    const KEY = 'data/log.bin';

    async function plannedObject() {
      const { store } = await newStore({ chunking: CHUNKING });
      const log = randomBytes(2 * MiB + 99);
      await s3.raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: log }));
      const source = new S3Source(parseLocation(`s3://${BUCKET}/data`, s3.server.options) as S3Location);
      const { plan, batches } = await planBatches(store, ['/'], { ...BATCHES, parent: null }, source);
      expect(batches).toHaveLength(1);
      return { store, log, source, sources: plan.sources, batch: batches[0]! };
    }

    test('unchanged between its parts: no warning (the HEAD of its rest matches the listing), joined byte for byte', async () => {
      const { store, log, source, sources, batch } = await plannedObject();
      const { parts } = await cutThenChange(store, batch, '/log.bin', async () => undefined, source);
      expect(parts.flatMap((p) => [...p.warnings, ...p.errors])).toEqual([]);
      const snapshot = await committed(store, parts, sources);
      const to = await restored(store, snapshot.id);
      expect((await readFile(join(to, 'log.bin'))).equals(log)).toBe(true);
    });

    test('shrunk below its cut before its rest (the range read refused): the backup commits without it, its error recorded', async () => {
      const { store, source, sources, batch } = await plannedObject();
      const { parts } = await cutThenChange(
        store,
        batch,
        '/log.bin',
        () => s3.raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: 'short' })),
        source,
      );
      const last = parts.at(-1)!;
      // a file whose read fails is an error only, as in one read
      expect(last.warnings).toEqual([]);
      expect(last.errors).toEqual([
        {
          path: '/log.bin',
          message: expect.stringMatching(/GetObject .* failed: InvalidRange \(HTTP 416\)/),
        },
      ]);
      const snapshot = await committed(store, parts, sources);
      expect(snapshot.errors).toEqual(last.errors);
      expect(snapshot.summary).toMatchObject({ files: 0, bytes: 0 });
      const to = await restored(store, snapshot.id);
      await expect(stat(join(to, 'log.bin'))).rejects.toMatchObject({ code: 'ENOENT' });
      expect((await store.check({ readData: true })).ok).toBe(true);
    });
  });
});
