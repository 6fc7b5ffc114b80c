import { createHash } from 'node:crypto';
import { open, readdir, lstat } from 'node:fs/promises';
import { join } from 'node:path';

/** What a restore must reproduce for each regular file: content, size and permission bits. */
export interface FileDigest {
  readonly size: number;
  readonly mode: number;
  readonly sha256: string;
}

/** Relative path (with `/`) → digest. */
export type TreeDigest = Map<string, FileDigest>;

const READ_BUFFER = 1 << 20;
const HASH_CONCURRENCY = 4;

export async function hashFile(path: string, buffer = Buffer.allocUnsafe(READ_BUFFER)): Promise<string> {
  const h = createHash('sha256');
  const fh = await open(path, 'r');
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      h.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}

/** Regular files under `root`, sorted, as relative paths. Other entry types are reported. */
export async function listFiles(root: string): Promise<{ files: string[]; others: string[] }> {
  const files: string[] = [];
  const others: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(root, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(childRel);
      else if (e.isFile()) files.push(childRel);
      else others.push(childRel);
    }
  };
  await walk('');
  return { files, others };
}

/** Hashes every regular file under `root`; any other entry type is a difference by itself. */
export async function digestTree(root: string): Promise<{ digest: TreeDigest; others: string[] }> {
  const { files, others } = await listFiles(root);
  const digest: TreeDigest = new Map();
  let next = 0;
  const worker = async (): Promise<void> => {
    const buffer = Buffer.allocUnsafe(READ_BUFFER);
    while (next < files.length) {
      const rel = files[next++] as string;
      const path = join(root, rel);
      const st = await lstat(path);
      digest.set(rel, { size: st.size, mode: st.mode & 0o7777, sha256: await hashFile(path, buffer) });
    }
  };
  await Promise.all(Array.from({ length: HASH_CONCURRENCY }, worker));
  return { digest: new Map([...digest].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), others };
}

/** Human-readable differences, at most `limit` of them; empty when the trees are equal. */
export function compareDigests(expected: TreeDigest, actual: TreeDigest, limit = 10): string[] {
  const diffs: string[] = [];
  const add = (d: string): void => {
    if (diffs.length < limit) diffs.push(d);
  };
  for (const [path, want] of expected) {
    const got = actual.get(path);
    if (!got) add(`missing ${path}`);
    else if (got.size !== want.size) add(`size ${path}: ${got.size} != ${want.size}`);
    else if (got.sha256 !== want.sha256) add(`content ${path}`);
    else if (got.mode !== want.mode) add(`mode ${path}: ${got.mode.toString(8)} != ${want.mode.toString(8)}`);
  }
  for (const path of actual.keys()) if (!expected.has(path)) add(`extra ${path}`);
  return diffs;
}

/** One hash over the whole tree, so two runs can tell they measured the same corpus. */
export function treeFingerprint(digest: TreeDigest): string {
  const h = createHash('sha256');
  for (const [path, d] of digest) h.update(`${path}\0${d.size}\0${d.mode.toString(8)}\0${d.sha256}\n`);
  return h.digest('hex');
}
