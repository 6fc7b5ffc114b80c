import { realpath } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { RestoreDestination } from '../core/restore-destination.js';
import type { StoreBackend } from '../core/store-backend.js';
import { KlosetError, errnoCode } from '../core/errors.js';

/**
 * Refuses a restore into the local store it reads, or into any directory below it: the restored
 * files would mix with the store's objects. Compared as real paths, so a symbolic link or `..`
 * leading into the store is caught too; a directory beside it (`/backups-restored`) is fine.
 */
export async function requireTargetOutsideStore(
  store: StoreBackend,
  destination: RestoreDestination,
): Promise<void> {
  if (store.localRoot === undefined || destination.localRoot === undefined) return;
  const [root, target] = await Promise.all([realPathOf(store.localRoot), realPathOf(destination.localRoot)]);
  const below = relative(root, target);
  if (below === '..' || below.startsWith('../')) return;
  throw new KlosetError(
    'INVALID_ARGUMENT',
    `cannot restore into ${destination.location}: it is inside the store being read (${store.location}); choose a directory outside it`,
  );
}

/** The real path of `path`, or of its deepest existing ancestor followed by the rest (a target may not exist yet). */
async function realPathOf(path: string): Promise<string> {
  const rest: string[] = [];
  let at = resolve(path);
  for (;;) {
    try {
      return join(await realpath(at), ...rest);
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      const parent = dirname(at);
      if (parent === at) return resolve(path);
      rest.unshift(basename(at));
      at = parent;
    }
  }
}
