import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type PackToVerify,
  type PackVerdict,
  PackVerifier,
  type VerifiedPack,
  packToVerify,
  verifyTransferList,
} from '../../../../layers/kloset/check/pack-verification.js';
import type { BlobLocation } from '../../../../layers/kloset/index/index-table.js';
import { WorkerPool } from '../../../../layers/kloset/workers/worker-pool.js';
import { newStore, removeTempDirs, tempDir, writeTree } from '../fixtures.js';

afterAll(removeTempDirs);

/** A verdict as plain data, to compare one from a thread with one from here. */
function plain(verdict: PackVerdict): unknown {
  if ('unreadable' in verdict) return verdict;
  const { intact, damage, own } = verdict;
  return { intact, damage, own: { ...own, ids: Buffer.from(own.ids).toString('hex') } };
}

describe('verifying packs in worker threads', () => {
  test('a worker finds exactly what the main thread finds, damage included', async () => {
    const { store, location } = await newStore({ packSize: 64 * 1024 });
    const src = join(await tempDir(), 'src');
    await writeTree(src, {
      'a.bin': randomBytes(100_000),
      'b.txt': 'text '.repeat(30_000),
      'c.bin': randomBytes(10),
    });
    await store.backup([src]);
    const { repo } = store;
    const byPack = new Map<string, BlobLocation[]>();
    for (const b of repo.index.blobs()) byPack.set(b.pack.name, [...(byPack.get(b.pack.name) ?? []), b]);
    // one bit flipped in the first blob of one pack
    const [damagedPack, damagedBlobs] = [...byPack][0]!;
    const file = await open(join(location, 'packs', damagedPack.slice(0, 2), damagedPack), 'r+');
    await file.write(Buffer.of(0xff), 0, 1, damagedBlobs[0]!.offset + 20);
    await file.close();

    const settings = { cipher: repo.cipher.spec, macKey: repo.mac.key };
    const here = new PackVerifier(settings);
    const workers = new WorkerPool<PackToVerify, VerifiedPack>(
      'verifying',
      new URL('../../../../layers/kloset/check/verify-worker.js', import.meta.url),
      2,
      settings,
    );
    try {
      for (const [name, indexed] of byPack) {
        const bytes = await repo.backend.get('packs', name);
        const expected = here.verify(packToVerify(name, bytes, indexed)).verdict;
        const request = packToVerify(name, new Uint8Array(bytes), indexed); // a copy of its own, to move
        const { verdict, data } = await workers.run(request, verifyTransferList(request));
        expect(plain(verdict)).toEqual(plain(expected));
        // the pack's bytes come back, untouched, for the next read to reuse
        expect(request.data.byteLength).toBe(0);
        expect(Buffer.from(data).equals(bytes)).toBe(true);
        if (name === damagedPack) {
          expect(verdict).toMatchObject({ intact: false });
          expect((verdict as { damage: unknown[] }).damage[0]).toMatch(
            /is damaged \(authentication failed\)/,
          );
        } else expect(verdict).toMatchObject({ intact: true, damage: indexed.map(() => undefined) });
      }
    } finally {
      await workers.close();
    }
  });
});
