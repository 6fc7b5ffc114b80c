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
      const listed = await source.list('/');
      const names = listed.filter((e) => !e.error).map((e) => `${e.type}:${e.name}`);
      expect(names.sort()).toEqual(['dir:2024', 'dir:both', 'dir:empty', 'file:a.txt']);
      // the object `both` cannot sit beside the directory `both`: reported, not dropped silently
      const shadowed = { path: '/both', message: expect.stringMatching(/"logs\/both" is also the prefix/) };
      const file = await source.stat('/2024/y.log');
      expect(file).toMatchObject({ type: 'file', size: 3, mode: 0o644 });
      expect(file.mtimeNs).toBeGreaterThan(0n);
      const missing = await source.stat('/nope').catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(KlosetError);
      expect((missing as KlosetError).code).toBe('PATH_NOT_FOUND');

      const first = await store.backup(['/'], { source });
      expect(first.errors).toEqual([shadowed]);
      expect(first.snapshot!.summary.filesRead).toBe(4);
      const to = await tempDir();
      expect((await store.restore(first.snapshot!.id, undefined, { to })).errors).toEqual([]);
      expect(await readFile(join(to, 'a.txt'), 'utf8')).toBe('alpha');
      expect(await readFile(join(to, '2024/01/x.log'), 'utf8')).toBe('x'.repeat(10_000));
      expect(await readFile(join(to, 'both/inner'), 'utf8')).toBe('inner');

      // same size: the new LastModified or ETag (recorded as the inode) tells it changed
      await put('logs/2024/y.log', 'WHY');
      const second = await store.backup(['/'], { source });
      expect(second.errors).toEqual([shadowed]);
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

  test('keys no file tree can hold are listed marked with an error, never dropped silently', async () => {
    // s3rver keeps objects as files, so it cannot hold such keys: one listing page stands in
    const source = new S3Source(parseLocation(`s3://${BUCKET}/odd`, s3.server.options) as S3Location);
    const page = {
      CommonPrefixes: [{ Prefix: 'odd/./' }, { Prefix: 'odd//' }, { Prefix: 'odd/dir/' }],
      Contents: [{ Key: 'odd/' }, { Key: 'odd/ok' }, { Key: 'odd/..' }, { Key: 'odd/nul\0x' }],
      IsTruncated: false,
    };
    source.client.send = (async () => page) as never;
    try {
      const listed = await source.list('/');
      expect(listed.filter((e) => !e.error).map((e) => e.name)).toEqual(['dir', 'ok']);
      const unnamed =
        'has a path segment no file name can be (empty, ".", ".." or holding NUL); not backed up';
      expect(listed.filter((e) => e.error).map((e) => e.error)).toEqual([
        `the S3 key "odd/./" ${unnamed}`,
        `the S3 key "odd//" ${unnamed}`,
        `the S3 key "odd/.." ${unnamed}`,
        `the S3 key "odd/nul\\u0000x" ${unnamed}`,
      ]);
    } finally {
      await source.close();
    }
  });
});
