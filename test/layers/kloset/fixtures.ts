import { createHash } from 'node:crypto';
import {
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rm,
  symlink,
  utimes,
  writeFile,
  chmod,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CreateOptions,
  KlosetError,
  Store,
  createStore,
  openStore,
} from '../../../layers/kloset/index.js';

/** A cheap KDF for tests: the default costs ~100 ms per open. */
export const FAST_KDF = { algorithm: 'scrypt', N: 1024, r: 8, p: 1 } as const;
export const PASSPHRASE = 'correct horse battery staple';

const made: string[] = [];

export async function tempDir(prefix = 'kloud-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  while (made.length) await rm(made.pop()!, { recursive: true, force: true });
}

export async function newStore(
  opts: Partial<CreateOptions> = {},
): Promise<{ location: string; store: Store }> {
  const location = join(await tempDir('kloud-store-'), 'store');
  await createStore(location, { passphrase: PASSPHRASE, kdf: FAST_KDF, ...opts });
  return { location, store: await openStore(location, { passphrase: PASSPHRASE }) };
}

export type Spec =
  | string
  | Buffer
  | { symlink: string }
  | { dir: Record<string, Spec>; mode?: number }
  | { content: string | Buffer; mode?: number; mtime?: Date };

/** Writes a tree described by `spec` under `root`. */
export async function writeTree(root: string, spec: Record<string, Spec>): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const [name, s] of Object.entries(spec)) {
    const p = join(root, name);
    if (typeof s === 'string' || Buffer.isBuffer(s)) await writeFile(p, s);
    else if ('symlink' in s) await symlink(s.symlink, p);
    else if ('dir' in s) {
      await writeTree(p, s.dir);
      if (s.mode !== undefined) await chmod(p, s.mode);
    } else {
      await writeFile(p, s.content);
      if (s.mode !== undefined) await chmod(p, s.mode);
      if (s.mtime) await utimes(p, s.mtime, s.mtime);
    }
  }
}

export interface DigestEntry {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  mtimeMs?: number;
  size?: number;
  sha256?: string;
  target?: string;
}

/**
 * Everything a restore must reproduce, by relative path: type, mode, content hash, symlink
 * target, and mtime (ms) of files and symlinks... and directories when `dirTimes`.
 */
export async function treeDigest(root: string, dirTimes = true): Promise<Record<string, DigestEntry>> {
  const out: Record<string, DigestEntry> = {};
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const p = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(p);
      const mode = st.mode & 0o7777;
      if (st.isSymbolicLink()) out[r] = { type: 'symlink', mode: 0, target: await readlink(p) };
      else if (st.isDirectory()) {
        out[r] = { type: 'dir', mode, ...(dirTimes && { mtimeMs: Math.floor(st.mtimeMs) }) };
        await walk(p, r);
      } else {
        const sha256 = createHash('sha256')
          .update(await readFile(p))
          .digest('hex');
        out[r] = { type: 'file', mode, mtimeMs: Math.floor(st.mtimeMs), size: st.size, sha256 };
      }
    }
  };
  await walk(root, '');
  return out;
}

export async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(p);
  return Buffer.concat(parts);
}

/** Files below `dir` (relative paths), to see what an operation added. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(join(d, e.name), r);
      else out.push(r);
    }
  };
  await walk(dir, '');
  return out.sort();
}

/** The KlosetError a call throws (any other outcome fails the test). */
export function failure(fn: () => unknown): KlosetError {
  try {
    fn();
  } catch (err) {
    if (err instanceof KlosetError) return err;
    throw err;
  }
  throw new Error('expected a KlosetError');
}

/** The KlosetError a promise rejects with. */
export async function failureOf(promise: Promise<unknown>): Promise<KlosetError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof KlosetError) return err;
    throw err;
  }
  throw new Error('expected a KlosetError');
}
