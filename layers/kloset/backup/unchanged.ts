import type { SourceEntry } from '../core/backup-source.js';
import type { EntryMetadata, FileEntry, TreeEntry } from '../core/tree-node.js';

/** What every entry of a snapshot records of a source entry besides its name and content. */
export function metadataOf(st: SourceEntry): EntryMetadata {
  const meta: EntryMetadata = { mode: st.mode, uid: st.uid, gid: st.gid, mtime: st.mtimeNs.toString() };
  if (st.user !== undefined) meta.user = st.user;
  if (st.group !== undefined) meta.group = st.group;
  return meta;
}

/**
 * Whether a file's content can be taken from its entry in the parent snapshot without reading
 * it: same size, mtime and identity (device and inode; an S3 source's inode stands for the ETag),
 * and every chunk still in the store.
 */
export function keepsContent(
  st: SourceEntry,
  prev: TreeEntry | undefined,
  has: (id: Buffer) => boolean,
): prev is FileEntry {
  return (
    prev?.type === 'file' &&
    prev.mtime === st.mtimeNs.toString() &&
    sameIdentity(st, prev) &&
    prev.chunks.every((c) => has(Buffer.from(c, 'hex')))
  );
}

/** Same size and identity (device and inode; an S3 source's inode stands for the ETag). */
function sameIdentity(st: SourceEntry, other: Pick<FileEntry, 'size' | 'device' | 'inode'>): boolean {
  return other.size === st.size && other.inode === st.inode && other.device === st.device;
}

const NS_PER_SECOND = 1_000_000_000n;

/**
 * Whether a file stat'ed again is the version a plan listed: same size, identity and mtime. The
 * mtimes are compared to the second when one of them is whole seconds: an S3 source's HEAD gives
 * seconds where its listing gives milliseconds.
 */
export function sameVersion(st: SourceEntry, planned: SourceEntry): boolean {
  const [a, b] = [st.mtimeNs, planned.mtimeNs];
  const wholeSeconds = a % NS_PER_SECOND === 0n || b % NS_PER_SECOND === 0n;
  const sameMtime = a === b || (wholeSeconds && a / NS_PER_SECOND === b / NS_PER_SECOND);
  return sameMtime && sameIdentity(st, planned);
}

/** Whether the parent's entry records the same metadata (and, for a file, link count) as the source's. */
export function sameMetadata(st: SourceEntry, prev: TreeEntry): boolean {
  const meta = metadataOf(st);
  return (
    prev.mode === meta.mode &&
    prev.uid === meta.uid &&
    prev.gid === meta.gid &&
    prev.user === meta.user &&
    prev.group === meta.group &&
    prev.mtime === meta.mtime &&
    (prev.type !== 'file' || prev.links === st.links)
  );
}
