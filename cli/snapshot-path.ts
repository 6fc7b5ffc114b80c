/** `SNAPSHOT[:PATH]` arguments: `latest`, a snapshot ID or unique prefix, then an absolute path. */
import { usageError } from './failures/errors.js';
import { typedText } from './text/name-text.js';

export interface SnapshotPath {
  ref: string;
  path?: string;
}

export function parseSnapshotPath(text: string): SnapshotPath {
  const colon = text.indexOf(':');
  const ref = colon < 0 ? text : text.slice(0, colon);
  // the path as text output shows it: `\xNN` names a byte that is not UTF-8 (docs/CLI.md)
  const path = colon < 0 ? undefined : typedText(text.slice(colon + 1));
  if (ref === '') throw usageError(`no snapshot in "${text}"`, 'write SNAPSHOT:PATH, e.g. latest:/etc');
  if (path !== undefined && !path.startsWith('/')) {
    throw usageError(
      `the path in "${text}" is not absolute`,
      'snapshots keep the absolute paths that were backed up: write e.g. latest:/home/me/docs',
    );
  }
  return { ref, path };
}
