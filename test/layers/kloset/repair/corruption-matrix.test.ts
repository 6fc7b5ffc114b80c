import { randomBytes } from 'node:crypto';
import { cp, open, readFile, readdir, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { type Store, accessDamageReport, openStore } from '../../../../layers/kloset/index.js';
import { PASSPHRASE, newStore, removeTempDirs, tempDir, writeTree } from '../fixtures.js';

afterAll(removeTempDirs);

/**
 * Every kind of stored object, damaged two ways, with a warm and a cold index cache: check
 * finds it, reading degrades, and repair brings back what is intact.
 */
type Kind = 'index delta' | 'data pack' | 'metadata pack' | 'snapshot record';
type Damage = 'flip' | 'truncate';

interface Fixture {
  location: string;
  cacheDir: string;
  /** the snapshot whose objects are damaged, and the other one */
  hurt: { id: string; src: string };
  intact: { id: string; src: string };
}

let original: Fixture;
beforeAll(async () => {
  original = await makeFixture();
});

/** A copy of the fixture store (backups start threads: made once), with its own index cache. */
async function fixture(): Promise<Fixture> {
  const location = join(await tempDir('kloud-store-'), 'store');
  const cacheDir = await tempDir('kloud-cache-');
  await cp(original.location, location, { recursive: true });
  await cp(original.cacheDir, cacheDir, { recursive: true });
  return { ...original, location, cacheDir };
}

async function makeFixture(): Promise<Fixture> {
  const { location, store } = await newStore({ packSize: 64 * 1024, compression: 'none' });
  await store.close();
  const cacheDir = await tempDir('kloud-cache-');
  const work = await tempDir();
  const [a, b] = [join(work, 'a'), join(work, 'b')];
  await writeTree(a, { 'a.bin': randomBytes(100_000), sub: { dir: { 'note.txt': 'hello' } } });
  await writeTree(b, { 'b.bin': randomBytes(100_000) });
  const s = await openStore(location, { passphrase: PASSPHRASE, cacheDir });
  const first = await s.backup([a]);
  const second = await s.backup([b]);
  await s.close();
  return {
    location,
    cacheDir,
    hurt: { id: first.snapshot!.id, src: a },
    intact: { id: second.snapshot!.id, src: b },
  };
}

async function open_(f: Fixture, cacheDir: string): Promise<Store> {
  return openStore(f.location, { passphrase: PASSPHRASE, cacheDir });
}

/** The delta that made `id` visible, and where its record, a tree and its data sit. */
async function objectsOf(f: Fixture) {
  const store = await open_(f, await tempDir('kloud-cache-'));
  try {
    const record = store.repo.index.find(Buffer.from(f.hurt.id, 'hex'))!;
    const snap = await store.resolveSnapshot(f.hurt.id);
    const entries = await store.ls(snap.id, `${f.hurt.src}/a.bin`);
    expect(entries).toHaveLength(1);
    const { TreeReader } = await import('../../../../layers/kloset/snapshot/tree-reader.js');
    const { entry } = await new TreeReader(store.repo).resolve(snap.root, `${f.hurt.src}/a.bin`);
    if (entry.type !== 'file') throw new Error('not a file');
    const dataPack = store.repo.index.find(Buffer.from(entry.chunks[0]!, 'hex'))!.pack.name;
    const deltas = (await readdir(join(f.location, 'index'))).sort();
    // the first backup's delta is the one listing the record's pack
    const { openIndexDelta } = await import('../../../../layers/kloset/index/index-delta.js');
    let delta = '';
    for (const name of deltas) {
      const t = await openIndexDelta(
        await readFile(join(f.location, 'index', name)),
        name,
        store.repo.cipher,
        store.repo.mac.authenticator,
      );
      if (t.snapshots.includes(f.hurt.id)) delta = name;
    }
    return { record, dataPack, delta };
  } finally {
    await store.close();
  }
}

function packPath(location: string, pack: string): string {
  return join(location, 'packs', pack.slice(0, 2), pack);
}

async function flipByte(path: string, at: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, at);
    b[0]! ^= 0x40;
    await fh.write(b, 0, 1, at);
  } finally {
    await fh.close();
  }
}

