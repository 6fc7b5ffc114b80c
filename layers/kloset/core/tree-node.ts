import { z } from 'zod';
import { isByteName, isUtf8Name, nameToBytes } from './byte-names.js';
import { corrupt } from './errors.js';
import { decodeVersionedJson } from './versioned-json.js';

/**
 * Tree nodes (docs/FORMAT.md, "Trees"): one per directory, JSON, entries sorted by the bytes of
 * their names. A directory with more than NODE_MAX_ENTRIES entries is a node of `parts`, each part
 * a node of consecutive entries, so no single blob grows without bound. Names and link targets
 * are bytes (core/byte-names.ts); a node holding one that is not UTF-8 is version 2, so that a
 * reader of version 1 refuses it instead of restoring other names.
 */
export const TREE_VERSION = 2;
/** Nodes whose names and targets are all UTF-8 stay version 1: same bytes, same IDs as before. */
const UTF8_TREE_VERSION = 1;
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
const common = {
  name: z.string().refine((n) => isSafeName(n) && isByteName(n), { message: 'unsafe entry name' }),
  ...metadata,
};

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
export const symlinkEntrySchema = z.object({
  ...common,
  type: z.literal('symlink'),
  target: z.string().refine(isByteName, { message: 'invalid link target' }),
});

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
  z.object({ v: z.number().int().min(1), entries: z.array(treeEntrySchema) }),
  z.object({ v: z.number().int().min(1), parts: z.array(hexId) }),
]);
export type TreeNode = z.infer<typeof nodeSchema>;
const NODE_FORMAT = { name: 'tree', versionField: 'v', version: TREE_VERSION, schema: nodeSchema };

/** Orders names (and paths) by their bytes. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(nameToBytes(a), nameToBytes(b));
}

/** Whether an entry's name and target are UTF-8, as version 1 requires. */
function isUtf8Entry(entry: TreeEntry): boolean {
  return isUtf8Name(entry.name) && (entry.type !== 'symlink' || isUtf8Name(entry.target));
}

/**
 * An entry with its fields in one order (the order a backup builds them in), so that equal entries
 * encode to equal bytes however they were put together: read back from a node, a partial tree or
 * a plan's batch, or built from a source.
 */
function canonicalEntry(e: TreeEntry): TreeEntry {
  const head = {
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    mtime: e.mtime,
    user: e.user,
    group: e.group,
    name: e.name,
  };
  switch (e.type) {
    case 'file':
      return {
        ...head,
        type: e.type,
        device: e.device,
        inode: e.inode,
        links: e.links,
        size: e.size,
        chunks: e.chunks,
      };
    case 'dir':
      return { ...head, type: e.type, subtree: e.subtree };
    case 'symlink':
      return { ...head, type: e.type, target: e.target };
  }
}

/** A node of entries (sorted by the caller) or of parts, at the lowest version that holds it. */
export function encodeNode(node: { entries: TreeEntry[] } | { parts: string[] }): Buffer {
  if ('parts' in node) return Buffer.from(JSON.stringify({ v: UTF8_TREE_VERSION, ...node }));
  const v = node.entries.every(isUtf8Entry) ? UTF8_TREE_VERSION : TREE_VERSION;
  return Buffer.from(JSON.stringify({ v, entries: node.entries.map(canonicalEntry) }));
}

/** Decodes and validates a node; names must be safe, sorted and unique. */
export function decodeNode(data: Buffer, what: string): TreeNode {
  const node = decodeVersionedJson(data, NODE_FORMAT, what);
  if ('entries' in node) {
    const entries = node.entries;
    if (node.v < TREE_VERSION && !entries.every(isUtf8Entry))
      throw corrupt(`${what} is version ${node.v} but holds names that are not UTF-8`);
    for (let i = 1; i < entries.length; i++) {
      if (compareNames(entries[i - 1]!.name, entries[i]!.name) >= 0) {
        throw corrupt(`${what} has unsorted or duplicate entry names`);
      }
    }
  }
  return node;
}
