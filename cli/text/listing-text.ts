/** How snapshots and snapshot entries read in a terminal (`ls`, `diff`, `find`, `rm`). */
import type { EntryInfo, SnapshotRecord } from '../../layers/kloset/index.js';
import { formatBytes } from './human-units.js';
import { terminalText } from './name-text.js';

const TYPE_LETTER = { file: '-', dir: 'd', symlink: 'l' } as const;

export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** When a snapshot was taken, to the second: `2024-05-01 10:00:00`. */
export function snapshotTime(snapshot: SnapshotRecord): string {
  return snapshot.time.slice(0, 19).replace('T', ' ');
}

/** A path with a trailing `/` when it names a directory, as restic shows them. */
export function typedPath(path: string, type: EntryInfo['type']): string {
  const text = terminalText(path);
  return type === 'dir' && !path.endsWith('/') ? `${text}/` : text;
}

export function snapshotLine(snapshot: SnapshotRecord): string {
  const time = snapshotTime(snapshot);
  const tags = snapshot.tags.length > 0 ? `  [${snapshot.tags.join(',')}]` : '';
  const size = formatBytes(snapshot.summary.bytes).padStart(9);
  const line = `${shortId(snapshot.id)}  ${time}  ${snapshot.hostname}  ${size}  ${snapshot.sources.join(' ')}${tags}`;
  return terminalText(line);
}

/** Like `ls -l`: type and permissions, owner, size, modification time, path. */
export function entryLine(entry: EntryInfo): string {
  const owner = `${entry.user ?? entry.uid} ${entry.group ?? entry.gid}`;
  const time = entry.mtime.slice(0, 16).replace('T', ' ');
  const target = entry.target === undefined ? '' : ` -> ${terminalText(entry.target)}`;
  const path = terminalText(entry.path);
  return `${modeString(entry)}  ${terminalText(owner)}  ${formatBytes(entry.size).padStart(9)}  ${time}  ${path}${target}`;
}

function modeString(entry: EntryInfo): string {
  const rwx = ['r', 'w', 'x'];
  let bits = '';
  for (let i = 8; i >= 0; i--) bits += entry.mode & (1 << i) ? rwx[(8 - i) % 3] : '-';
  return `${TYPE_LETTER[entry.type]}${bits}`;
}
