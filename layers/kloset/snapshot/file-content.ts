import { BlobType } from '../format/blob.js';
import type { Repository } from '../repository/repository.js';
import type { FileEntry } from '../core/tree-node.js';

/** Blobs fetched ahead of the consumer: overlaps pack reads with writing. */
const READ_AHEAD = 4;

/** The content of a file entry, chunk by chunk, in order, each chunk verified. */
export async function* fileContent(repo: Repository, entry: FileEntry): AsyncGenerator<Buffer> {
  const ids = entry.chunks.map((c) => Buffer.from(c, 'hex'));
  const pending: Promise<Buffer>[] = [];
  let next = 0;
  const fill = (): void => {
    while (pending.length < READ_AHEAD && next < ids.length) {
      const p = repo.loadBlob(ids[next++]!, BlobType.Data);
      p.catch(() => undefined); // observed when its turn comes; avoid an unhandled rejection meanwhile
      pending.push(p);
    }
  };
  fill();
  while (pending.length > 0) {
    const chunk = await pending.shift()!;
    fill();
    yield chunk;
  }
}
