/**
 * `npm run demo`: a real run of the `kloud` CLI on embedded defaults.
 * It creates (or reuses) an encrypted store under ./.kloud-demo ($KLOUD_DEMO_DIR), backs up the project's docs/ and
 * layers/, lists the snapshot, restores it into a temporary directory and compares every file.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const kloud = join(root, 'dist', 'bin', 'kloud.js');
/** Where the demo keeps its store and cache; tests point it elsewhere. */
const demoDir = process.env.KLOUD_DEMO_DIR ?? join(root, '.kloud-demo');
const store = join(demoDir, 'store');
const sources = [join(root, 'docs'), join(root, 'layers')];
const env = {
  ...process.env,
  KLOUD_PASSPHRASE: 'kloud demo passphrase',
  XDG_CACHE_HOME: join(demoDir, 'cache'),
};

/** Runs one kloud command, echoing it and its output like a terminal session. */
function kloudStep(args: string[], quiet = false): Promise<{ code: number; stdout: string }> {
  const shown = args.map((a) => (a.startsWith(root) ? relative(root, a) || '.' : a));
  if (!quiet) console.log(`\n$ kloud ${shown.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [kloud, ...args], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', quiet ? 'ignore' : 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (!quiet) process.stdout.write(stdout.replace(/^(?=.)/gm, '  '));
      resolve({ code: code ?? 1, stdout });
    });
  });
}

async function mustSucceed(args: string[]): Promise<string> {
  const { code, stdout } = await kloudStep(args);
  if (code !== 0) throw new Error(`kloud ${args.join(' ')} exited with ${code}`);
  return stdout;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** SHA-256 of every source file, taken just before the backup, so later edits do not count. */
async function digestSources(): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const source of sources) {
    for (const file of await filesUnder(source)) digests.set(file, sha256(await readFile(file)));
  }
  return digests;
}

/** Every source file must come back byte for byte under `target` + its absolute path. */
async function verify(target: string, digests: Map<string, string>): Promise<number> {
  for (const [file, digest] of digests) {
    if (sha256(await readFile(join(target, file))) !== digest) {
      throw new Error(`restored ${file} differs from the original`);
    }
  }
  return digests.size;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function demo(): Promise<void> {
  console.log(`kloud demo: store ${relative(root, store)}, passphrase from KLOUD_PASSPHRASE (embedded)`);
  const exists = (await kloudStep(['at', store, 'info'], true)).code === 0;
  if (exists) console.log('\n(reusing the store of an earlier run: unchanged files are not stored again)');
  else await mustSucceed(['at', store, 'create']);
  const digests = await digestSources();
  await mustSucceed(['at', store, 'backup', ...sources, '--tag', 'demo']);
  await mustSucceed(['at', store, 'ls']);
  await mustSucceed(['at', store, 'ls', `latest:${sources[0]}`]);
  const target = await mkdtemp(join(tmpdir(), 'kloud-demo-restore-'));
  try {
    await mustSucceed(['at', store, 'restore', 'latest', '--to', target]);
    const files = await verify(target, digests);
    console.log(`\nverified: the ${files} restored files are identical to the originals (SHA-256)`);
  } finally {
    await rm(target, { recursive: true, force: true });
  }
  await mustSucceed(['at', store, 'info']);
  console.log(
    `\nTry it yourself: export KLOUD_PASSPHRASE='${env.KLOUD_PASSPHRASE}'; npx kloud at ${relative(root, store)} ls`,
  );
}

demo().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
