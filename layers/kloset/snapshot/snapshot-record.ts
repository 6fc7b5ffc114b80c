import { z } from 'zod';
import { decodeVersionedJson } from '../core/versioned-json.js';

/**
 * The snapshot record: a small JSON blob in a metadata pack. Its blob ID is the snapshot ID, and
 * it becomes visible when the index delta naming it is written.
 */
export const SNAPSHOT_VERSION = 1;

/** What a backup (or one batch of it) counted; partial trees carry them too. */
export const backupCountsSchema = z.object({
  files: z.number().int().min(0),
  dirs: z.number().int().min(0),
  symlinks: z.number().int().min(0),
  /** logical bytes of the files */
  bytes: z.number().int().min(0),
  /** files whose content was read (the rest came unchanged from the parent snapshot) */
  filesRead: z.number().int().min(0),
  /** plaintext bytes of blobs this backup added */
  newBytes: z.number().int().min(0),
  /** sealed bytes of the blobs this backup added */
  storedBytes: z.number().int().min(0),
});
export type BackupCounts = z.infer<typeof backupCountsSchema>;

export const snapshotSummarySchema = backupCountsSchema.extend({ durationMs: z.number().min(0) });
export type SnapshotSummary = z.infer<typeof snapshotSummarySchema>;

export const snapshotErrorSchema = z.object({ path: z.string(), message: z.string() });
export type SnapshotError = z.infer<typeof snapshotErrorSchema>;

const recordSchema = z.object({
  v: z.number().int(),
  time: z.string(),
  hostname: z.string(),
  username: z.string(),
  tags: z.array(z.string()),
  /** absolute source paths, as given */
  sources: z.array(z.string()),
  /** tree ID of `/` */
  root: z.string().regex(/^[0-9a-f]{64}$/),
  parent: z.string().optional(),
  /**
   * Set on copies made by sync: `<store ID>:<snapshot ID>` of the snapshot as first backed up.
   * Snapshot IDs are keyed per store, so this is what tells two stores hold the same snapshot.
   */
  origin: z
    .string()
    .regex(/^[0-9a-f]{32}:[0-9a-f]{64}$/)
    .optional(),
  summary: snapshotSummarySchema,
  errors: z.array(snapshotErrorSchema),
});
export type SnapshotBody = z.infer<typeof recordSchema>;

export interface SnapshotRecord extends SnapshotBody {
  readonly id: string;
}

export function encodeSnapshot(body: SnapshotBody): Buffer {
  return Buffer.from(JSON.stringify(body));
}

export function decodeSnapshot(id: string, data: Buffer): SnapshotRecord {
  const format = { name: 'snapshot', versionField: 'v', version: SNAPSHOT_VERSION, schema: recordSchema };
  return { id, ...decodeVersionedJson(data, format, `snapshot ${id.slice(0, 12)}`) };
}
