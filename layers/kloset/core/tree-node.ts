import { z } from 'zod';
import { corrupt } from './errors.js';
import { decodeVersionedJson } from './versioned-json.js';

/**
 * Tree nodes (docs/FORMAT.md, "Trees"): one per directory, JSON, entries sorted by the bytes of
 * their UTF-8 names. A directory with more than NODE_MAX_ENTRIES entries is a node of `parts`,
 * each part a node of consecutive entries, so no single blob grows without bound.
 */
export const TREE_VERSION = 1;
export const NODE_MAX_ENTRIES = 4096;

/** A name is one path component: never empty, `.`, `..`, and never holds `/` or NUL. */
export function isSafeName(name: string): boolean {
  return name.length > 0 && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

const hexId = z.string().regex(/^[0-9a-f]{64}$/);

const metadata = {
  /** permission bits, setuid/setgid/sticky included (mode & 0o7777) */
  mode: z.number().int().min(0).max(0o7777),
  uid: z.number().int().min(0),
  gid: z.number().int().min(0),
  user: z.string().optional(),
  group: z.string().optional(),
  /** modification time, nanoseconds since the epoch, as a decimal string */
  mtime: z.string().regex(/^-?\d+$/),
};
const common = { name: z.string().refine(isSafeName, { message: 'unsafe entry name' }), ...metadata };

/** What every entry carries besides its name and content: also recorded for directories above a batch. */
export const entryMetadataSchema = z.object(metadata);
export type EntryMetadata = z.infer<typeof entryMetadataSchema>;

export const fileEntrySchema = z.object({
  ...common,
  type: z.literal('file'),
  size: z.number().int().min(0),
  /** hard-link identity: equal (device, inode) with links > 1 means the same file */
  device: z.number().int().min(0).optional(),
  inode: z.number().int().min(0).optional(),
  links: z.number().int().min(1).optional(),
  chunks: z.array(hexId),
});

export const dirEntrySchema = z.object({ ...common, type: z.literal('dir'), subtree: hexId });
export const symlinkEntrySchema = z.object({ ...common, type: z.literal('symlink'), target: z.string() });

export const treeEntrySchema = z.discriminatedUnion('type', [
  fileEntrySchema,
  dirEntrySchema,
  symlinkEntrySchema,
]);
export type TreeEntry = z.infer<typeof treeEntrySchema>;
export type FileEntry = z.infer<typeof fileEntrySchema>;
export type DirEntry = z.infer<typeof dirEntrySchema>;
export type SymlinkEntry = z.infer<typeof symlinkEntrySchema>;

const nodeSchema = z.union([
  z.object({ v: z.number().int(), entries: z.array(treeEntrySchema) }),
  z.object({ v: z.number().int(), parts: z.array(hexId) }),
]);
export type TreeNode = z.infer<typeof nodeSchema>;
const NODE_FORMAT = { name: 'tree', versionField: 'v', version: TREE_VERSION, schema: nodeSchema };

export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export function encodeNode(node: TreeNode): Buffer {
  return Buffer.from(JSON.stringify(node));
}

/** Decodes and validates a node; names must be safe, sorted and unique. */
export function decodeNode(data: Buffer, what: string): TreeNode {
  const node = decodeVersionedJson(data, NODE_FORMAT, what);
  if ('entries' in node) {
    const entries = node.entries;
    for (let i = 1; i < entries.length; i++) {
      if (compareNames(entries[i - 1]!.name, entries[i]!.name) >= 0) {
        throw corrupt(`${what} has unsorted or duplicate entry names`);
      }
    }
  }
  return node;
}
