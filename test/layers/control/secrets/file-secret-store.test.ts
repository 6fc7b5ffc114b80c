import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSecretStore } from '../../../../layers/control/secrets/file-secret-store.js';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'kloud-secrets-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

test('secrets live in a file only its owner can read, and survive a new instance', async () => {
  const file = join(dir, 'local', 'secrets.json');
  const store = new FileSecretStore(file);
  expect(await store.get('a')).toBeUndefined();
  await store.put('a', 'one');
  await store.put('a', 'two');
  expect((await stat(file)).mode & 0o777).toBe(0o600);
  expect(await new FileSecretStore(file).get('a')).toBe('two');
  await store.delete('a');
  await store.delete('never-there');
  expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({});
});

test('concurrent writes are all kept', async () => {
  const store = new FileSecretStore(join(dir, 'secrets.json'));
  await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(`s${i}`, `v${i}`)));
  const values = await Promise.all(Array.from({ length: 20 }, (_, i) => store.get(`s${i}`)));
  expect(values).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`));
});
