import {
  STALE_CLAIM_MS,
  StoreAppRepository,
} from '../../../../layers/control/store-apps/store-app-repository.js';
import type { StoreAppRecord } from '../../../../layers/control/store-apps/store-app.js';
import { dynaliteForTests } from '../dynalite-table.js';

const dynamo = dynaliteForTests();

function record(id: string, name: string): StoreAppRecord {
  const now = new Date().toISOString();
  return {
    id,
    name,
    resourceId: 'directory:backups',
    integration: 'fs',
    protocol: 'fs',
    storageType: 'standard',
    configuration: {},
    location: '/srv/backups',
    hasCredentials: false,
    state: 'created',
    createdAt: now,
    updatedAt: now,
    target: { kind: 'fs', directory: '/srv/backups' },
    secretName: `kloud/store-apps/${id}`,
    version: 1,
  };
}

test('a name is taken once per resource; another resource may reuse it', async () => {
  const repo = new StoreAppRepository(dynamo.table());
  await repo.claimName(record('a1', 'main'));
  await repo.insert(record('a1', 'main'));
  await expect(repo.claimName(record('a2', 'main'))).rejects.toMatchObject({
    status: 409,
    code: 'NAME_TAKEN',
  });
  await repo.claimName({ ...record('a3', 'main'), resourceId: 'directory:other' });
});

test('a claim left by a create that failed halfway is taken over once it is older than any call', async () => {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const repo = new StoreAppRepository(dynamo.table(), () => now);
  await repo.claimName(record('gone', 'orphan')); // no app item follows
  // meanwhile, it may be a create still writing its secret
  await expect(repo.claimName(record('b0', 'orphan'))).rejects.toMatchObject({ code: 'NAME_TAKEN' });
  now += STALE_CLAIM_MS;
  await repo.claimName(record('b1', 'orphan'));
  await repo.insert(record('b1', 'orphan'));
  now += STALE_CLAIM_MS;
  await expect(repo.claimName(record('b2', 'orphan'))).rejects.toMatchObject({ code: 'NAME_TAKEN' });
});

test('a remove that frees its name late does not free the name another app has taken over', async () => {
  const table = dynamo.table();
  let now = Date.parse('2026-01-01T00:00:00Z');
  const repo = new StoreAppRepository(table, () => now);
  await repo.claimName(record('r1', 'reused'));
  await repo.insert(record('r1', 'reused'));
  await table.delete('APP#r1', 'APP'); // remove's first step; its releaseName comes later
  now += STALE_CLAIM_MS;
  await repo.claimName(record('r2', 'reused'));
  await repo.releaseName(record('r1', 'reused')); // remove's late second step
  await expect(repo.claimName(record('r3', 'reused'))).rejects.toMatchObject({ code: 'NAME_TAKEN' });
  expect(await table.get('NAME#directory:backups#reused', 'NAME')).toMatchObject({ appId: 'r2' });
});

test('a save based on an old read is refused; removing frees the name', async () => {
  const repo = new StoreAppRepository(dynamo.table());
  await repo.claimName(record('c1', 'versioned'));
  await repo.insert(record('c1', 'versioned'));
  const read = await repo.get('c1');
  const saved = await repo.save({ ...read, state: 'tested' });
  expect(saved.version).toBe(2);
  await expect(repo.save({ ...read, state: 'failed' })).rejects.toMatchObject({
    status: 409,
    code: 'CHANGED',
  });
  expect((await repo.get('c1')).state).toBe('tested');
  await repo.remove(saved);
  await expect(repo.get('c1')).rejects.toMatchObject({ status: 404 });
  await repo.claimName(record('c2', 'versioned'));
});

test('lists page through every app with opaque tokens', async () => {
  const repo = new StoreAppRepository(dynamo.table());
  const seen: string[] = [];
  let token: string | undefined;
  for (let pages = 0; pages < 10; pages++) {
    const page = await repo.list(1, token);
    seen.push(...page.items.map((a) => a.id));
    token = page.nextToken;
    if (!token) break;
  }
  expect(new Set(seen)).toEqual(new Set(['a1', 'b1']));
  await expect(repo.list(1, 'bm90LWpzb24')).rejects.toMatchObject({ status: 400, code: 'BAD_PAGE_TOKEN' });
});
