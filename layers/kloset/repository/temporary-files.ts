import type { StoreBackend, TemporaryFile } from '../core/store-backend.js';

/**
 * How long a file may sit in a store's tmp/ before it is taken for a killed writer's: a writer
 * still running finishes an object in far less (one pack, one index delta), so a day leaves
 * room for a slow link without keeping a killed backup's files forever.
 */
export const TEMPORARY_GRACE_MS = 24 * 60 * 60 * 1000;

export interface TemporaryFiles {
  readonly count: number;
  readonly bytes: number;
  /** older than the grace period: left by writers that were killed */
  readonly stale: TemporaryFile[];
}

/** The files of the store's tmp/ (none for stores without one, such as S3). */
export async function temporaryFiles(backend: StoreBackend, now = Date.now()): Promise<TemporaryFiles> {
  let count = 0;
  let bytes = 0;
  const stale: TemporaryFile[] = [];
  for await (const f of backend.listTemporary?.() ?? []) {
    count++;
    bytes += f.size;
    if (now - f.modified.getTime() > TEMPORARY_GRACE_MS) stale.push(f);
  }
  return { count, bytes, stale };
}

/** Removes the temporary files of killed writers; returns how many and their bytes. */
export async function removeStaleTemporaryFiles(
  backend: StoreBackend,
  now = Date.now(),
): Promise<{ removed: number; bytes: number }> {
  const { stale } = await temporaryFiles(backend, now);
  for (const f of stale) await backend.removeTemporary!(f.name);
  return { removed: stale.length, bytes: stale.reduce((n, f) => n + f.size, 0) };
}

export function describeTemporaryFiles({ count, bytes, stale }: TemporaryFiles): string {
  const size = `${(bytes / 1e6).toFixed(1)} MB`;
  return (
    `${count} temporary file(s) in tmp/ (${size}), ${stale.length} older than a day: ` +
    'left by interrupted writes, never read (the next backup removes those older than a day)'
  );
}
