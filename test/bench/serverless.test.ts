import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { GetObjectCommand, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { openStore } from '../../layers/kloset/index.js';
import { startS3rver } from '../../local/s3rver.js';
import {
  BENCH_PASSPHRASE,
  type ServerlessBenchResult,
  SOURCE_BUCKET,
  SOURCE_PREFIX,
  STORE_BUCKET,
  checkOnlyChangedRead,
  runServerlessBench,
  s3Place,
} from '../../bench/serverless/serverless-bench.js';
import { renderServerlessReport } from '../../bench/serverless/serverless-report.js';
import { s3rverClient } from '../../bench/serverless/source-bucket.js';

const MiB = 2 ** 20;
let workDir: string;
let result: ServerlessBenchResult;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'kloud-serverless-bench-'));
  result = await runServerlessBench(
    {
      objects: 200,
      seed: 7,
      workers: [2],
      changePercent: 3,
      // the largest object (2.5 batches) is read in three ranges
      maxBatchBytes: 4 * MiB,
      maxBatchEntries: 100,
      indexMemoryBudget: 64 * MiB,
      workDir: join(workDir, 'bench'),
    },
    () => undefined,
  );
}, 600_000);
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** SHA-256 of every file below `dir`, by path relative to it. */
async function digestTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[relative(dir, path)] = createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  }
  return out;
}

/** SHA-256 of every object below the source prefix, by key relative to it. */
async function digestBucket(endpoint: string): Promise<Record<string, string>> {
  const client = s3rverClient(endpoint);
  const out: Record<string, string> = {};
  try {
    for await (const page of paginateListObjectsV2(
      { client },
      { Bucket: SOURCE_BUCKET, Prefix: `${SOURCE_PREFIX}/` },
    ))
      for (const { Key } of page.Contents ?? []) {
        const object = await client.send(new GetObjectCommand({ Bucket: SOURCE_BUCKET, Key }));
        const body = Buffer.from(await object.Body!.transformToByteArray());
        out[Key!.slice(SOURCE_PREFIX.length + 1)] = createHash('sha256').update(body).digest('hex');
      }
  } finally {
    client.destroy();
  }
  return out;
}

describe('the serverless backup benchmark', () => {
  test('the first run reads every object and byte once, in batches and ranges', () => {
    const first = result.runs.find((r) => r.round === 'first')!;
    expect(first.objectsRead).toBe(result.sourceObjects);
    expect(first.bytesRead).toBe(result.sourceBytes);
    // the 10 MiB object takes three GETs, one per range
    expect(first.sourceGets).toBe(result.sourceObjects + 2);
    expect(first.files).toBe(result.sourceObjects);
    expect(first.batches).toBeGreaterThanOrEqual(4);
    expect(first.storeRequests.PUT).toBeGreaterThan(first.batches);
    expect(first.worker.cpuSeconds).toBeGreaterThan(0);
    expect(first.worker.peakRssBytes).toBeGreaterThan(first.plan.peakRssBytes / 4);
  });

  test('the second run reads only the changed objects and keeps the rest from the parent', () => {
    const first = result.runs.find((r) => r.round === 'first')!;
    const second = result.runs.find((r) => r.round === 'second')!;
    expect(result.changed).toBe(6);
    expect(second.objectsRead).toBe(result.changed);
    expect(second.bytesRead).toBeLessThan(first.bytesRead / 5);
    expect(second.files).toBe(result.sourceObjects);
    expect(second.newBytes).toBeLessThan(first.newBytes);
    expect(second.snapshot).not.toBe(first.snapshot);
  });

  test('a second run that read an unchanged object, or missed a changed one, fails the benchmark', () => {
    const second = result.runs.find((r) => r.round === 'second')!;
    expect(() => checkOnlyChangedRead(second, ['a', 'b'], ['a'])).toThrow(/read 1 unchanged objects \(b\)/);
    expect(() => checkOnlyChangedRead(second, ['a'], ['a', 'c'])).toThrow(/missed 1 changed ones \(c\)/);
    expect(() => checkOnlyChangedRead(second, ['a'], ['a'])).not.toThrow();
  });

  test('the report has a row per run', () => {
    const rows = renderServerlessReport(result)
      .split('\n')
      .filter((line) => /^\| (first|second) \| 2 \| \d+ \|/.test(line));
    expect(rows).toHaveLength(2);
  });

  test('each snapshot restores the bucket as it was backed up', async () => {
    const server = await startS3rver(join(workDir, 'bench', 's3rver'), [SOURCE_BUCKET, STORE_BUCKET]);
    try {
      const store = await openStore(s3Place(server.endpoint, STORE_BUCKET, 'n2'), {
        passphrase: BENCH_PASSPHRASE,
      });
      const to = join(workDir, 'restored');
      try {
        const second = result.runs.find((r) => r.round === 'second')!;
        expect((await store.restore(second.snapshot, undefined, { to })).errors).toEqual([]);
      } finally {
        await store.close();
      }
      const restored = await digestTree(join(to, `s3:${SOURCE_BUCKET}`, SOURCE_PREFIX));
      expect(Object.keys(restored)).toHaveLength(result.sourceObjects);
      expect(restored).toEqual(await digestBucket(server.endpoint));
    } finally {
      await server.stop();
    }
  });
});