/** Damages one object; returns its file and the 12 hex digits messages name it by. */
async function damage(f: Fixture, kind: Kind, how: Damage): Promise<{ name: string }> {
  const { record, dataPack, delta } = await objectsOf(f);
  const target =
    kind === 'index delta'
      ? { path: join(f.location, 'index', delta), name: delta, at: 100 }
      : kind === 'data pack'
        ? { path: packPath(f.location, dataPack), name: dataPack, at: 5000 }
        : kind === 'metadata pack'
          ? { path: packPath(f.location, record.pack.name), name: record.pack.name, at: 20 }
          : { path: packPath(f.location, record.pack.name), name: record.pack.name, at: record.offset + 20 };
  if (how === 'flip') await flipByte(target.path, target.at);
  else await truncate(target.path, kind === 'snapshot record' ? record.offset + 10 : 100);
  return { name: target.name.slice(0, 12) };
}

const CASES: [Kind, Damage, 'warm' | 'cold'][] = [];
for (const kind of ['index delta', 'data pack', 'metadata pack', 'snapshot record'] as Kind[])
  for (const how of ['flip', 'truncate'] as Damage[])
    for (const cache of ['warm', 'cold'] as const) CASES.push([kind, how, cache]);

describe('a damaged object is found, hides nothing else, and repair recovers what is intact', () => {
  test.each(CASES)('%s, %s, %s cache', async (kind, how, cache) => {
    const f = await fixture();
    const { name } = await damage(f, kind, how);
    const cacheDir = cache === 'warm' ? f.cacheDir : await tempDir('kloud-cache-');
    const store = await open_(f, cacheDir);
    try {
      // check reads every object from the store, whatever the cache remembers
      const report = await store.check({ readData: true });
      expect(report.ok).toBe(false);
      expect(report.problems.map((p) => p.message).join('\n')).toContain(name);
      expect(report.notes.join('\n')).not.toMatch(/harmless/);
      const affected = report.problems.flatMap((p) => p.snapshots);
      expect(affected).toContain(f.hurt.id);
      expect(affected).not.toContain(f.intact.id);

      // reading degrades: the intact snapshot is listed and restores
      const listing = await store.listSnapshots();
      const listed = listing.snapshots.map((s) => s.id);
      expect(listed).toContain(f.intact.id);
      if (!listed.includes(f.hurt.id)) expect(listing.unreadable.join('\n')).toMatch(/./);
      // a snapshot a damaged delta hides is not "not found": the damage is named
      if (kind === 'index delta' && !listed.includes(f.hurt.id))
        await expect(store.resolveSnapshot(f.hurt.id)).rejects.toMatchObject({
          code: 'CORRUPT',
          message: expect.stringContaining(`index delta ${name}`),
        });
      const to = await tempDir();
      const restored = await store.restore(f.intact.id, undefined, { to });
      expect(restored.errors).toEqual([]);
      expect((await stat(join(to, f.intact.src, 'b.bin'))).size).toBe(100_000);

      // repair lists again what the packs still hold; what stays damaged is truly gone
      const repaired = await store.repair({ readData: true });
      const after = await store.check({ readData: true });
      const recoverable = kind === 'index delta';
      if (recoverable) {
        expect(repaired.damagedDeltas.map((d) => d.name.slice(0, 12))).toEqual([name]);
        expect(repaired.recoveredSnapshots.map((s) => s.id)).toEqual([f.hurt.id]);
        expect(repaired.remaining).toEqual([]);
        expect(after.problems).toEqual([]);
        expect(after.ok).toBe(true);
        expect((await store.snapshots()).map((s) => s.id).sort()).toEqual([f.hurt.id, f.intact.id].sort());
        const back = await tempDir();
        expect((await store.restore(f.hurt.id, undefined, { to: back })).errors).toEqual([]);
        expect(await readFile(join(back, f.hurt.src, 'sub/note.txt'), 'utf8')).toBe('hello');
      } else {
        expect(repaired.newDelta).toBeUndefined();
        expect(after.ok).toBe(false);
        expect(after.problems.flatMap((p) => p.snapshots)).not.toContain(f.intact.id);
        expect(repaired.remaining!.map((p) => p.message)).toEqual(
          expect.arrayContaining([expect.stringContaining(name)]),
        );
      }
    } finally {
      await store.close();
    }
  });
});

