import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Engine threads hold little JavaScript but allocate a buffer or two per blob (a ciphertext, a
 * decompressed blob) that die at once. A small young generation has V8 collect them every few
 * MiB of allocations; with the default sizes they piled up by tens of MiB per thread (measured:
 * peak RSS of a 1.1 GB backup 465 MB, 425 MB with this).
 */
const RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 4 };

/**
 * Starts a worker thread on an engine module, given as the URL of its `.js` name. Built code
 * (dist/) has that file and starts it directly; when the engine runs from its TypeScript source
 * (jest, tsx) only the `.ts` exists, and the thread starts on a bundle of it (see sourceBundle).
 */
export function startWorker(entry: URL, workerData: unknown): Worker {
  const file = existsSync(entry) ? entry : sourceBundle(new URL(entry.href.replace(/\.js$/, '.ts')));
  return new Worker(file, { workerData, resourceLimits: RESOURCE_LIMITS });
}

/** Bundles made by this process, by source URL: each entry is bundled once. */
const bundles = new Map<string, URL>();

/**
 * Node 20 cannot start a thread on a `.ts` file. Registering tsx in each thread did, but cost
 * ~0.8 s of CPU per thread (a loader thread, tsx, each module compiled apart) against ~0.2 s for
 * one bundled file, and the tests start hundreds of threads. So esbuild (a dev dependency, as
 * running from source is) bundles the entry's own code into one file in `node_modules/.cache`,
 * where the packages left out of it resolve; the file is named by its content, so processes
 * and checkouts sharing that folder never overwrite each other's.
 */
function sourceBundle(source: URL): URL {
  const known = bundles.get(source.href);
  if (known) return known;
  const require = createRequire(import.meta.url);
  const esbuild = require('esbuild') as typeof import('esbuild');
  const { outputFiles } = esbuild.buildSync({
    entryPoints: [fileURLToPath(source)],
    bundle: true,
    packages: 'external',
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // the engine loads packages relative to its modules (createRequire(import.meta.url))
    define: { 'import.meta.url': JSON.stringify(source.href) },
  });
  const text = outputFiles[0]!.contents;
  const folder = join(dirname(dirname(require.resolve('esbuild/package.json'))), '.cache', 'kloud-workers');
  const file = join(folder, `${createHash('sha256').update(text).digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(folder, { recursive: true });
    // written whole, then named: another process may be starting the same bundle
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, text);
    renameSync(partial, file);
  }
  const url = pathToFileURL(file);
  bundles.set(source.href, url);
  return url;
}
