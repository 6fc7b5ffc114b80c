import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_CHUNK_SIZES, FastCdc, chunkStream } from '../layers/kloset/chunker/fastcdc.js';
import { decodePayload, encodePayload } from '../layers/kloset/compression/codec.js';
import { FsStore } from '../layers/kloset/connectors/fs/fs-store.js';
import { AesGcmCipher } from '../layers/kloset/crypto/blob-cipher.js';
import { StoreMac } from '../layers/kloset/crypto/mac.js';
import { BlobType, PackKind } from '../layers/kloset/format/blob.js';
import { BudgetedMerge } from '../layers/kloset/index/budgeted-merge.js';
import { IndexTable, type BlobRecord, type PackInfo } from '../layers/kloset/index/index-table.js';
import { PackBuilder } from '../layers/kloset/pack/pack-builder.js';
import { DEFAULT_PACK_SIZE } from '../layers/kloset/repository/repository.js';
import { SeededRandom } from './seeded-random.js';

/**
 * The engine's stages alone, each called the way the backup pipeline calls it (per chunk, with
 * the store's defaults), so a regression in `npm run bench` can be traced to one stage. Each
 * throughput stage runs over the same sample of real system files; the figure is the median of
 * `REPETITIONS` passes after one warm-up pass.
 */

export interface MicroFigure {
  readonly stage: string;
  /** The engine module measured, relative to layers/kloset/. */
  readonly module: string;
  readonly value: number;
  readonly unit: 'MB/s' | 'ns/lookup' | 's';
  readonly samples: number[];
}

const REPETITIONS = 3;
/** zstd level of a store created with the defaults (Repository.create). */
const COMPRESSION_LEVEL = 3;
const PIECE = 1 << 20;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

async function throughput(
  stage: string,
  module: string,
  bytes: number,
  pass: () => Promise<void> | void,
): Promise<MicroFigure> {
  await pass(); // warm-up: JIT, allocator and page faults of first use are not the stage's speed
  const samples: number[] = [];
  for (let i = 0; i < REPETITIONS; i++) {
    const t = performance.now();
    await pass();
    samples.push(bytes / 1e6 / ((performance.now() - t) / 1000));
  }
  return { stage, module, value: median(samples), unit: 'MB/s', samples };
}

