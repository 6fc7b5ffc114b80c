import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KlosetAdapter } from '../../../../layers/control/engine/kloset-adapter.js';
import { tempDir } from '../../kloset/fixtures.js';

test('key files left by a call the timeout killed are removed at the cold start', async () => {
  const dir = await tempDir('kloud-adapter-');
  const cacheDir = join(dir, 'cache');
  const left = join(cacheDir, 'connector', 'killed-call');
  await mkdir(left, { recursive: true });
  await writeFile(join(left, 'identity'), 'PRIVATE KEY');
  const adapter = new KlosetAdapter(cacheDir);
  const target = { location: join(dir, 'nothing'), printable: '', options: {}, files: {} };
  expect(await adapter.test(target, 'passphrase')).toBe('absent');
  expect(await readdir(cacheDir)).not.toContain('connector');
});
