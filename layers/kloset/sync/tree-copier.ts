import { saveDirectory } from '../backup/directory-writer.js';
import { type ChunkingParams, chunkStream } from '../chunker/fastcdc.js';
import { Semaphore } from '../core/concurrency.js';
import { BlobType } from '../format/blob.js';
import type { RepositoryWriter } from '../repository/repository-writer.js';
import type { Repository } from '../repository/repository.js';
import { fileContent } from '../snapshot/file-content.js';
import type { DirEntry, FileEntry, TreeEntry } from '../core/tree-node.js';
import { TreeReader } from '../snapshot/tree-reader.js';
import { compareEntries } from '../core/entry-difference.js';

/**
 * One directory of a snapshot both stores hold already (a parent, say), by its tree ID in each.
 * A sync keeps names, metadata and content, so the two trees mirror each other: what has not
 * changed since that snapshot is translated from it without being read.
 */
export interface Reference {
  readonly sourceTree: string;
  readonly destTree: string;
}

/** Files copied at once, and chunks being sealed at once (memory: this × the max chunk size). */
const FILE_CONCURRENCY = 4;
const CHUNK_CONCURRENCY = 8;

function sameChunking(a: ChunkingParams, b: ChunkingParams): boolean {
  return (
    a.algorithm === b.algorithm && a.min === b.min && a.avg === b.avg && a.max === b.max && a.seed === b.seed
  );
}

/**
 * Copies a snapshot's tree from one store into another through the destination's writer. File
 * content is read chunk by chunk and each chunk stored under the destination's ID (its MAC key
 * differs); when the two stores chunk differently, the content is cut again by the
 * destination's chunker. Directory nodes are written anew by the backup's directory writer,
 * since the IDs they hold change.
 */
export class TreeCopier {
  private readonly sourceTrees: TreeReader;
  private readonly destTrees: TreeReader;
  private readonly rechunk: boolean;
  private readonly files = new Semaphore(FILE_CONCURRENCY);
  private readonly chunks = new Semaphore(CHUNK_CONCURRENCY);

  constructor(
    private readonly source: Repository,
    private readonly writer: RepositoryWriter,
    /** told the plaintext bytes of every chunk read from the source */
    private readonly onRead: (bytes: number) => void,
  ) {
    this.sourceTrees = new TreeReader(source);
    this.destTrees = new TreeReader(writer.repo);
    this.rechunk = !sameChunking(source.config.chunking, writer.repo.config.chunking);
  }

  /** Copies the tree under `root`; returns the destination's ID of it. */
  copy(root: string, reference?: Reference): Promise<string> {
    return this.dir(root, reference);
  }

  private async dir(treeId: string, reference: Reference | undefined): Promise<string> {
    const [entries, was, copy] = await Promise.all([
      this.sourceTrees.entries(treeId),
      this.entriesByName(this.sourceTrees, reference?.sourceTree),
      this.entriesByName(this.destTrees, reference?.destTree),
    ]);
    // files are copied concurrently (bounded by the semaphore); subdirectories one at a time, so
    // pending work stays proportional to the depth, not to the size of the tree
    const results: Promise<TreeEntry>[] = [];
    for (const entry of entries) {
      const task = this.entry(entry, was.get(entry.name), copy.get(entry.name));
      task.catch(() => undefined); // observed below, also when a later subdirectory fails first
      results.push(task);
      if (entry.type === 'dir') await task;
    }
    return saveDirectory(this.writer, await Promise.all(results));
  }

  private async entriesByName(
    trees: TreeReader,
    treeId: string | undefined,
  ): Promise<Map<string, TreeEntry>> {
    if (treeId === undefined) return new Map();
    return new Map((await trees.entries(treeId)).map((e) => [e.name, e]));
  }

  /** `was` and `copy`: the entry of the same name in the reference, in each store. */
  private async entry(entry: TreeEntry, was?: TreeEntry, copy?: TreeEntry): Promise<TreeEntry> {
    switch (entry.type) {
      case 'symlink':
        return entry;
      case 'dir':
        return this.subdir(entry, was, copy);
      case 'file':
        if (
          was?.type === 'file' &&
          copy?.type === 'file' &&
          !compareEntries(entry, was).content &&
          this.holds(copy.chunks)
        )
          return { ...entry, chunks: copy.chunks };
        return this.files.run(async () => ({ ...entry, chunks: await this.content(entry) }));
    }
  }

  private async subdir(entry: DirEntry, was?: TreeEntry, copy?: TreeEntry): Promise<DirEntry> {
    if (was?.type !== 'dir' || copy?.type !== 'dir')
      return { ...entry, subtree: await this.dir(entry.subtree, undefined) };
    if (was.subtree === entry.subtree && this.holds([copy.subtree]))
      return { ...entry, subtree: copy.subtree };
    const reference = { sourceTree: was.subtree, destTree: copy.subtree };
    return { ...entry, subtree: await this.dir(entry.subtree, reference) };
  }

  private holds(ids: readonly string[]): boolean {
    return ids.every((id) => this.writer.has(Buffer.from(id, 'hex')));
  }

  /** Stores the file's content in the destination; returns its chunk IDs there. */
  private async content(entry: FileEntry): Promise<string[]> {
    const ids: string[] = [];
    const saves: Promise<unknown>[] = [];
    const { mac, chunker } = this.writer.repo;
    const chunks = fileContent(this.source, entry);
    for await (const piece of this.rechunk ? chunkStream(chunker, chunks) : chunks) {
      // a re-cut chunk is a view into the chunker's window, rewritten by the next cut while
      // this save is still running: it keeps a copy (the store's own chunks are buffers of their own)
      const chunk = this.rechunk ? Buffer.from(piece) : piece;
      this.onRead(chunk.length);
      const id = mac.blobId(chunk);
      ids.push(id.toString('hex'));
      await this.chunks.acquire();
      const save = this.writer.saveBlob(BlobType.Data, chunk, id).finally(() => this.chunks.release());
      save.catch(() => undefined); // observed below; avoid an unhandled rejection meanwhile
      saves.push(save);
    }
    await Promise.all(saves);
    return ids;
  }
}
