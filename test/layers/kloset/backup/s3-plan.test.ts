import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { RequestCounter } from '../../../../bench/request-counter.js';
import { S3Source } from '../../../../layers/kloset/connectors/s3/s3-source.js';
import { type S3Location, parseLocation } from '../../../../layers/kloset/core/location.js';
import { mapLimit } from '../../../../layers/kloset/core/concurrency.js';
import { newStore, tempDir } from '../fixtures.js';
import { s3rverForTests } from '../connectors/s3/s3rver.js';
import { distributedBackup, itemsOf, planBatches, planBatchesInSteps } from './distributed.js';

const BUCKET = 'kloud-plan';
const s3 = s3rverForTests([BUCKET]);
const MiB = 1024 * 1024;
const BUDGET = { maxBatchBytes: 2 * MiB, maxBatchEntries: 250 };

let counter: RequestCounter;
beforeAll(async () => {
  counter = await RequestCounter.start(s3.server.endpoint);
});
afterAll(() => counter.stop());

const put = (key: string, body: string | Buffer) =>
  s3.raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: `data/${key}`, Body: body }));

/** The bucket prefix as a source, its requests going through the counter. */
function source(): S3Source {
  const options = { ...s3.server.options, endpoint: counter.endpoint };
  return new S3Source(parseLocation(`s3://${BUCKET}/data`, options) as S3Location);
}

/** The objects a run read (GET of an object, not a listing), as keys below `data/`. */
function objectsRead(): string[] {
  const { byObject } = counter.take();
  return Object.keys(byObject)
    .filter((k) => k.startsWith(`GET /${BUCKET}/data/`))
    .map((k) => decodeURIComponent(k.slice(`GET /${BUCKET}/data/`.length)))
    .sort();
}

describe('a distributed backup of an S3 prefix', () => {
  test('more keys than a listing page, a large object in ranges, then a second run that reads only the changed objects', async () => {
    const objects = new Map<string, Buffer>();
    for (let i = 0; i < 1100; i++)
      objects.set(`many/k${String(i).padStart(4, '0')}.txt`, Buffer.from(`object ${i}`));
    // s3rver lists keys in the order of its folders (`x/` before `x-1`), where S3 lists them by
    // their bytes (`x-1` first): names whose orders differ are left to the walk tests of local files
    objects.set('logs/2024/a.log', Buffer.from('a'));
    objects.set('logs/b.log', Buffer.from('b'));
    objects.set('big.bin', randomBytes(5 * MiB + 7));
    await mapLimit([...objects], 16, ([key, body]) => put(key, body));

    const { store, location } = await newStore();
    const src = source();
    try {
      counter.take();
      const first = await distributedBackup(store, location, ['/'], BUDGET, src);
      expect(first.snapshot.errors).toEqual([]);
      expect(first.snapshot.summary).toMatchObject({ files: objects.size, filesRead: objects.size });
      expect(itemsOf(first.batches).filter((i) => i.startsWith('range'))).toEqual([
        `range /big.bin@0+${2 * MiB}`,
        `range /big.bin@${2 * MiB}+${2 * MiB}`,
        `range /big.bin@${4 * MiB}+${MiB + 7}`,
      ]);
      // each object read once; the large one once per range
      const firstReads = counter.take().byObject;
      expect(firstReads[`GET /${BUCKET}/data/big.bin`]).toBe(3);
      expect(firstReads[`GET /${BUCKET}/data/many/k0000.txt`]).toBe(1);
      const to = await tempDir();
      expect((await store.restore(first.snapshot.id, undefined, { to })).errors).toEqual([]);
      for (const [key, body] of objects) expect((await readFile(join(to, key))).equals(body)).toBe(true);

      await put('many/k0007.txt', 'object X'); // same size, new ETag
      await put('logs/new.log', 'new');
      await s3.raw.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'data/many/k0008.txt' }));
      counter.take();
      const second = await distributedBackup(store, location, ['/'], BUDGET, src);
      expect(objectsRead()).toEqual(['logs/new.log', 'many/k0007.txt']);
      expect(itemsOf(second.batches)).toEqual([
        'entry /logs/new.log',
        'entry /many/k0007.txt',
        'gone /many/k0008.txt',
      ]);
      expect(second.snapshot.summary).toMatchObject({ files: objects.size, filesRead: 2 });
      const again = await tempDir();
      await store.restore(second.snapshot.id, undefined, { to: again });
      expect(await readFile(join(again, 'many/k0007.txt'), 'utf8')).toBe('object X');
      expect(await readFile(join(again, 'logs/new.log'), 'utf8')).toBe('new');
      await expect(readFile(join(again, 'many/k0008.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
      expect((await readFile(join(again, 'big.bin'))).equals(objects.get('big.bin')!)).toBe(true);
      expect((await store.check({ readData: true })).ok).toBe(true);
    } finally {
      await store.close();
      await src.close();
    }
  });

  test('a plan stopped at every entry resumes from its last key (StartAfter) and yields the batches of one run', async () => {
    for (const key of ['part/a.txt', 'part/x/y.txt', 'part/x/z/w.txt', 'part/z.txt']) await put(key, key);
    const { store } = await newStore();
    const src = source();
    try {
      const once = await planBatches(store, ['/part'], { maxBatchBytes: 20, maxBatchEntries: 2 }, src);
      expect(itemsOf(once.batches)).toEqual([
        'entry /part',
        'entry /part/a.txt',
        'entry /part/x',
        'entry /part/x/y.txt',
        'entry /part/x/z',
        'entry /part/x/z/w.txt',
        'entry /part/z.txt',
      ]);
      const stepped = await planBatchesInSteps(
        store,
        ['/part'],
        { maxBatchBytes: 20, maxBatchEntries: 2 },
        src,
      );
      expect(stepped.batches).toEqual(once.batches);
      expect(stepped.invocations).toBe(7);
    } finally {
      await store.close();
      await src.close();
    }
  });
});
