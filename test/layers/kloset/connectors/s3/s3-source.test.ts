import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { S3Source } from '../../../../../layers/kloset/connectors/s3/s3-source.js';
import { KlosetError } from '../../../../../layers/kloset/index.js';
import { newStore, tempDir } from '../../fixtures.js';
import { s3rverForTests } from './s3rver.js';
import { parseLocation, type S3Location } from '../../../../../layers/kloset/core/location.js';

const BUCKET = 'kloud-source';
const s3 = s3rverForTests([BUCKET]);

const put = (key: string, body: string | Buffer) =>
  s3.raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));

describe('S3 bucket prefix as a backup source', () => {
  test('objects become files and key prefixes directories; a changed ETag is read again', async () => {
    await put('logs/a.txt', 'alpha');
    await put('logs/2024/01/x.log', 'x'.repeat(10_000));
    await put('logs/2024/y.log', 'why');
    await put('logs/empty/', Buffer.alloc(0)); // a console-made folder marker
    await put('logs/both', 'a file that is also a prefix');
    await put('logs/both/inner', 'inner');
    await put('outside.txt', 'not under the prefix');

    const source = new S3Source(parseLocation(`s3://${BUCKET}/logs`, s3.server.options) as S3Location);
    const { store } = await newStore();
    try {
      const root = await source.stat('/');
      expect(root.type).toBe('dir');
      const names = (await source.list('/')).map((e) => `${e.type}:${e.name}`).sort();
      expect(names).toEqual(['dir:2024', 'dir:both', 'dir:empty', 'file:a.txt']);
      const file = await source.stat('/2024/y.log');
      expect(file).toMatchObject({ type: 'file', size: 3, mode: 0o644 });
      expect(file.mtimeNs).toBeGreaterThan(0n);
      const missing = await source.stat('/nope').catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(KlosetError);
      expect((missing as KlosetError).code).toBe('PATH_NOT_FOUND');

      const first = await store.backup(['/'], { source });
      expect(first.errors).toEqual([]);
      expect(first.snapshot!.summary.filesRead).toBe(4);
      const to = await tempDir();
      expect((await store.restore(first.snapshot!.id, undefined, { to })).errors).toEqual([]);
      expect(await readFile(join(to, 'a.txt'), 'utf8')).toBe('alpha');
      expect(await readFile(join(to, '2024/01/x.log'), 'utf8')).toBe('x'.repeat(10_000));
      expect(await readFile(join(to, 'both/inner'), 'utf8')).toBe('inner');

      // same size: the new LastModified or ETag (recorded as the inode) tells it changed
      await put('logs/2024/y.log', 'WHY');
      const second = await store.backup(['/'], { source });
      expect(second.errors).toEqual([]);
      expect(second.snapshot!.summary.filesRead).toBe(1);
      const lines: string[] = [];
      for await (const c of store.diff({ ref: first.snapshot!.id }, { ref: second.snapshot!.id }))
        lines.push(`${c.change} ${c.path}`);
      expect(lines).toEqual(['modified /2024/y.log']);
    } finally {
      await store.close();
      await source.close();
    }
  });
});
