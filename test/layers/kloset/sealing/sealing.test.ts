import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BatchRun } from '../../../../layers/kloset/backup/batch-run.js';
import { chunkStream } from '../../../../layers/kloset/chunker/fastcdc.js';
import { decodePayload, encodePayload } from '../../../../layers/kloset/compression/codec.js';
import { FsSource } from '../../../../layers/kloset/connectors/fs/fs-source.js';
import { BlobType } from '../../../../layers/kloset/format/blob.js';
import { RepositoryWriter } from '../../../../layers/kloset/repository/repository-writer.js';
import type { Repository } from '../../../../layers/kloset/repository/repository.js';
import type { SealSettings } from '../../../../layers/kloset/sealing/batch-sealer.js';
import {
  PlainBatchBuilder,
  type PlainBatch,
  type SealedBatch,
} from '../../../../layers/kloset/sealing/blob-batch.js';
import { type SealedFiles, chunkIds } from '../../../../layers/kloset/sealing/file-batch.js';
import { sealingWorkers } from '../../../../layers/kloset/sealing/seal-queue.js';
import {
  type SealAnswer,
  type SealRequest,
  sealTransferList,
} from '../../../../layers/kloset/sealing/seal-requests.js';
import { WorkerPool } from '../../../../layers/kloset/workers/worker-pool.js';
import { newStore, removeTempDirs, tempDir, writeTree } from '../fixtures.js';

afterAll(removeTempDirs);

function mkfifo(path: string): void {
  execFileSync('mkfifo', [path]);
}

async function* once(data: Buffer): AsyncGenerator<Buffer> {
  yield data;
}

/** Blobs of every kind the payload encoding treats differently. */
function sampleBlobs(): Buffer[] {
  const text = Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(20_000));
  return [
    Buffer.from('tiny: stored raw'),
    text.subarray(0, 100_000), // compressed in one call on the main thread
    text, // large: the main thread compresses it on the thread pool
    randomBytes(300_000), // incompressible: stored raw
    Buffer.alloc(2 * 1024 * 1024), // zeros
  ];
}

function settingsOf(repo: Repository): SealSettings {
  const { cipher, config, mac } = repo;
  return { cipher: cipher.spec, compression: config.compression, chunking: config.chunking, macKey: mac.key };
}

function batchOf(repo: Repository, blobs: readonly Buffer[]): { batch: PlainBatch; ids: Buffer[] } {
  const builder = new PlainBatchBuilder(Buffer.allocUnsafeSlow(8 * 1024 * 1024), blobs.length);
  const ids = blobs.map((b) => repo.mac.blobId(b));
  blobs.forEach((b, i) => builder.add(BlobType.Data, ids[i]!, b));
  return { batch: builder.finish(), ids };
}

function sealedBlobs(sealed: SealedBatch | SealedFiles): Buffer[] {
  const data = Buffer.from(sealed.buffer.buffer, sealed.buffer.byteOffset, sealed.buffer.length);
  const out: Buffer[] = [];
  for (let i = 0, at = 0; i < sealed.lengths.length; at += sealed.lengths[i++]!)
    out.push(data.subarray(at, at + sealed.lengths[i]!));
  return out;
}

