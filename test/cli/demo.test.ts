import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from './sandbox.js';

const DEMO = fileURLToPath(new URL('../../dist/local/demo.js', import.meta.url));

test('npm run demo creates a store, then reuses it, and verifies every restored file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kloud-demo-test-'));
  const run = () =>
    runProcess(process.execPath, [DEMO], {
      env: { PATH: process.env.PATH ?? '', KLOUD_DEMO_DIR: dir },
      cwd: tmpdir(),
    });
  try {
    const first = await run();
    expect([first.code, first.stderr]).toEqual([0, '']);
    expect(first.stdout).toMatch(/\n\$ kloud at .*store create\n {2}created store /);
    expect(first.stdout).toMatch(
      /\n\$ kloud at .*store backup docs layers --tag demo\n {2}snapshot [0-9a-f]{8} saved/,
    );
    expect(first.stdout).toMatch(
      /\nverified: the \d+ restored files are identical to the originals \(SHA-256\)\n/,
    );

    const second = await run();
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('(reusing the store of an earlier run');
    expect(second.stdout).not.toContain('create\n');
    expect(second.stdout).toMatch(/ {2}snapshots: +2\n/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
