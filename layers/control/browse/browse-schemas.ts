/**
 * What the browse routes take and answer. Names and paths inside a snapshot are bytes: a string
 * that is not UTF-8 is answered with U+FFFD in it and its bytes beside it in base64 under
 * `<field>Bytes` (as `kloud --json` writes them), and a path is asked for either as UTF-8 text
 * (`path`) or as those bytes (`pathBytes`).
 */
import { z } from 'zod';
import { PageQuery } from '../api/common-schemas.js';
import { SnapshotRef } from '../api/snapshot-ref.js';
import { AppId } from '../store-apps/store-app.js';

export const SnapshotPath = AppId.extend({ snapshotId: SnapshotRef });
export const DiffPath = AppId.extend({ a: SnapshotRef, b: SnapshotRef });

/** `path` or `pathBytes`; which of them is there is checked once the query parsed (snapshot-path.ts). */
const PathParameters = {
  path: z
    .string()
    .max(4096)
    .optional()
    .meta({ description: 'a path inside the snapshot, e.g. /home/ann/notes.txt (default /)' }),
  pathBytes: z
    .string()
    .max(5464)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64')
    .optional()
    .meta({ description: "instead of path: the path's bytes in base64, for names that are not UTF-8" }),
};
export type PathParameters = { path?: string; pathBytes?: string };

export const EntriesQuery = PageQuery.extend(PathParameters);
export const FileQuery = z.strictObject(PathParameters);
export const DiffQuery = EntriesQuery;
export const SnapshotsQuery = PageQuery.extend({
  tag: z.string().min(1).max(256).optional().meta({ description: 'only the snapshots with this tag' }),
});
export const SearchQuery = PageQuery.extend({
  pattern: z.string().min(1, 'pattern: give a glob such as *.conf or /etc/**/*.conf').max(1024).meta({
    description: 'a glob: with a `/` it matches whole paths (/etc/**/*.conf), without it names (*.conf)',
  }),
  snapshot: SnapshotRef.optional().meta({
    description: 'search this snapshot only (default: every snapshot)',
  }),
});

const bytesOf = (field: string) =>
  z
    .string()
    .optional()
    .meta({ description: `base64 of ${field}'s bytes, present when they are not UTF-8` });

export const SnapshotItem = z
  .object({
    id: z.string(),
    time: z.string().meta({ description: 'when the backup started (ISO 8601)' }),
    hostname: z.string(),
    sources: z.array(z.string()),
    sourcesBytes: z
      .array(z.string().nullable())
      .optional()
      .meta({ description: 'base64 of each source path that is not UTF-8 (null for the others)' }),
    tags: z.array(z.string()),
    size: z.number().meta({ description: 'logical bytes: the sum of the sizes of its files' }),
    files: z.number(),
  })
  .meta({ id: 'Snapshot' });

export const EntryItem = z
  .object({
    name: z.string(),
    nameBytes: bytesOf('name'),
    path: z.string(),
    pathBytes: bytesOf('path'),
    type: z.enum(['file', 'directory', 'symlink']),
    size: z.number().meta({ description: 'bytes (0 for directories and symlinks)' }),
    mode: z.string().meta({ description: 'permission bits in octal, e.g. 0644' }),
    mtime: z.string().meta({ description: 'ISO 8601' }),
    target: z.string().optional().meta({ description: "a symlink's target" }),
    targetBytes: bytesOf('target'),
  })
  .meta({ id: 'SnapshotEntry' });

const FileBase = { path: z.string(), pathBytes: bytesOf('path'), size: z.number() };
export const FileAnswer = z
  .union([
    z.object({
      ...FileBase,
      content: z.string().meta({ description: 'the bytes, base64 (files up to 1 MiB)' }),
    }),
    z.object({
      ...FileBase,
      url: z.string().meta({ description: 'a presigned GET URL of the file in the staging bucket' }),
      expiresAt: z.string().meta({ description: 'when the URL stops working (ISO 8601)' }),
    }),
  ])
  .meta({ id: 'SnapshotFile' });

export const ChangeItem = z
  .object({
    path: z.string(),
    pathBytes: bytesOf('path'),
    change: z.enum(['added', 'removed', 'modified', 'metadata', 'type']),
    type: z.enum(['file', 'directory', 'symlink']),
  })
  .meta({ id: 'SnapshotChange' });

export const FoundItem = z
  .object({
    snapshot: z.string(),
    path: z.string(),
    pathBytes: bytesOf('path'),
    type: z.enum(['file', 'directory', 'symlink']),
    size: z.number(),
    mtime: z.string(),
  })
  .meta({ id: 'FoundEntry' });

export type SnapshotItem = z.input<typeof SnapshotItem>;
export type EntryItem = z.input<typeof EntryItem>;
export type FileAnswer = z.input<typeof FileAnswer>;
export type ChangeItem = z.input<typeof ChangeItem>;
export type FoundItem = z.input<typeof FoundItem>;
