import type { DirEntry, FileEntry, SymlinkEntry } from './tree-node.js';

/**
 * Where a restore writes: a local directory, an S3 prefix or an SFTP directory. Paths are
 * relative to the destination's root, `/`-separated, made of safe names only (the restore checks
 * every name before it reaches a connector); `''` is the root itself. Entries carry the
 * snapshot's metadata; a connector applies what its medium can hold (S3 has no modes or owners).
 */
export interface ExistingEntry {
  readonly type: 'file' | 'dir' | 'symlink' | 'other';
  readonly mtimeMs: number;
  /** bytes of a file (its content; of a symbolic link, its target as stored) */
  readonly size: number;
}

/** A file's content, in order; `size` is known before the first byte (from the tree entry). */
export interface FileContent {
  readonly size: number;
  chunks(): AsyncIterable<Buffer>;
}

/** How a new file on this machine is created directly by the restore's writing threads. */
export interface LocalFile {
  /** absolute path; its directory exists, and nothing may be at the path itself */
  readonly path: string;
  readonly mode: number;
  /** owner to give the file, when it must be set (as root, for owners other than root) */
  readonly owner?: { readonly uid: number; readonly gid: number };
  /** modification (and access) time, in seconds */
  readonly mtime: number;
}

export interface RestoreDestination {
  /** The destination as the user gave it, for messages. */
  readonly location: string;
  /** Destinations on this machine only: the absolute path of the root directory. */
  readonly localRoot?: string;
  /**
   * Creates the root when missing and answers whether it was empty (then nothing can be in the
   * way and the restore makes no existence checks). NOT_A_DIRECTORY where something else is.
   */
  prepare(): Promise<{ empty: boolean }>;
  /** What is at a path already, or undefined; never follows a symbolic link. */
  stat(path: string): Promise<ExistingEntry | undefined>;
  mkdir(path: string): Promise<void>;
  /** Applies a directory's metadata once its children are written (their writes change its mtime). */
  finishDir(path: string, entry: DirEntry): Promise<void>;
  /**
   * Writes a file whole. `replace`: something is at `path` and may be replaced, atomically where
   * the medium allows (a failed write leaves the old file); otherwise the file must be created
   * without replacing anything.
   */
  writeFile(path: string, entry: FileEntry, content: FileContent, replace: boolean): Promise<void>;
  symlink(path: string, entry: SymlinkEntry, replace: boolean): Promise<void>;
  /**
   * Destinations on this machine only: the new file at `path` as the restore's writing threads
   * create it (synchronous calls, several files at once), instead of through `writeFile`.
   */
  localFile?(path: string, entry: FileEntry): LocalFile;
  /** A hard link to a file this restore wrote; media without links leave it out (content is written again). */
  link?(existing: string, path: string, replace: boolean): Promise<void>;
  /** The path as the user would name it, for messages. */
  display(path: string): string;
  close(): Promise<void>;
}

/** A destination path as the user names it, below a URL-like location (`s3://b/p` + `a/b`). */
export function displayBelow(location: string, path: string): string {
  return path === '' ? location : `${location.replace(/\/$/, '')}/${path}`;
}

/** Joins a destination-relative directory and a name. */
export function childPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}
