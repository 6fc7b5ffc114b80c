import { randomBytes } from 'node:crypto';

/** What a destination's medium offers for replacing an entry. */
export interface AsideMedium {
  /** moves `from` over `to`, replacing it */
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

/** A name beside `path` for a replacement written first and renamed over it. */
const sideName = (path: string): string => `${path}.kloud-${randomBytes(4).toString('hex')}`;

/**
 * Writes a new entry at `dest` with `write`, which creates it (and removes what it created when
 * it fails). A replacement is written beside the old entry and renamed over it, so a failed
 * restore leaves the old entry, never half of the new one.
 */
export async function writeAside(
  medium: AsideMedium,
  dest: string,
  replace: boolean,
  write: (at: string) => Promise<void>,
): Promise<void> {
  const at = replace ? sideName(dest) : dest;
  await write(at);
  if (at === dest) return;
  try {
    await medium.rename(at, dest);
  } catch (err) {
    await medium.unlink(at).catch(() => undefined);
    throw err;
  }
}
