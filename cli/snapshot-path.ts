/** `SNAPSHOT[:PATH]` arguments: `latest`, a snapshot ID or unique prefix, then an absolute path. */
import { usageError } from './failures/errors.js';

export interface SnapshotPath {
  ref: string;
  path?: string;
}

export function parseSnapshotPath(text: string): SnapshotPath {
  const colon = text.indexOf(':');
  const ref = colon < 0 ? text : text.slice(0, colon);
  const path = colon < 0 ? undefined : text.slice(colon + 1);
  if (ref === '') throw usageError(`no snapshot in "${text}"`, 'write SNAPSHOT:PATH, e.g. latest:/etc');
  if (path !== undefined && !path.startsWith('/')) {
    throw usageError(
      `the path in "${text}" is not absolute`,
      'snapshots keep the absolute paths that were backed up: write e.g. latest:/home/me/docs',
    );
  }
  return { ref, path };
}
