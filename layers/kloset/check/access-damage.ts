import { type AccessObject, KlosetError } from '../core/errors.js';
import type { CheckReport } from './check.js';

/** What damage to each object read before a store opens means, and what to do. */
export const ACCESS_ADVICE: Record<AccessObject, string> = {
  config:
    'the store cannot be opened without its config: restore the config object from a copy of the store (it never changes after create; any copy of this store has the same one)',
  'key slot':
    'the passphrase of a damaged key slot no longer opens the store: use another passphrase (kloud key ls lists the slots), or restore the slot from a copy of the store',
};

/**
 * The check report of a store that cannot be opened because its config or its key slots are
 * damaged: what is damaged and what that means, instead of an error sending the user to check.
 * Undefined for any other failure.
 */
export function accessDamageReport(err: unknown): CheckReport | undefined {
  if (!(err instanceof KlosetError) || err.code !== 'CORRUPT' || err.object === undefined) return undefined;
  return {
    ok: false,
    problems: [{ message: err.message, advice: ACCESS_ADVICE[err.object], snapshots: [], paths: [] }],
    notes: ['the store could not be opened: nothing else was checked'],
    stats: {
      snapshots: 0,
      packs: 0,
      blobs: 0,
      files: 0,
      bytesRead: 0,
      temporaryFiles: 0,
      temporaryBytes: 0,
    },
  };
}
