import { z } from 'zod';
import type { SourceEntry } from '../core/backup-source.js';
import { isByteName } from '../core/byte-names.js';
import { KlosetError } from '../core/errors.js';

/**
 * A batch of a distributed backup: what one worker backs up, as a backup plan writes it (plain
 * JSON, for a manifest that a Step Functions Distributed Map reads). Entries carry the metadata
 * the plan listed, so a worker asks the source for content only (for S3: one GET an object).
 */
const bytePath = z.string().refine(isByteName, { message: 'invalid path' });
const hexId = z.string().regex(/^[0-9a-f]{64}$/);
const count = z.number().int().min(0);

/** A source entry as JSON: the time as a decimal string of nanoseconds. */
const plannedEntrySchema = z.object({
  name: z.string(),
  type: z.enum(['file', 'dir', 'symlink']),
  mode: count,
  uid: count,
  gid: count,
  user: z.string().optional(),
  group: z.string().optional(),
  mtimeNs: z.string().regex(/^-?\d+$/),
  size: count,
  device: count,
  inode: count,
  links: count,
  target: z.string().optional(),
});
export type PlannedEntry = z.infer<typeof plannedEntrySchema>;

export const batchItemSchema = z.discriminatedUnion('kind', [
  /** a file to read, a link, or a directory's own metadata */
  z.object({
    kind: z.literal('entry'),
    path: bytePath,
    entry: plannedEntrySchema,
    /** a file whose content the parent snapshot holds (its metadata changed): its chunks are taken unread */
    keep: z.literal(true).optional(),
  }),
  /** `length` bytes of a file from `offset`: a file larger than a batch is backed up in ranges */
  z.object({
    kind: z.literal('range'),
    path: bytePath,
    entry: plannedEntrySchema,
    offset: count,
    length: count,
  }),
  /** in the parent snapshot, no longer in the source (a directory with everything below) */
  z.object({ kind: z.literal('gone'), path: bytePath }),
  /** an entry the source lists but cannot back up: recorded among the snapshot's errors */
  z.object({ kind: z.literal('error'), path: bytePath, message: z.string() }),
]);
export type BatchItem = z.infer<typeof batchItemSchema>;

/**
 * Entries the plan counts for the snapshot's summary, those no worker counts: unchanged files and
 * links (their bytes too) and every directory of the sources.
 */
export const plannedCountsSchema = z.object({ files: count, dirs: count, symlinks: count, bytes: count });
export type PlannedCounts = z.infer<typeof plannedCountsSchema>;

export const workBatchSchema = z.object({
  /** tree ID of `/` in the parent snapshot the plan compared with; the commit builds on it */
  parentRoot: hexId.optional(),
  items: z.array(batchItemSchema),
  /** entries counted since the previous batch */
  counted: plannedCountsSchema,
});
export type WorkBatch = z.infer<typeof workBatchSchema>;

/** The content bytes a worker reads for an item (a file's unless its content is kept, a range's). */
export function bytesToRead(item: BatchItem): number {
  if (item.kind === 'range') return item.length;
  return item.kind === 'entry' && item.entry.type === 'file' && !item.keep ? item.entry.size : 0;
}

/** The content bytes a worker reads for a batch. */
export function batchBytes(batch: WorkBatch): number {
  return batch.items.reduce((sum, item) => sum + bytesToRead(item), 0);
}

export function toPlannedEntry(entry: SourceEntry): PlannedEntry {
  const { type } = entry;
  if (type === 'special') throw new KlosetError('INVALID_ARGUMENT', 'special files are not planned');
  const { name, mode, uid, gid, user, group, size, device, inode, links, target } = entry;
  return {
    name,
    type,
    mode,
    uid,
    gid,
    ...(user !== undefined && { user }),
    ...(group !== undefined && { group }),
    mtimeNs: entry.mtimeNs.toString(),
    size,
    device,
    inode,
    links,
    ...(target !== undefined && { target }),
  };
}

export function fromPlannedEntry(entry: PlannedEntry): SourceEntry {
  return { ...entry, mtimeNs: BigInt(entry.mtimeNs) };
}

/** A batch from JSON (a manifest, a worker's event): INVALID_ARGUMENT when it is not one. */
export function parseWorkBatch(input: unknown): WorkBatch {
  const parsed = workBatchSchema.safeParse(input);
  if (!parsed.success)
    throw new KlosetError('INVALID_ARGUMENT', `not a work batch: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export function emptyBatch(parentRoot: string | undefined): WorkBatch {
  return {
    ...(parentRoot && { parentRoot }),
    items: [],
    counted: { files: 0, dirs: 0, symlinks: 0, bytes: 0 },
  };
}
