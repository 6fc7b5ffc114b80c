/**
 * What a backup reads: entries with metadata and content streams, addressed by absolute POSIX
 * paths. The fs connector reads the local disk; S3 and SFTP sources implement the same.
 */
export interface SourceEntry {
  readonly name: string;
  /** `special`: devices, FIFOs, sockets; skipped with a warning */
  readonly type: 'file' | 'dir' | 'symlink' | 'special';
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly user?: string;
  readonly group?: string;
  /** nanoseconds since the epoch */
  readonly mtimeNs: bigint;
  readonly size: number;
  readonly device: number;
  readonly inode: number;
  readonly links: number;
  readonly target?: string;
  /**
   * Set on an entry the source lists but cannot read as it is (SFTP: a name or link target that
   * is not UTF-8): why. The backup records it among the snapshot's errors instead of the entry.
   */
  readonly error?: string;
}

export interface BackupSource {
  stat(path: string): Promise<SourceEntry>;
  list(dir: string): Promise<SourceEntry[]>;
  /** The content; `size` (from stat) lets a connector size its reads. */
  read(path: string, size: number): AsyncIterable<Buffer>;
  /**
   * The file's path on this machine's disk, where a worker thread may read it itself (the
   * backup's fast path for small files); sources of other machines leave it out.
   */
  localPath?(path: string): string | undefined;
}
