import { z } from 'zod';
import { corrupt } from '../core/errors.js';
import { decodeVersionedJson } from '../core/versioned-json.js';
import { BlobType } from '../format/blob.js';
import { isByteName, isUtf8Name } from '../core/byte-names.js';
import type { RepositoryWriter } from '../repository/repository-writer.js';
import type { Repository } from '../repository/repository.js';
import { type BackupCounts, backupCountsSchema, snapshotErrorSchema } from '../snapshot/snapshot-record.js';
import { entryMetadataSchema, fileEntrySchema, treeEntrySchema } from '../core/tree-node.js';

/**
 * What one batch of a backup produces: the entries of the paths it was given (a directory
 * entry carries its whole subtree), the metadata of the directories above them, and its
 * counts and errors. A commit step assembles partial trees into one snapshot. Stored as a
 * metadata blob (type 6), so a batch worker hands its commit step only an ID.
 */
const bytePath = z.string().refine(isByteName, { message: 'invalid path' });
const rangeSchema = z.object({
  path: bytePath,
  /** the planned range of the file */
  offset: z.number().int().min(0),
  length: z.number().int().min(0),
  /** bytes read: less than `length` when the file shrank since the plan */
  read: z.number().int().min(0),
  /** the file's entry, its size the whole file's, its chunks the range's */
  entry: fileEntrySchema,
});
export type RangeResult = z.infer<typeof rangeSchema>;
const partialTreeSchema = z.object({
  /**
   * 2 when a path is not UTF-8 (as for tree nodes), 3 when it holds what a plan's batch makes
   * (a parent to build on, ranges, gone entries): an older commit step refuses what it cannot read
   */
  v: z.number().int().min(1),
  items: z.array(z.object({ path: bytePath, entry: treeEntrySchema })),
  dirs: z.array(z.object({ path: bytePath, meta: entryMetadataSchema })),
  counts: backupCountsSchema,
  errors: z.array(snapshotErrorSchema),
  /** tree ID of `/` in the parent snapshot the batch was planned against */
  base: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  ranges: z.array(rangeSchema).default([]),
  gone: z.array(bytePath).default([]),
});
export type PartialTree = z.infer<typeof partialTreeSchema>;
const PARTIAL_TREE_VERSION = 3;
const UTF8_VERSION = 1;
const BYTE_NAMES_VERSION = 2;
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
    ) &&
    partial.ranges.every((r) => isUtf8Name(r.path)) &&
    partial.gone.every(isUtf8Name)
  );
}

function isPlanned(partial: PartialTree): boolean {
  return partial.base !== undefined || partial.ranges.length > 0 || partial.gone.length > 0;
}

/** The lowest version that holds the partial tree: a single-process batch keeps the bytes it had. */
function versionOf(partial: PartialTree): number {
  if (isPlanned(partial)) return PARTIAL_TREE_VERSION;
  return isUtf8Partial(partial) ? UTF8_VERSION : BYTE_NAMES_VERSION;
}

export async function savePartialTree(writer: RepositoryWriter, partial: PartialTree): Promise<string> {
  const { ranges, gone, ...rest } = partial;
  const body = Buffer.from(
    JSON.stringify({
      ...rest,
      v: versionOf(partial),
      ...(ranges.length > 0 && { ranges }),
      ...(gone.length > 0 && { gone }),
    }),
  );
  const { id } = await writer.saveBlob(BlobType.PartialTree, body);
  return id.toString('hex');
}

/** Decodes a partial tree as tree nodes are decoded: a newer version asks for an upgrade, v1 holds UTF-8 only. */
export function decodePartialTree(data: Buffer, what: string): PartialTree {
  const partial = decodeVersionedJson(data, PARTIAL_TREE_FORMAT, what);
  if (partial.v < BYTE_NAMES_VERSION && !isUtf8Partial(partial))
    throw corrupt(`${what} is version ${partial.v} but holds names that are not UTF-8`);
  if (partial.v < PARTIAL_TREE_VERSION && isPlanned(partial))
    throw corrupt(
      `${what} is version ${partial.v} but holds a planned batch's parent, ranges or gone entries`,
    );
  return partial;
}

export async function loadPartialTree(repo: Repository, id: string): Promise<PartialTree> {
  const data = await repo.loadBlob(Buffer.from(id, 'hex'), BlobType.PartialTree);
  return decodePartialTree(data, `partial tree ${id.slice(0, 12)}`);
}
