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

/** Part of a file's content: `length` bytes from `offset` (a distributed backup's range item). */
export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

/** An entry of a source's own walk, with its absolute path. */
export interface WalkedSourceEntry {
  readonly path: string;
  readonly entry: SourceEntry;
}

export interface BackupSource {
  stat(path: string): Promise<SourceEntry>;
  list(dir: string): Promise<SourceEntry[]>;
  /**
   * The content, or only `range` of it; `size` (from stat) lets a connector size its reads. A
   * range read stops at the range's end even when the file grew.
   */
  read(path: string, size: number, range?: ByteRange): AsyncIterable<Buffer>;
  /**
   * Everything below `dir` (not `dir` itself) as one stream in walk order (core/walk-order.ts),
   * starting after the walk key `after`; undefined when this source cannot walk `dir` itself.
   * For a source that lists a whole tree in order (S3 lists keys sorted, 1,000 a request), so
   * that a backup plan holds no directory in memory and resumes without listing again what it
   * has passed. A source without it is walked directory by directory with `list`.
   */
  walk?(dir: string, after?: string): AsyncIterable<WalkedSourceEntry> | undefined;
  /**
   * The file's path on this machine's disk, where a worker thread may read it itself (the
   * backup's fast path for small files); sources of other machines leave it out.
   */
  localPath?(path: string): string | undefined;
}