describe('sealing in worker threads', () => {
  test.each([
    ['an encrypted store', {}],
    ['a plaintext store', { plaintext: true }],
  ])('in %s a worker seals what the main thread seals: same codec, same bytes once open', async (_, opts) => {
    const { store } = await newStore(opts);
    const { repo } = store;
    const blobs = sampleBlobs();
    const { batch, ids } = batchOf(repo, blobs);
    const workers = sealingWorkers(settingsOf(repo), 2);
    try {
      const request = { blobs: batch };
      const answer = await workers.run(request, sealTransferList(request));
      const sealed = sealedBlobs((answer as { blobs: SealedBatch }).blobs);
      expect(sealed).toHaveLength(blobs.length);
      const { algorithm, level } = repo.config.compression;
      for (const [i, blob] of blobs.entries()) {
        const id = ids[i]!;
        const inThread = repo.cipher.seal(BlobType.Data, id, await encodePayload(blob, algorithm, level));
        const fromWorker = repo.cipher.open(BlobType.Data, id, sealed[i]!, 'worker blob');
        const fromMain = repo.cipher.open(BlobType.Data, id, Buffer.concat(inThread), 'main blob');
        // same codec choice; zstd frames may differ in their header (a content size or not)
        expect(fromWorker[0]).toBe(fromMain[0]);
        const plain = await decodePayload(fromWorker, 'worker blob');
        expect(plain.equals(blob)).toBe(true);
        expect(plain.equals(await decodePayload(fromMain, 'main blob'))).toBe(true);
      }
    } finally {
      await workers.close();
    }
  });

  test('a worker reads, cuts and seals small files as the main thread would', async () => {
    const { store } = await newStore({ chunking: { min: 64 * 1024, avg: 256 * 1024, max: 1024 * 1024 } });
    const { repo } = store;
    const dir = await tempDir();
    const contents = {
      empty: Buffer.alloc(0),
      small: Buffer.from('a small file'),
      several: Buffer.concat([randomBytes(1_500_000), Buffer.from('text '.repeat(200_000))]),
      big: randomBytes(5 * 1024 * 1024),
    };
    await writeTree(dir, contents);
    mkfifo(join(dir, 'fifo'));
    const paths = [...Object.keys(contents), 'missing', 'fifo'].map((name) => join(dir, name));
    const workers = sealingWorkers(settingsOf(repo), 1);
    try {
      const request = { files: { buffer: Buffer.allocUnsafeSlow(4 * 1024 * 1024), paths } };
      const sealed = ((await workers.run(request, sealTransferList(request))) as { files: SealedFiles })
        .files;
      const ids = chunkIds(sealed);
      const blobs = sealedBlobs(sealed);
      expect(sealed.files.slice(3)).toEqual([
        { tooLarge: true },
        { error: expect.objectContaining({ code: 'ENOENT' }) },
        { error: { message: 'no longer a regular file' } },
      ]);
      let chunk = 0;
      for (const [i, name] of ['empty', 'small', 'several'].entries()) {
        const data = contents[name as keyof typeof contents];
        const expected: Buffer[] = [];
        for await (const c of chunkStream(repo.chunker, once(data))) expected.push(Buffer.from(c));
        expect(sealed.files[i]).toEqual({ size: data.length, chunks: expected.length });
        for (const plain of expected) {
          expect(ids[chunk]!.equals(repo.mac.blobId(plain))).toBe(true);
          const payload = repo.cipher.open(BlobType.Data, ids[chunk]!, blobs[chunk]!, 'worker blob');
          expect((await decodePayload(payload, 'worker blob')).equals(plain)).toBe(true);
          chunk++;
        }
      }
      expect(chunk).toBe(ids.length);
      expect(contents.several.length).toBeGreaterThan(3 * 64 * 1024); // several chunks
    } finally {
      await workers.close();
    }
  });

  test('a worker that dies fails its request and every later one with a clear error', async () => {
    const pool = new WorkerPool<SealRequest, SealAnswer>(
      'sealing',
      new URL('./crashing-seal-worker.js', import.meta.url),
      2,
      {},
    );
    const { store } = await newStore();
    try {
      const request = { blobs: batchOf(store.repo, [Buffer.from('x')]).batch };
      await expect(pool.run(request, sealTransferList(request))).rejects.toThrow(
        'a sealing worker thread failed: simulated crash while sealing',
      );
      const again = { blobs: batchOf(store.repo, [Buffer.from('y')]).batch };
      await expect(pool.run(again, sealTransferList(again))).rejects.toThrow(/sealing worker thread failed/);
    } finally {
      await pool.close();
    }
  });

  test('a sealing worker that dies fails the backup, which commits nothing', async () => {
    const { store, location } = await newStore();
    const src = join(await tempDir(), 'src');
    // 24 MB: more than the main thread seals before it starts the threads
    const files = () =>
      Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, randomBytes(400_000)]));
    await writeTree(src, { ...files(), sub: { dir: files() }, 'z-last': { dir: files() } });
    const writer = new RepositoryWriter(store.repo);
    const run = new BatchRun(writer, {
      source: new FsSource(),
      startSealing: () =>
        new WorkerPool('sealing', new URL('./crashing-seal-worker.js', import.meta.url), 2, {}),
    });
    await expect(run.run([src])).rejects.toThrow(/sealing worker thread failed/);
    expect(await readdir(join(location, 'index'))).toEqual([]);
    // the next backup runs as if the failed one had not happened
    const next = await store.backup([src]);
    expect(next.summary.files).toBe(60);
    expect((await store.check({ readData: true })).ok).toBe(true);
  });
});
