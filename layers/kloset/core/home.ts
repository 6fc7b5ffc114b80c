import { userInfo } from 'node:os';
import { join } from 'node:path';

/** `~` and `~/x` below `home` (a shell expands them, but not inside `k=~/x` settings or aliases). */
export function expandHome(path: string, home: string | undefined): string {
  if (home === undefined || (path !== '~' && !path.startsWith('~/'))) return path;
  return join(home, path.slice(1));
}

/** The name of the user running kloud: its passwd entry, else `$USER` or `$LOGNAME` (some containers have none). */
export function currentUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER || process.env.LOGNAME || undefined;
  }
}
