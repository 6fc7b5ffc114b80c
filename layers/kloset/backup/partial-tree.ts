import { z } from 'zod';
import { corrupt } from '../core/errors.js';
import { decodeVersionedJson } from '../core/versioned-json.js';
import { BlobType } from '../format/blob.js';
import { isByteName, isUtf8Name } from '../core/byte-names.js';
import type { RepositoryWriter } from '../repository/repository-writer.js';
import type { Repository } from '../repository/repository.js';
import { type BackupCounts, backupCountsSchema, snapshotErrorSchema } from '../snapshot/snapshot-record.js';
import { entryMetadataSchema, treeEntrySchema } from '../core/tree-node.js';

/**
 * What one batch of a backup produces: the entries of the paths it was given (a directory
 * entry carries its whole subtree), the metadata of the directories above them, and its
 * counts and errors. A commit step assembles partial trees into one snapshot. Stored as a
 * metadata blob (type 6), so a batch worker hands its commit step only an ID.
 */
const bytePath = z.string().refine(isByteName, { message: 'invalid path' });
const partialTreeSchema = z.object({
  /** 2 when a path is not UTF-8 (as for tree nodes), so that an older commit step refuses it */
  v: z.number().int().min(1),
  items: z.array(z.object({ path: bytePath, entry: treeEntrySchema })),
  dirs: z.array(z.object({ path: bytePath, meta: entryMetadataSchema })),
  counts: backupCountsSchema,
  errors: z.array(snapshotErrorSchema),
});
export type PartialTree = z.infer<typeof partialTreeSchema>;
const PARTIAL_TREE_VERSION = 2;
const PARTIAL_TREE_FORMAT = {
  name: 'partial tree',
  versionField: 'v',
  version: PARTIAL_TREE_VERSION,
  schema: partialTreeSchema,
};

export function emptyCounts(): BackupCounts {
  return { files: 0, dirs: 0, symlinks: 0, bytes: 0, filesRead: 0, newBytes: 0, storedBytes: 0 };
}

function isUtf8Partial(partial: PartialTree): boolean {
  return (
    partial.dirs.every((d) => isUtf8Name(d.path)) &&
    partial.items.every(
      ({ path, entry }) => isUtf8Name(path) && (entry.type !== 'symlink' || isUtf8Name(entry.target)),
    )
  );
}

export async function savePartialTree(writer: RepositoryWriter, partial: PartialTree): Promise<string> {
  const body = Buffer.from(
    JSON.stringify({ ...partial, v: isUtf8Partial(partial) ? 1 : PARTIAL_TREE_VERSION }),
  );
  const { id } = await writer.saveBlob(BlobType.PartialTree, body);
  return id.toString('hex');
}

/** Decodes a partial tree as tree nodes are decoded: a newer version asks for an upgrade, v1 holds UTF-8 only. */
export function decodePartialTree(data: Buffer, what: string): PartialTree {
  const partial = decodeVersionedJson(data, PARTIAL_TREE_FORMAT, what);
  if (partial.v < PARTIAL_TREE_VERSION && !isUtf8Partial(partial))
    throw corrupt(`${what} is version ${partial.v} but holds names that are not UTF-8`);
  return partial;
}

export async function loadPartialTree(repo: Repository, id: string): Promise<PartialTree> {
  const data = await repo.loadBlob(Buffer.from(id, 'hex'), BlobType.PartialTree);
  return decodePartialTree(data, `partial tree ${id.slice(0, 12)}`);
}
