import { BlobType } from '../format/blob.js';
import type { RepositoryWriter } from '../repository/repository-writer.js';
import { NODE_MAX_ENTRIES, type TreeEntry, encodeNode } from '../core/tree-node.js';

/** Stores a directory's entries (sorted by the caller) as a node, or a node of parts when large. */
export async function saveDirectory(
  writer: RepositoryWriter,
  entries: readonly TreeEntry[],
): Promise<string> {
  const save = async (body: Buffer) => (await writer.saveBlob(BlobType.Tree, body)).id.toString('hex');
  if (entries.length <= NODE_MAX_ENTRIES) return save(encodeNode({ entries: [...entries] }));
  const parts: string[] = [];
  for (let i = 0; i < entries.length; i += NODE_MAX_ENTRIES) {
    parts.push(await save(encodeNode({ entries: entries.slice(i, i + NODE_MAX_ENTRIES) })));
  }
  return save(encodeNode({ parts }));
}
