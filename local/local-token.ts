/** Local mode's bearer token: made on first start, kept 0600 in the data directory. */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';

/** The token and whether this start made it (then it is shown once). */
export async function localToken(file: string): Promise<{ token: string; created: boolean }> {
  try {
    return { token: (await readFile(file, 'utf8')).trim(), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(32).toString('base64url');
  await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { token, created: true };
}
