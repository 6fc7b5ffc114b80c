import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  createStore,
  openStore,
  probeLocation,
  storeNeedsPassphrase,
} from '../../../../../layers/kloset/index.js';
import { S3Store } from '../../../../../layers/kloset/connectors/s3/s3-store.js';
import {
  FAST_KDF,
  PASSPHRASE,
  failureOf as failure,
  tempDir,
  treeDigest,
  writeTree,
} from '../../fixtures.js';
import { awsCli, s3rverForTests } from './s3rver.js';
import { parseLocation, type S3Location } from '../../../../../layers/kloset/core/location.js';

const BUCKET = 'kloud-test';
const s3 = s3rverForTests([BUCKET]);

const create = (location: string) =>
  createStore(parseLocation(location, s3.server.options), { passphrase: PASSPHRASE, kdf: FAST_KDF });

/** Records the commands (and their inputs) a store's SDK client sends. */
function watch(backend: S3Store): { command: string; input: Record<string, unknown> }[] {
  const seen: { command: string; input: Record<string, unknown> }[] = [];
  backend.client.middlewareStack.add(
    (next, context) => (args) => {
      seen.push({ command: context.commandName!, input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize' },
  );
  return seen;
}

/** A port on 127.0.0.1 that nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('S3 store against s3rver', () => {
  test('create, backup, restore and check --read-data round trip; the AWS CLI sees the layout', async () => {
    const location = `s3://${BUCKET}/stores/roundtrip`;
    expect(await probeLocation(parseLocation(location, s3.server.options))).toBe('empty');
    await createStore(parseLocation(location, s3.server.options), {
      passphrase: PASSPHRASE,
      kdf: FAST_KDF,
      packSize: 64 * 1024,
    });
    expect(await probeLocation(parseLocation(location, s3.server.options))).toBe('store');
    expect(await storeNeedsPassphrase(parseLocation(location, s3.server.options))).toBe(true);

    const src = join(await tempDir(), 'src');
    await writeTree(src, {
      'hello.txt': 'hello s3',
      big: randomBytes(600 * 1024),
      sub: { dir: { 'nested.bin': randomBytes(70 * 1024), link: { symlink: '../hello.txt' } } },
      empty: { dir: {} },
    });
    const store = await openStore(parseLocation(location, s3.server.options), { passphrase: PASSPHRASE });
    try {
      expect(store.location).toBe(location);
      const result = await store.backup([src]);
      expect(result.errors).toEqual([]);
      const to = await tempDir();
      const restored = await store.restore(result.snapshot!.id, undefined, { to });
      expect(restored.errors).toEqual([]);
      expect(await treeDigest(join(to, src))).toEqual(await treeDigest(src));
      const report = await store.check({ readData: true });
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
      expect((await store.info()).packs.data).toBeGreaterThan(1);
    } finally {
      await store.close();
    }

    // an independent client lists what kloud wrote: the fs store's layout under the prefix
    const listing = await awsCli(s3.server.endpoint, ['list-objects-v2', '--bucket', BUCKET]);
    const keys = (listing as { Contents: { Key: string }[] }).Contents.map((o) => o.Key).filter((k) =>
      k.startsWith('stores/roundtrip/'),
    );
    const rel = keys.map((k) => k.slice('stores/roundtrip/'.length));
    expect(rel).toContain('config');
    expect(rel.filter((k) => /^keys\/[0-9a-f]+$/.test(k))).toHaveLength(1);
    expect(rel.filter((k) => /^index\/[0-9a-f]+$/.test(k)).length).toBeGreaterThan(0);
    const packs = rel.filter((k) => k.startsWith('packs/'));
    expect(packs.length).toBeGreaterThan(2);
    for (const p of packs) expect(p).toMatch(/^packs\/([0-9a-f]{2})\/\1[0-9a-f]+$/);
    expect(packs.length + rel.filter((k) => !k.startsWith('packs/')).length).toBe(rel.length);
  });

  test('options can come from the URL query; messages show the location without it', async () => {
    const query = new URLSearchParams(s3.server.options).toString();
    const location = `s3://${BUCKET}/stores/query?${query}`;
    expect(await probeLocation(location)).toBe('empty');
    await createStore(location, { plaintext: true });
    const store = await openStore(location);
    try {
      expect(store.location).toBe(`s3://${BUCKET}/stores/query`);
      expect(await storeNeedsPassphrase(location)).toBe(false);
    } finally {
      await store.close();
    }
  });

  test('create refuses a prefix that holds a store or other objects', async () => {
    const location = `s3://${BUCKET}/stores/twice`;
    await create(location);
    const again = await failure(create(location));
    expect(again.code).toBe('STORE_EXISTS');
    expect(again.message).toBe(`a store already exists at ${location}`);

    await s3.raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'stores/occupied/notes.txt', Body: 'x' }));
    const occupied = `s3://${BUCKET}/stores/occupied`;
    expect(await probeLocation(parseLocation(occupied, s3.server.options))).toBe('other');
    const err = await failure(create(occupied));
    expect(err.code).toBe('STORE_EXISTS');
    expect(err.message).toMatch(/is not empty/);
    const open = await failure(
      openStore(parseLocation(occupied, s3.server.options), { passphrase: PASSPHRASE }),
    );
    expect(open.code).toBe('NOT_A_STORE');
    const nothing = await failure(
      openStore(parseLocation(`s3://${BUCKET}/stores/nothing`, s3.server.options), {
        passphrase: PASSPHRASE,
      }),
    );
    expect(nothing.code).toBe('STORE_NOT_FOUND');
    expect(nothing.message).toMatch(/^no store at s3:\/\/kloud-test\/stores\/nothing/);
  });

  test('a missing bucket is named, and nothing is created', async () => {
    const location = 's3://no-such-bucket/p';
    expect(await probeLocation(parseLocation(location, s3.server.options))).toBe('absent');
    for (const attempt of [
      create(location),
      openStore(parseLocation(location, s3.server.options), { passphrase: PASSPHRASE }),
    ]) {
      const err = await failure(attempt);
      expect(err.code).toBe('BUCKET_NOT_FOUND');
      expect(err.message).toBe('bucket no-such-bucket does not exist');
    }
    expect(await probeLocation(parseLocation(location, s3.server.options))).toBe('absent');
  });

  test('an access key the service does not know is refused with a clear message and no secret', async () => {
    // s3rver checks the access key ID but not v4 signatures: a wrong secret cannot be tested here
    const secret = 'not-the-secret-0123456789';
    const options = { ...s3.server.options, access_key: 'AKIAWRONGKEY', secret_access_key: secret };
    const err = await failure(probeLocation(parseLocation(`s3://${BUCKET}/p`, options)));
    expect(err.code).toBe('IO');
    expect(err.message).toBe(`${s3.server.endpoint} does not know the access key given for s3://${BUCKET}/p`);
    expect(err.message).not.toContain(secret);
  });

  test('an unreachable endpoint is named', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const err = await failure(
      probeLocation(parseLocation(`s3://${BUCKET}/p`, { ...s3.server.options, endpoint })),
    );
    expect(err.code).toBe('IO');
    expect(err.message).toBe(`cannot reach ${endpoint} (ECONNREFUSED)`);
  });

  test('write-once: config cannot be written twice, an existing object is never replaced', async () => {
    const backend = new S3Store(parseLocation(`s3://${BUCKET}/stores/once`, s3.server.options) as S3Location);
    try {
      const seen = watch(backend);
      await backend.put('config', 'config', [Buffer.from('first')]);
      // conditional where the service enforces it, checked first where it does not (s3rver)
      expect(seen.map((c) => c.command)).toEqual(['HeadObjectCommand', 'PutObjectCommand']);
      expect(seen[1]!.input.IfNoneMatch).toBe('*');
      const err = await failure(backend.put('config', 'config', [Buffer.from('second')]));
      expect(err.code).toBe('STORE_EXISTS');
      const name = 'ab'.padEnd(64, '0');
      await backend.put('packs', name, [Buffer.from('original'), Buffer.from(' bytes')]);
      await backend.put('packs', name, [Buffer.from('other bytes')]);
      expect((await backend.get('packs', name)).toString()).toBe('original bytes');
      expect((await backend.get('config', 'config')).toString()).toBe('first');
      await backend.delete('packs', name);
      await backend.delete('packs', name);
      expect(await backend.stat('packs', name)).toBeUndefined();
    } finally {
      await backend.close();
    }
  });

  test('ranged reads return exactly the bytes asked for; missing objects and short ranges are CORRUPT', async () => {
    const backend = new S3Store(
      parseLocation(`s3://${BUCKET}/stores/ranges`, s3.server.options) as S3Location,
    );
    try {
      const data = randomBytes(100_000);
      const name = 'cd'.padEnd(64, '1');
      await backend.put('packs', name, [data]);
      expect(await backend.stat('packs', name)).toBe(data.length);
      for (const [offset, length] of [
        [0, 1],
        [0, data.length],
        [12_345, 54_321],
        [data.length - 7, 7],
      ] as const) {
        expect(
          (await backend.getRange('packs', name, offset, length)).equals(
            data.subarray(offset, offset + length),
          ),
        ).toBe(true);
      }
      expect(await backend.getRange('packs', name, 10, 0)).toHaveLength(0);
      expect((await failure(backend.getRange('packs', name, data.length - 5, 10))).code).toBe('CORRUPT');
      const missing = await failure(backend.getRange('packs', 'ef'.padEnd(64, '2'), 0, 10));
      expect(missing.code).toBe('CORRUPT');
      expect(missing.message).toMatch(/is missing from s3:\/\/kloud-test\/stores\/ranges$/);
    } finally {
      await backend.close();
    }
  });

  test('large objects go up as multipart uploads and come back whole', async () => {
    const backend = new S3Store(
      parseLocation(`s3://${BUCKET}/stores/multipart`, s3.server.options) as S3Location,
      {
        multipartThreshold: 5 * 1024 * 1024,
        partSize: 5 * 1024 * 1024,
      },
    );
    try {
      const parts = [
        randomBytes(4 * 1024 * 1024),
        randomBytes(4 * 1024 * 1024),
        randomBytes(3 * 1024 * 1024),
      ];
      const name = '12'.padEnd(64, '3');
      const seen = watch(backend);
      await backend.put('packs', name, parts);
      const commands = seen.map((c) => c.command);
      expect(commands.filter((c) => c === 'UploadPartCommand')).toHaveLength(3);
      expect(commands).toContain('CompleteMultipartUploadCommand');
      expect(commands).not.toContain('PutObjectCommand');
      expect((await backend.get('packs', name)).equals(Buffer.concat(parts))).toBe(true);
    } finally {
      await backend.close();
    }
  });

  test('listing pages through more than 1000 objects', async () => {
    const backend = new S3Store(parseLocation(`s3://${BUCKET}/stores/many`, s3.server.options) as S3Location);
    try {
      // seeded straight through the SDK: one request per object instead of the store's two
      const names = Array.from({ length: 1001 }, () => randomBytes(32).toString('hex'));
      for (let i = 0; i < names.length; i += 100) {
        await Promise.all(
          names
            .slice(i, i + 100)
            .map((n) =>
              s3.raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: backend.key('packs', n), Body: n })),
            ),
        );
      }
      await backend.put('index', 'f'.repeat(64), [Buffer.from('delta')]);
      const seen = watch(backend);
      const listed: string[] = [];
      for await (const o of backend.list('packs')) {
        expect(o.size).toBe(64);
        listed.push(o.name);
      }
      expect(listed.sort()).toEqual([...names].sort());
      expect(seen.filter((c) => c.command === 'ListObjectsV2Command')).toHaveLength(2);
      const index: string[] = [];
      for await (const o of backend.list('index')) index.push(o.name);
      expect(index).toEqual(['f'.repeat(64)]);
    } finally {
      await backend.close();
    }
  });
});