describe('what a damaged or missing delta hid stays findable', () => {
  test('a backup after the damage adopts the hidden packs; check still names the snapshot and repair lists it', async () => {
    const f = await fixture();
    const { name } = await damage(f, 'index delta', 'truncate');
    const store = await open_(f, f.cacheDir);
    try {
      const work = await tempDir();
      await writeTree(work, { 'c.txt': 'third' });
      await store.backup([work]);
      const report = await store.check();
      expect(report.ok).toBe(false);
      expect(report.problems.map((p) => p.message).join('\n')).toContain(name);
      const hidden = report.problems.find((p) => p.snapshots.includes(f.hurt.id));
      expect(hidden?.message).toMatch(/listed by no readable index \(kloud repair lists it\)/);
      expect(hidden?.paths).toEqual([f.hurt.src]);

      const repaired = await store.repair();
      expect(repaired.adoptedPacks).toEqual([]);
      expect(repaired.recoveredSnapshots.map((s) => s.id)).toEqual([f.hurt.id]);
      expect(repaired.remaining).toEqual([]);
      expect((await store.check({ readData: true })).ok).toBe(true);
    } finally {
      await store.close();
    }
  });

  test('a deleted delta (or a backup killed before its commit) is said, not called harmless; a dry run changes nothing', async () => {
    const f = await fixture();
    const { delta } = await objectsOf(f);
    await rm(join(f.location, 'index', delta));
    const store = await open_(f, await tempDir('kloud-cache-'));
    try {
      const report = await store.check();
      expect(report.ok).toBe(true);
      expect(report.notes.join('\n')).toContain(`snapshot ${f.hurt.id.slice(0, 12)}`);
      expect(report.notes.join('\n')).not.toMatch(/harmless/);

      const dry = await store.repair({ dryRun: true });
      expect(dry.recoveredSnapshots.map((s) => s.id)).toEqual([f.hurt.id]);
      expect(dry.newDelta).toBeUndefined();
      expect(dry.remaining).toBeUndefined();
      expect(await readdir(join(f.location, 'index'))).toHaveLength(1);

      const repaired = await store.repair();
      expect(repaired.newDelta).toMatch(/^[0-9a-f]{64}$/);
      expect(repaired.adoptedPacks.length).toBeGreaterThan(0);
      expect((await store.snapshots()).map((s) => s.id).sort()).toEqual([f.hurt.id, f.intact.id].sort());
      const clean = await store.check();
      expect(clean.notes).toEqual([]);
      expect(clean.ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe('a damaged config or key slot is said for what it is', () => {
  const accessCases: ['config' | 'key slot', Damage][] = [
    ['config', 'flip'],
    ['config', 'truncate'],
    ['key slot', 'flip'],
    ['key slot', 'truncate'],
  ];
  test.each(accessCases)(
    '%s, %s: the open fails as CORRUPT naming it; the check report says what it means',
    async (object, how) => {
      const f = await fixture();
      const path =
        object === 'config'
          ? join(f.location, 'config')
          : join(f.location, 'keys', (await readdir(join(f.location, 'keys')))[0]!);
      if (how === 'flip') await flipByte(path, 40);
      else await truncate(path, 30);
      for (const cacheDir of [f.cacheDir, await tempDir('kloud-cache-')]) {
        const err = await openStore(f.location, { passphrase: PASSPHRASE, cacheDir }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toMatchObject({ code: 'CORRUPT', object });
        const report = accessDamageReport(err)!;
        expect(report.ok).toBe(false);
        expect(report.problems[0]!.message).toMatch(object === 'config' ? /store config/ : /key slot/);
        expect(report.problems[0]!.advice).toMatch(
          object === 'config' ? /restore the config object from a copy/ : /use another passphrase/,
        );
      }
      expect(accessDamageReport(new Error('other'))).toBeUndefined();
    },
  );

  test('a damaged key slot beside an intact one: the store opens and check names the slot', async () => {
    const f = await fixture();
    const store = await open_(f, f.cacheDir);
    const added = await store.addKey('another passphrase');
    await store.close();
    await flipByte(join(f.location, 'keys', added), 40);
    const again = await open_(f, f.cacheDir);
    try {
      const report = await again.check();
      expect(report.ok).toBe(false);
      expect(report.problems).toEqual([
        expect.objectContaining({
          message: expect.stringContaining(`key slot ${added.slice(0, 12)}`),
          advice: expect.stringMatching(/use another passphrase/),
        }),
      ]);
    } finally {
      await again.close();
    }
  });
});
