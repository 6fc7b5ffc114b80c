/** What `lstat`-like answers (node:fs, SFTP attributes) can tell about an entry. */
interface TypedStats {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

/** An entry's type from its stats; `other` names everything else (devices, FIFOs, sockets). */
export function entryType<Other extends string>(
  st: TypedStats,
  other: Other,
): 'file' | 'dir' | 'symlink' | Other {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  return st.isSymbolicLink() ? 'symlink' : other;
}
