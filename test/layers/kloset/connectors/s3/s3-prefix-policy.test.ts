/**
 * The S3 connector for a caller allowed to list only under a prefix (lib/store-buckets.ts), against
 * s3rver behind prefix-policy-proxy.ts: S3 then answers a missing key with 403, and the connector
 * must still tell "missing" from "access denied".
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { S3Source } from '../../../../../layers/kloset/connectors/s3/s3-source.js';
import { S3Store } from '../../../../../layers/kloset/connectors/s3/s3-store.js';
import { KlosetError, createStore, openDestination, openStore } from '../../../../../layers/kloset/index.js';
import { type S3Location, parseLocation } from '../../../../../layers/kloset/core/location.js';
import { FAST_KDF, PASSPHRASE, failureOf, newStore, tempDir, treeDigest, writeTree } from '../../fixtures.js';
import { type PrefixPolicyProxy, startPrefixPolicyProxy } from './prefix-policy-proxy.js';
import { s3rverForTests } from './s3rver.js';

const BUCKET = 'kloud-prefixed';
const ALLOWED = 'tenant/';
const s3 = s3rverForTests([BUCKET]);
let proxy: PrefixPolicyProxy;
beforeAll(async () => {
  proxy = await startPrefixPolicyProxy(s3.server, ALLOWED);
});
afterAll(async () => {
  await proxy?.close();
});

const at = (prefix: string) =>
  parseLocation(`s3://${BUCKET}/${ALLOWED}${prefix}`, proxy.options) as S3Location;

test('the proxy answers a missing key with 403, as S3 does under a prefix condition', async () => {
  const store = new S3Store(at('raw'));
  try {
    const before = proxy.hiddenMisses;
    // without the exact-key listing this HEAD's 403 would be "access denied"
    expect(await store.stat('config', 'config')).toBeUndefined();
    expect(proxy.hiddenMisses).toBe(before + 1);
    expect(proxy.listings.at(-1)).toEqual({ prefix: `${ALLOWED}raw/config`, maxKeys: 1 });
  } finally {
    await store.close();
  }
});

test('create, backup, restore and check --read-data work; a missing pack is CORRUPT', async () => {
  await createStore(at('stores/one'), { passphrase: PASSPHRASE, kdf: FAST_KDF, packSize: 64 * 1024 });
  const src = join(await tempDir(), 'src');
  await writeTree(src, {
    'hello.txt': 'hello',
    big: Buffer.alloc(200 * 1024, 3),
    sub: { dir: { 'x.bin': Buffer.alloc(70 * 1024, 9), link: { symlink: '../hello.txt' } } },
  });
  const store = await openStore(at('stores/one'), { passphrase: PASSPHRASE });
  try {
    const { snapshot, errors } = await store.backup([src]);
    expect(errors).toEqual([]);
    const to = await tempDir();
    expect((await store.restore(snapshot!.id, undefined, { to })).errors).toEqual([]);
    expect(await treeDigest(join(to, src))).toEqual(await treeDigest(src));
    const report = await store.check({ readData: true });
    expect(report.problems).toEqual([]);

    // an object the index names but the bucket lacks: missing, not refused
    const err = await failureOf(store.repo.backend.get('packs', 'ab'.repeat(32)));
    expect(err.code).toBe('CORRUPT');
    expect(err.message).toMatch(/is missing from/);
    const thaw = await failureOf((store.repo.backend as S3Store).thawState('packs', 'cd'.repeat(32)));
    expect(thaw.code).toBe('CORRUPT');
  } finally {
    await store.close();
  }
  expect(proxy.hiddenMisses).toBeGreaterThan(0);
});

test('opening an empty prefix says there is no store, not access denied', async () => {
  const err = await failureOf(openStore(at('stores/none'), { passphrase: PASSPHRASE }));
  expect(err.code).toBe('STORE_NOT_FOUND');
});

test('a restore into a destination prefix; that prefix as a backup source', async () => {
  const data = join(await tempDir(), 'data');
  await writeTree(data, { 'a.txt': 'first', deep: { dir: { 'b.bin': Buffer.alloc(1000, 7) } } });
  const { store } = await newStore();
  try {
    const first = (await store.backup([data])).snapshot!;
    const dest = await openDestination(at('out'));
    const result = await store.restore(first.id, data, { destination: dest });
    await dest.close();
    expect(result).toMatchObject({ files: 2, skipped: 0, errors: [] });
    // the objects are there now: a second restore finds them and keeps them
    const again = await openDestination(at('out'));
    expect((await store.restore(first.id, data, { destination: again, overwrite: 'never' })).skipped).toBe(2);
    await again.close();

    // as a backup source: `deep` is a prefix, not a key; its HEAD is refused and the exact-key
    // listing finds `deep/b.bin` only, so it is a directory
    const name = data.split('/').pop()!;
    const source = new S3Source(at('out'));
    try {
      expect(await source.stat(`/${name}/deep`)).toMatchObject({ type: 'dir' });
      expect(await source.stat(`/${name}/a.txt`)).toMatchObject({ type: 'file', size: 5 });
      expect((await failureOf(source.stat(`/${name}/none`))).code).toBe('PATH_NOT_FOUND');
    } finally {
      await source.close();
    }
  } finally {
    await store.close();
  }
});

test('a real refusal of an existing key still says access denied', async () => {
  await createStore(at('stores/denied'), { passphrase: PASSPHRASE, kdf: FAST_KDF });
  const config = `${ALLOWED}stores/denied/config`;
  proxy.denied.add(config);
  try {
    const err = await failureOf(openStore(at('stores/denied'), { passphrase: PASSPHRASE }));
    expect(err).toBeInstanceOf(KlosetError);
    expect(err.message).toMatch(
      /access denied to s3:\/\/kloud-prefixed\/tenant\/stores\/denied \(GetObject\)/,
    );
    const store = new S3Store(at('stores/denied'));
    try {
      const head = await failureOf(store.stat('config', 'config'));
      expect(head.message).toMatch(/access denied .*\(HeadObject\)/);
    } finally {
      await store.close();
    }
  } finally {
    proxy.denied.delete(config);
  }
});

test('a key beside a longer one is told apart: only the exact key counts', async () => {
  const raw = s3.raw;
  await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${ALLOWED}near/configX`, Body: 'x' }));
  const store = new S3Store(at('near'));
  try {
    expect(await store.stat('config', 'config')).toBeUndefined();
  } finally {
    await store.close();
  }
});

test('a listing that fails otherwise than by a refusal is its own error, not an access denied', async () => {
  const store = new S3Store(at('failing'));
  proxy.failingListings = true;
  try {
    const err = await failureOf(store.stat('config', 'config'));
    expect(err).toBeInstanceOf(KlosetError);
    expect(err.message).toMatch(/ListObjectsV2/);
    expect(err.message).not.toMatch(/access denied/);
  } finally {
    proxy.failingListings = false;
    await store.close();
  }
});
