import { z } from 'zod';
import { corrupt } from '../core/errors.js';
import { BlobType } from '../format/blob.js';
import { isUtf8Name } from '../core/byte-names.js';
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
const partialTreeSchema = z.object({
  /** 2 when a path is not UTF-8 (as for tree nodes), so that an older commit step refuses it */
  v: z.union([z.literal(1), z.literal(2)]),
  items: z.array(z.object({ path: z.string(), entry: treeEntrySchema })),
  dirs: z.array(z.object({ path: z.string(), meta: entryMetadataSchema })),
  counts: backupCountsSchema,
  errors: z.array(snapshotErrorSchema),
});
export type PartialTree = z.infer<typeof partialTreeSchema>;

export function emptyCounts(): BackupCounts {
  return { files: 0, dirs: 0, symlinks: 0, bytes: 0, filesRead: 0, newBytes: 0, storedBytes: 0 };
}

export async function savePartialTree(writer: RepositoryWriter, partial: PartialTree): Promise<string> {
  const utf8 =
    partial.dirs.every((d) => isUtf8Name(d.path)) &&
    partial.items.every(
      ({ path, entry }) => isUtf8Name(path) && (entry.type !== 'symlink' || isUtf8Name(entry.target)),
    );
  const body = Buffer.from(JSON.stringify({ ...partial, v: utf8 ? 1 : 2 }));
  const { id } = await writer.saveBlob(BlobType.PartialTree, body);
  return id.toString('hex');
}

export async function loadPartialTree(repo: Repository, id: string): Promise<PartialTree> {
  const data = await repo.loadBlob(Buffer.from(id, 'hex'), BlobType.PartialTree);
  const parsed = partialTreeSchema.safeParse(JSON.parse(data.toString('utf8')));
  if (!parsed.success) throw corrupt(`partial tree ${id.slice(0, 12)} is invalid`);
  return parsed.data;
}
