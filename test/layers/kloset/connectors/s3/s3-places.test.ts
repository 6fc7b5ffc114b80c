/** Backups that mix S3 and local places, and restores into an S3 prefix, against s3rver. */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KlosetError, openDestination, openSources } from '../../../../../layers/kloset/index.js';
import { failureOf, newStore, tempDir, treeDigest, writeTree } from '../../fixtures.js';
import { s3rverForTests } from './s3rver.js';
import { parseLocation } from '../../../../../layers/kloset/core/location.js';

const BUCKET = 'kloud-places';
const s3 = s3rverForTests([BUCKET]);

const put = (key: string, body: string) =>
  s3.raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));

async function objectText(key: string): Promise<string> {
  const res = await s3.raw.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return res.Body!.transformToString();
}

test('one snapshot holds a local tree and two prefixes of a bucket, each restorable', async () => {
  await put('logs/app.log', 'log line\n');
  await put('logs/2024/old.log', 'older\n');
  await put('site/index.html', '<p>hi</p>');
  const local = await tempDir();
  await writeTree(local, {
    'etc.conf': 'a=1\n',
    sub: { dir: { 'x.txt': 'x' } },
    link: { symlink: 'etc.conf' },
  });
  const { store } = await newStore();
  const opened = await openSources([
    local,
    parseLocation(`s3://${BUCKET}/logs`, s3.server.options),
    parseLocation(`s3://${BUCKET}/site`, s3.server.options),
  ]);
  try {
    expect(opened.paths).toEqual([local, `/s3:${BUCKET}/logs`, `/s3:${BUCKET}/site`]);
    // local files keep the backup's fast path (worker threads read them); remote ones cannot
    expect(opened.source.localPath?.(`${local}/etc.conf`)).toBe(`${local}/etc.conf`);
    expect(opened.source.localPath?.(`/s3:${BUCKET}/logs/app.log`)).toBeUndefined();
    const { snapshot, errors } = await store.backup(opened.paths, { source: opened.source });
    expect(errors).toEqual([]);
    expect(snapshot!.sources).toEqual([...opened.paths].sort());

    const top = (await store.ls(snapshot!.id, '/')).map((e) => e.name);
    expect(top).toContain(`s3:${BUCKET}`);
    const mount = (await store.ls(snapshot!.id, `/s3:${BUCKET}`)).map((e) => e.name);
    expect(mount).toEqual(['logs', 'site']);

    const to = await tempDir();
    expect((await store.restore(snapshot!.id, undefined, { to })).errors).toEqual([]);
    expect(await readFile(join(to, `s3:${BUCKET}/logs/2024/old.log`), 'utf8')).toBe('older\n');
    expect(await readFile(join(to, `s3:${BUCKET}/site/index.html`), 'utf8')).toBe('<p>hi</p>');
    expect(await treeDigest(join(to, local))).toEqual(await treeDigest(local));

    // nothing changed: the next backup of the same places reads no file again
    const again = await store.backup(opened.paths, { source: opened.source });
    expect(again.snapshot!.summary.filesRead).toBe(0);
  } finally {
    await opened.close();
    await store.close();
  }
});

test('one bucket with two different settings is refused before anything is read', async () => {
  const err = await failureOf(
    openSources([
      parseLocation(`s3://${BUCKET}/a`, s3.server.options),
      parseLocation(`s3://${BUCKET}/b`, { ...s3.server.options, region: 'eu-west-1' }),
    ]),
  );
  expect(err.code).toBe('INVALID_ARGUMENT');
  expect(err.message).toMatch(/s3:kloud-places is given twice with different settings/);
});

test('a restore into an S3 prefix: objects with metadata, links as marked objects, overwrite policy', async () => {
  const data = await tempDir();
  await writeTree(data, {
    'a.txt': 'first',
    deep: { dir: { 'b.bin': Buffer.alloc(70_000, 7) } },
    l: { symlink: 'a.txt' },
  });
  const { store } = await newStore();
  const destination = async () => openDestination(parseLocation(`s3://${BUCKET}/out`, s3.server.options));
  try {
    const first = (await store.backup([data])).snapshot!;
    const dest = await destination();
    const result = await store.restore(first.id, data, { destination: dest });
    await dest.close();
    expect(result).toMatchObject({ files: 2, symlinks: 1, skipped: 0, errors: [] });
    const name = data.split('/').pop()!;
    expect(await objectText(`out/${name}/a.txt`)).toBe('first');
    expect(await objectText(`out/${name}/l`)).toBe('a.txt');
    const head = await s3.raw.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `out/${name}/deep/b.bin` }));
    expect(head.ContentLength).toBe(70_000);
    expect(head.Metadata).toMatchObject({ 'kloud-type': 'file', 'kloud-mode': '644' });
    const link = await s3.raw.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `out/${name}/l` }));
    expect(link.Metadata?.['kloud-type']).toBe('symlink');

    // a newer a.txt in a second snapshot: `never` keeps the object, `if-newer` replaces it
    await writeFile(join(data, 'a.txt'), 'second');
    await utimes(join(data, 'a.txt'), new Date(Date.now() + 60_000), new Date(Date.now() + 60_000));
    const second = (await store.backup([data])).snapshot!;
    for (const [overwrite, expected, skipped] of [
      ['never', 'first', 3],
      ['if-newer', 'second', 2],
    ] as const) {
      const d = await destination();
      const r = await store.restore(second.id, data, { destination: d, overwrite });
      await d.close();
      expect(r.skipped).toBe(skipped);
      expect(await objectText(`out/${name}/a.txt`)).toBe(expected);
    }
  } finally {
    await store.close();
  }
});

test('a destination in an archive class, or one in a missing bucket, is one clear error', async () => {
  const archive = await failureOf(
    openDestination(parseLocation(`s3://${BUCKET}/x`, { ...s3.server.options, storage_class: 'GLACIER' })),
  );
  expect(archive.code).toBe('INVALID_ARGUMENT');
  const { store } = await newStore();
  try {
    const data = await tempDir();
    await writeTree(data, { f: 'f' });
    const snap = (await store.backup([data])).snapshot!;
    const dest = await openDestination(parseLocation('s3://no-such-bucket/x', s3.server.options));
    const err = await store.restore(snap.id, undefined, { destination: dest }).catch((e: unknown) => e);
    await dest.close();
    expect(err).toBeInstanceOf(KlosetError);
    expect((err as KlosetError).code).toBe('BUCKET_NOT_FOUND');
  } finally {
    await store.close();
  }
});
