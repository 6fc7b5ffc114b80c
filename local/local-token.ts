/** Local mode's bearer token: made on first start, kept 0600 in the data directory. */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';

const TOKEN_BYTES = 32;
/** the length of a token this module makes (base64url of 32 bytes); a shorter one is not kept */
export const TOKEN_LENGTH = Math.ceil((TOKEN_BYTES * 4) / 3);

/**
 * The token and whether this start made it (then it is shown once). A stored token shorter
 * than a made one (an emptied or truncated file) is replaced: it would weaken or disable auth.
 */
export async function localToken(file: string): Promise<{ token: string; created: boolean }> {
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored.length >= TOKEN_LENGTH) return { token: stored, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return { token, created: true };
}
