import { once } from 'node:events';
import { Readable } from 'node:stream';
import { type Header, pack } from 'tar-stream';
import type { ExistingEntry, FileContent, RestoreDestination } from '../core/restore-destination.js';
import type { DirEntry, FileEntry, SymlinkEntry, TreeEntry } from '../core/tree-node.js';

type TarHeader = Partial<Header> & Pick<Header, 'name'>;

const dateOf = (ns: string): Date => new Date(Number(BigInt(ns) / 1_000_000n));

/**
 * A restore written as a tar stream (`archive`), read by whoever stores it while the restore
 * runs. The archive starts empty, so the restore asks nothing of it; entries are written one
 * at a time (the restore writes several files at once: they queue), and a directory's entry
 * follows its content, with its metadata, as `finishDir` gives it. A file whose content fails
 * halfway cannot be taken back out of a stream: the archive then fails whole.
 */
export class TarDestination implements RestoreDestination {
  private readonly pack = pack();
  /** The archive's bytes: read them as the restore runs (the restore waits when they are not read). */
  readonly archive = Readable.from(this.pack);
  /** the entry being written: the next waits for it */
  private queue: Promise<void> = Promise.resolve();
  /** rejected by abort(): a write waiting for the reader gives up */
  private readonly aborted: Promise<never>;
  private abortWith!: (err: Error) => void;

  constructor(
    /** the archive's name, for messages */
    readonly location: string,
  ) {
    this.aborted = new Promise<never>((_, reject) => (this.abortWith = reject));
    this.aborted.catch(() => undefined);
  }

  /** Stops the archive (its reader failed, or it must not be completed): every write fails with `err`. */
  abort(err: Error): void {
    this.abortWith(err);
    this.pack.destroy(err);
  }

  async prepare(): Promise<{ empty: boolean }> {
    return { empty: true };
  }

  /** Never asked (the archive starts empty and the restore checks nothing of an empty one). */
  async stat(_path: string): Promise<ExistingEntry | undefined> {
    return undefined;
  }

  /** Tar readers create directories as entries need them; the entry itself comes with finishDir. */
  async mkdir(_path: string): Promise<void> {}

  finishDir(path: string, entry: DirEntry): Promise<void> {
    return this.write({ ...this.header(`${path}/`, entry), type: 'directory' });
  }

  writeFile(path: string, entry: FileEntry, content: FileContent): Promise<void> {
    return this.write({ ...this.header(path, entry), type: 'file', size: content.size }, content);
  }

  symlink(path: string, entry: SymlinkEntry): Promise<void> {
    return this.write({ ...this.header(path, entry), type: 'symlink', linkname: entry.target });
  }

  link(existing: string, path: string): Promise<void> {
    return this.write({ name: path, type: 'link', linkname: existing });
  }

  display(path: string): string {
    return path;
  }

  /** Ends the archive; the stream ends once its reader has read the rest. */
  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    this.pack.finalize();
  }

  private header(name: string, entry: TreeEntry): TarHeader {
    return {
      name,
      mode: entry.mode,
      uid: entry.uid,
      gid: entry.gid,
      mtime: dateOf(entry.mtime),
      ...(entry.user && { uname: entry.user }),
      ...(entry.group && { gname: entry.group }),
    };
  }

  private write(header: TarHeader, content?: FileContent): Promise<void> {
    const written = this.queue.then(() => this.writeEntry(header, content));
    this.queue = written.catch(() => undefined);
    return written;
  }

  private async writeEntry(header: TarHeader, content?: FileContent): Promise<void> {
    let settle!: { resolve: () => void; reject: (err: Error) => void };
    const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    const sink = this.pack.entry(header, (err) => (err ? settle.reject(err) : settle.resolve()));
    try {
      if (content) {
        for await (const chunk of content.chunks())
          if (!sink.write(chunk)) await Promise.race([once(sink, 'drain'), this.aborted]);
      }
    } catch (err) {
      this.abort(err as Error);
      throw err;
    }
    sink.end(null);
    await Promise.race([done, this.aborted]);
  }
}
