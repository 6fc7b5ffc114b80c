/** Restore points and their entries as the control plane's browse routes give them, and as they read in a terminal. */
import { formatBytes } from '../text/human-units.js';
import { terminalText } from '../text/name-text.js';

/** `GET /store-apps/{appId}/snapshots` items. */
export interface RemoteSnapshot {
  id: string;
  time: string;
  hostname: string;
  sources: string[];
  tags: string[];
  /** logical bytes */
  size: number;
  files?: number;
}

/** `GET /store-apps/{appId}/snapshots/{snapshotId}/entries` items. */
export interface RemoteEntry {
  name: string;
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  size: number;
  /** octal, e.g. "0644" */
  mode: string;
  mtime: string;
  target?: string;
}

/** `GET .../file`: the content inline (up to 1 MiB), else a short-lived download URL. */
export type RemoteFile =
  | { path: string; size: number; content: string }
  | { path: string; size: number; url: string; expiresAt: string };

const TYPE_LETTER: Record<RemoteEntry['type'], string> = {
  file: '-',
  directory: 'd',
  symlink: 'l',
  other: '?',
};

function when(iso: string): string {
  return iso.slice(0, 19).replace('T', ' ');
}

export function remoteSnapshotLine(snapshot: RemoteSnapshot): string {
  const tags = snapshot.tags.length > 0 ? `  [${snapshot.tags.join(',')}]` : '';
  const size = formatBytes(snapshot.size).padStart(9);
  return terminalText(
    `${snapshot.id.slice(0, 8)}  ${when(snapshot.time)}  ${snapshot.hostname}  ${size}  ${snapshot.sources.join(' ')}${tags}`,
  );
}

/** Like `ls -l`: type and permissions, size, modification time, path. */
export function remoteEntryLine(entry: RemoteEntry): string {
  const bits = Number.parseInt(entry.mode, 8);
  let rwx = '';
  for (let i = 8; i >= 0; i--) rwx += bits & (1 << i) ? 'rwx'[(8 - i) % 3] : '-';
  const path = entry.type === 'directory' && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path;
  const target = entry.target === undefined ? '' : ` -> ${terminalText(entry.target)}`;
  return `${TYPE_LETTER[entry.type]}${rwx}  ${formatBytes(entry.size).padStart(9)}  ${when(entry.mtime).slice(0, 16)}  ${terminalText(path)}${target}`;
}
