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
 * it: the same version, and every chunk still in the store.
 */
export function keepsContent(
  st: SourceEntry,
  prev: TreeEntry | undefined,
  has: (id: Buffer) => boolean,
): prev is FileEntry {
  return (
    prev?.type === 'file' && sameVersion(st, prev) && prev.chunks.every((c) => has(Buffer.from(c, 'hex')))
  );
}

/**
 * Whether a file is the version an entry recorded (the parent snapshot's, the plan's): same size,
 * mtime and identity (device and inode; an S3 source's inode stands for the ETag).
 */
export function sameVersion(
  st: SourceEntry,
  known: Pick<FileEntry, 'size' | 'mtime' | 'device' | 'inode'>,
): boolean {
  return (
    known.size === st.size &&
    known.mtime === st.mtimeNs.toString() &&
    known.inode === st.inode &&
    known.device === st.device
  );
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