async function mapInFlight<T>(
  items: readonly T[],
  inFlight: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

export interface MicroContext {
  /** Real file content, concatenated. */
  readonly sample: Buffer;
  readonly scratchDir: string;
  readonly indexEntries: number;
  readonly parallelism: number;
  readonly seed: number;
  readonly log: (line: string) => void;
}

export async function measureStages(ctx: MicroContext): Promise<MicroFigure[]> {
  const { sample } = ctx;
  const figures: MicroFigure[] = [];
  const record = (f: MicroFigure): void => {
    figures.push(f);
    ctx.log(`  ${f.stage}: ${f.value.toFixed(f.unit === 'MB/s' ? 0 : 1)} ${f.unit}`);
  };
  const cdc = new FastCdc({
    algorithm: 'fastcdc',
    ...DEFAULT_CHUNK_SIZES,
    seed: randomBytes(32).toString('hex'),
  });

  const chunks: Buffer[] = [];
  for (let start = 0; start < sample.length;) {
    const n = cdc.cut(sample, start, sample.length);
    chunks.push(sample.subarray(start, start + n));
    start += n;
  }
  ctx.log(`micro: ${(sample.length / 1e6).toFixed(0)} MB of real files, ${chunks.length} chunks`);

  record(
    await throughput('chunking: FastCdc.cut', 'chunker/fastcdc.ts', sample.length, () => {
      for (let start = 0; start < sample.length;) start += cdc.cut(sample, start, sample.length);
    }),
  );
  record(
    await throughput('chunking: chunkStream, 1 MiB reads', 'chunker/fastcdc.ts', sample.length, async () => {
      async function* pieces(): AsyncGenerator<Buffer> {
        for (let o = 0; o < sample.length; o += PIECE) yield sample.subarray(o, o + PIECE);
      }
      for await (const chunk of chunkStream(cdc, pieces())) void chunk;
    }),
  );

  const mac = new StoreMac(randomBytes(32));
  record(
    await throughput('blob ID: HMAC-SHA256 per chunk', 'crypto/mac.ts', sample.length, () => {
      for (const c of chunks) mac.blobId(c);
    }),
  );

  record(
    await throughput(
      `compression: zstd-${COMPRESSION_LEVEL}, 1 in flight`,
      'compression/codec.ts',
      sample.length,
      async () => {
        for (const c of chunks) await encodePayload(c, 'zstd', COMPRESSION_LEVEL);
      },
    ),
  );
  record(
    await throughput(
      `compression: zstd-${COMPRESSION_LEVEL}, ${ctx.parallelism} in flight`,
      'compression/codec.ts',
      sample.length,
      () => mapInFlight(chunks, ctx.parallelism, (c) => encodePayload(c, 'zstd', COMPRESSION_LEVEL)),
    ),
  );
  const payloads: Buffer[][] = [];
  for (const c of chunks) payloads.push(await encodePayload(c, 'zstd', COMPRESSION_LEVEL));
  const encoded = payloads.map((p) => Buffer.concat(p));
  const encodedBytes = encoded.reduce((n, p) => n + p.length, 0);
  ctx.log(`micro: compression ratio ${(sample.length / encodedBytes).toFixed(2)}`);
  record(
    await throughput(
      'decompression: zstd, 1 in flight (MB/s of output)',
      'compression/codec.ts',
      sample.length,
      async () => {
        for (const p of encoded) await decodePayload(p, 'micro blob');
      },
    ),
  );

  const cipher = new AesGcmCipher(randomBytes(32));
  const ids = chunks.map((c) => mac.blobId(c));
  record(
    await throughput('encryption: AES-256-GCM seal per chunk', 'crypto/blob-cipher.ts', sample.length, () => {
      chunks.forEach((c, i) => cipher.seal(BlobType.Data, ids[i], [c]));
    }),
  );
  const sealed = chunks.map((c, i) => cipher.seal(BlobType.Data, ids[i], [c]));
  const sealedWhole = sealed.map((s) => Buffer.concat(s));
  record(
    await throughput('decryption: AES-256-GCM open per chunk', 'crypto/blob-cipher.ts', sample.length, () => {
      sealedWhole.forEach((s, i) => cipher.open(BlobType.Data, ids[i], s, 'micro blob'));
    }),
  );

  const storeDir = join(ctx.scratchDir, 'pack-store');
  const sealedBytes = sealedWhole.reduce((n, s) => n + s.length, 0);
  record(
    await throughput(
      `pack writing: PackBuilder + FsStore.put, ${DEFAULT_PACK_SIZE >> 20} MiB packs`,
      'pack/pack-builder.ts',
      sealedBytes,
      async () => {
        await rm(storeDir, { recursive: true, force: true });
        const store = new FsStore(storeDir);
        await store.prepare();
        let builder = new PackBuilder(PackKind.Data);
        const flush = async (): Promise<void> => {
          const { pack } = builder.finish(cipher, mac.authenticator);
          await store.put('packs', pack.name, pack.parts);
          builder = new PackBuilder(PackKind.Data);
        };
        for (let i = 0; i < sealed.length; i++) {
          builder.add(ids[i] as Buffer, BlobType.Data, sealed[i] as Buffer[], (chunks[i] as Buffer).length);
          if (builder.size >= DEFAULT_PACK_SIZE) await flush();
        }
        if (builder.count > 0) await flush();
      },
    ),
  );
  await rm(storeDir, { recursive: true, force: true });

  await measureIndex(ctx, record);
  return figures;
}

/**
 * A merged index of `indexEntries` blobs built the way a store opens: many deltas (as many
 * backups wrote them) merged into one table, then looked up with IDs that are present (a
 * restore) and absent (a backup meeting new data).
 */
async function measureIndex(ctx: MicroContext, add: (f: MicroFigure) => void): Promise<void> {
  const rng = new SeededRandom(ctx.seed, 'micro-index');
  const deltas = Math.max(1, Math.min(100, Math.ceil(ctx.indexEntries / 100_000)));
  const perDelta = Math.ceil(ctx.indexEntries / deltas);
  const lookups = Math.min(200_000, ctx.indexEntries);
  const hits: Buffer[] = [];
  const tables: IndexTable[] = [];
  ctx.log(`micro: building ${deltas} index deltas of ${perDelta} blobs`);
  for (let d = 0; d < deltas; d++) {
    const packs: PackInfo[] = Array.from({ length: 64 }, () => ({
      name: rng.bytes(32).toString('hex'),
      kind: PackKind.Data,
      size: DEFAULT_PACK_SIZE,
    }));
    const idBytes = rng.bytes(perDelta * 32);
    const records: BlobRecord[] = [];
    for (let i = 0; i < perDelta; i++) {
      const id = idBytes.subarray(i * 32, i * 32 + 32);
      records.push({
        id,
        type: BlobType.Data,
        packNo: i % 64,
        offset: 8 + i * 1000,
        length: 1000,
        rawLength: 1800,
      });
      if (i < Math.ceil(lookups / deltas)) hits.push(Buffer.from(id));
    }
    tables.push(IndexTable.fromRecords(packs, records));
  }

  const t = performance.now();
  const merged = IndexTable.merge(tables);
  const mergeSeconds = (performance.now() - t) / 1000;
  tables.length = 0;
  add({
    stage: `index: merge ${deltas} deltas into ${merged.blobCount} entries`,
    module: 'index/index-table.ts',
    value: mergeSeconds,
    unit: 's',
    samples: [mergeSeconds],
  });

  const misses = Array.from({ length: hits.length }, () => rng.bytes(32));
  rng.shuffle(hits);
  const perLookup = (stage: string, ids: readonly Buffer[], lookup: (id: Buffer) => unknown): MicroFigure => {
    const samples: number[] = [];
    for (let r = 0; r < REPETITIONS; r++) {
      const start = performance.now();
      for (const id of ids) lookup(id);
      samples.push(((performance.now() - start) * 1e6) / ids.length);
    }
    return { stage, module: 'index/index-table.ts', value: median(samples), unit: 'ns/lookup', samples };
  };
  const n = merged.blobCount.toLocaleString('en-US');
  add(perLookup(`index: has() hit, ${n} entries`, hits, (id) => merged.has(id)));
  add(perLookup(`index: has() miss, ${n} entries`, misses, (id) => merged.has(id)));
  add(perLookup(`index: find() hit, ${n} entries`, hits, (id) => merged.find(id)));

  // the same index spilled to disk within 1/16 of the in-memory table (a Lambda worker's budget)
  const budget = Math.ceil((merged.blobCount * 53) / 16);
  const spillStart = performance.now();
  const merge = new BudgetedMerge(join(ctx.scratchDir, 'index-spill'), budget);
  merge.add(merged);
  const spilled = merge.finish();
  const spillSeconds = (performance.now() - spillStart) / 1000;
  add({
    stage: `index: spill ${n} entries within ${(budget / 2 ** 20).toFixed(0)} MiB`,
    module: 'index/budgeted-merge.ts',
    value: spillSeconds,
    unit: 's',
    samples: [spillSeconds],
  });
  const spilledFigure = (f: MicroFigure): MicroFigure => ({ ...f, module: 'index/spilled-index.ts' });
  add(spilledFigure(perLookup(`index: spilled has() hit, ${n} entries`, hits, (id) => spilled.has(id))));
  add(spilledFigure(perLookup(`index: spilled has() miss, ${n} entries`, misses, (id) => spilled.has(id))));
  add(spilledFigure(perLookup(`index: spilled find() hit, ${n} entries`, hits, (id) => spilled.find(id))));
  spilled.close();
}
