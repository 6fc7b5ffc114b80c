import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

const TSX_BOOTSTRAP = new URL('./tsx-bootstrap.mjs', import.meta.url);
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
 * (jest, tsx) only the `.ts` exists, and a bootstrap registers tsx before importing it.
 */
export function startWorker(entry: URL, workerData: unknown): Worker {
  if (existsSync(entry)) return new Worker(entry, { workerData, resourceLimits: RESOURCE_LIMITS });
  const source = new URL(entry.href.replace(/\.js$/, '.ts'));
  return new Worker(TSX_BOOTSTRAP, { workerData, argv: [source.href], resourceLimits: RESOURCE_LIMITS });
}
