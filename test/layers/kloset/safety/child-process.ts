import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { PASSPHRASE } from '../fixtures.js';

/** `import.meta.url` as code, not inside a string (start-worker.ts names it as a string too). */
const IMPORT_META_URL = /(?<!['"])\bimport\.meta\.url\b(?!['"])/g;

/**
 * A child script as one bundle, started by plain node: under `node --import tsx` each child
 * compiled the engine module by module, ~1 s of CPU, and the kill tests start dozens. Packages
 * stay out of the bundle, which lies in `node_modules/.cache` where they resolve; each module
 * keeps its own `import.meta.url`, by which the engine finds its worker entries (and starts them
 * as it does from source). Named by content: suites running at once share it.
 */
async function bundled(script: string): Promise<string> {
  const { outputFiles } = await build({
    entryPoints: [script],
    bundle: true,
    packages: 'external',
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    plugins: [
      {
        name: 'own-import-meta-url',
        setup(plugin) {
          plugin.onLoad({ filter: /\.ts$/ }, async ({ path }) => ({
            contents: (await readFile(path, 'utf8')).replace(
              IMPORT_META_URL,
              JSON.stringify(pathToFileURL(path).href),
            ),
            loader: 'ts',
          }));
        },
      },
    ],
  });
  const text = outputFiles[0]!.contents;
  const packages = dirname(dirname(createRequire(import.meta.url).resolve('esbuild/package.json')));
  const file = join(
    packages,
    '.cache',
    'kloud-test-children',
    `${createHash('sha256').update(text).digest('hex').slice(0, 16)}.mjs`,
  );
  await mkdir(dirname(file), { recursive: true });
  // written whole, then named: another suite may be making the same bundle
  await writeFile(`${file}.${process.pid}.tmp`, text);
  await rename(`${file}.${process.pid}.tmp`, file);
  return file;
}

const BACKUP_CHILD = await bundled(fileURLToPath(new URL('./backup-child.ts', import.meta.url)));
const PRUNE_CHILD = await bundled(fileURLToPath(new URL('./prune-child.ts', import.meta.url)));

export interface RunningChild {
  readonly child: ChildProcess;
  /** resolves with the exit code (null when killed) and stdout */
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

export function spawnBackup(location: string, sources: string[]): RunningChild {
  return spawnEngine(BACKUP_CHILD, [location, ...sources]);
}

/** A prune with no grace period: it deletes what an earlier run planned. */
export function spawnPrune(location: string): RunningChild {
  return spawnEngine(PRUNE_CHILD, [location]);
}

/** The same in steps of one unit each, resuming from (and saving) the checkpoint in `checkpointFile`. */
export function spawnPruneSteps(location: string, checkpointFile: string): RunningChild {
  return spawnEngine(PRUNE_CHILD, [location, checkpointFile]);
}

function spawnEngine(script: string, args: string[]): RunningChild {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, KLOUD_TEST_PASSPHRASE: PASSPHRASE, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}
