import { accessSync, constants, lstatSync, readdirSync } from 'node:fs';
import { access, chmod, copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SeededRandom } from './seeded-random.js';
import { writeMixedEntropyFile, writeVmImage } from './synthetic-files.js';
import { digestTree, treeFingerprint, type FileDigest, type TreeDigest } from './tree-digest.js';

/**
 * The benchmark corpus: copies of real files from /usr/lib and /usr/share plus a synthetic part
 * (synthetic-files.ts). The same seed on the same machine gives the same corpus; the fingerprint
 * (a hash over every path, size, mode and content hash) tells whether two runs measured the
 * same bytes. A built corpus is kept in the work dir and reused while its manifest matches.
 */

export const CORPUS_SIZES = ['tiny', 'small', 'medium', 'large'] as const;
export type CorpusSize = (typeof CORPUS_SIZES)[number];

const KiB = 1024;
const MiB = 1024 * KiB;

interface CorpusSpec {
  /** Budget of real bytes and files copied from the source roots. */
  readonly realBytes: number;
  readonly realFiles: number;
  /** Larger real files are left out: the synthetic part covers large files. */
  readonly maxFileBytes: number;
  readonly mixedFiles: number;
  readonly mixedFileBytes: number;
  readonly vmImageBytes: number;
}

/** `large` is ≈1.1 GB in ~47k files, the size TOOLING.md's restic and Borg figures were taken on. */
const SPECS: Record<CorpusSize, CorpusSpec> = {
  tiny: {
    realBytes: 3 * MiB,
    realFiles: 250,
    maxFileBytes: 256 * KiB,
    mixedFiles: 2,
    mixedFileBytes: 512 * KiB,
    vmImageBytes: 1 * MiB,
  },
  small: {
    realBytes: 88 * MiB,
    realFiles: 4500,
    maxFileBytes: 8 * MiB,
    mixedFiles: 3,
    mixedFileBytes: 4 * MiB,
    vmImageBytes: 8 * MiB,
  },
  medium: {
    realBytes: 288 * MiB,
    realFiles: 14000,
    maxFileBytes: 16 * MiB,
    mixedFiles: 3,
    mixedFileBytes: 8 * MiB,
    vmImageBytes: 24 * MiB,
  },
  large: {
    realBytes: 960 * MiB,
    realFiles: 47000,
    maxFileBytes: 32 * MiB,
    mixedFiles: 3,
    mixedFileBytes: 16 * MiB,
    vmImageBytes: 48 * MiB,
  },
};

export const DEFAULT_SOURCE_ROOTS = ['/usr/lib', '/usr/share'];

/** Bump when the selection or the generators change, so stale corpora are rebuilt. */
const CORPUS_FORMAT = 3;
const COPY_CONCURRENCY = 16;

export interface Corpus {
  readonly size: CorpusSize;
  readonly seed: number;
  /** The directory the tools back up. */
  readonly root: string;
  readonly fileCount: number;
  readonly totalBytes: number;
  readonly realFileCount: number;
  readonly realBytes: number;
  readonly fingerprint: string;
  /** Digest of the pristine corpus, sorted by path. */
  readonly digest: TreeDigest;
}

interface Manifest {
  readonly format: number;
  readonly size: CorpusSize;
  readonly seed: number;
  readonly sourceRoots: string[];
  readonly realFileCount: number;
  readonly realBytes: number;
  readonly fingerprint: string;
  readonly files: [string, FileDigest][];
}

interface SourceFile {
  readonly path: string;
  readonly size: number;
  readonly mode: number;
}

/**
 * A TypeScript file copied from /usr into a work dir inside the project would be type-checked
 * by `npm test` (the tsconfigs exclude bench/work, but --work-dir may point elsewhere). System
 * dirs rarely hold any; skip them.
 */
const TYPESCRIPT_SOURCE = /\.(ts|tsx|mts|cts)$/;

/**
 * Regular files under the roots grouped by directory, the unit of selection. Synchronous on
 * purpose: ~100k lstat calls finish in well under a second this way, several times faster than
 * through the promise API, and nothing else runs meanwhile.
 */
function listSourceDirectories(roots: readonly string[], maxFileBytes: number): SourceFile[][] {
  const groups: SourceFile[][] = [];
  const isRoot = process.getuid?.() === 0;
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // unreadable directory: not part of the corpus
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const files: SourceFile[] = [];
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.isFile() && !TYPESCRIPT_SOURCE.test(e.name)) {
        try {
          const st = lstatSync(path);
          if (st.size <= maxFileBytes && (isRoot || readable(path)))
            files.push({ path, size: st.size, mode: st.mode });
        } catch {
          // vanished: skip
        }
      }
      // symlinks, sockets, devices: dropped on purpose (the issue asks for regular files)
    }
    if (files.length > 0) groups.push(files);
  };
  for (const root of roots) walk(root);
  return groups;
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** Listings already walked by this process (tests and --micro select more than once). */
const sourceListings = new Map<string, readonly (readonly SourceFile[])[]>();

/**
 * Whole directories in seeded order, each taken when it still fits both budgets and does not
 * pull the byte and file budgets apart (more than a few percent) unless it brings them closer:
 * directories keep the tree realistic (a package's files together), and filling both budgets
 * evenly gives the intended mix of many small files and some big ones for every seed.
 */
export async function selectRealFiles(
  spec: Pick<CorpusSpec, 'realBytes' | 'realFiles' | 'maxFileBytes'>,
  seed: number,
  roots: readonly string[],
): Promise<SourceFile[]> {
  const key = `${roots.join('\0')}\0${spec.maxFileBytes}`;
  let listed = sourceListings.get(key);
  if (!listed) sourceListings.set(key, (listed = listSourceDirectories(roots, spec.maxFileBytes)));
  const groups = [...listed];
  new SeededRandom(seed, 'corpus-selection').shuffle(groups);
  const chosen: SourceFile[] = [];
  let bytes = 0;
  const imbalance = (b: number, f: number): number => Math.abs(b / spec.realBytes - f / spec.realFiles);
  for (const balanced of [true, false]) {
    for (const [i, group] of groups.entries()) {
      if (group.length === 0) continue;
      const groupBytes = group.reduce((n, f) => n + f.size, 0);
      const b = bytes + groupBytes;
      const f = chosen.length + group.length;
      if (b > spec.realBytes || f > spec.realFiles) continue;
      const after = imbalance(b, f);
      if (balanced && after > 0.03 && after >= imbalance(bytes, chosen.length)) continue;
      chosen.push(...group);
      bytes = b;
      groups[i] = [];
    }
  }
  return chosen.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function copyRealFiles(files: readonly SourceFile[], dataDir: string): Promise<void> {
  const made = new Set<string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const f = files[next++] as SourceFile;
      // '/usr/lib/x' → 'usr/lib/x': the corpus mirrors where the files came from.
      const target = join(dataDir, f.path.replace(/^\/+/, ''));
      const parent = dirname(target);
      if (!made.has(parent)) {
        await mkdir(parent, { recursive: true });
        made.add(parent);
      }
      await copyFile(f.path, target);
      // Owner-writable so the modification step works without root; no setuid bits in a corpus.
      await chmod(target, (f.mode & 0o777) | 0o600);
    }
  };
  await Promise.all(Array.from({ length: COPY_CONCURRENCY }, worker));
}

async function writeSyntheticFiles(spec: CorpusSpec, seed: number, dataDir: string): Promise<void> {
  const dir = join(dataDir, 'synthetic');
  await mkdir(dir, { recursive: true });
  for (let i = 1; i <= spec.mixedFiles; i++) {
    await writeMixedEntropyFile(
      join(dir, `mixed-${i}.bin`),
      spec.mixedFileBytes,
      new SeededRandom(seed, `mixed-${i}`),
    );
  }
  await writeVmImage(join(dir, 'vm-disk.img'), spec.vmImageBytes, new SeededRandom(seed, 'vm-image'));
}

function corpusDir(workDir: string, size: CorpusSize, seed: number): string {
  return join(workDir, 'corpus', `${size}-seed${seed}`);
}

/** Marks a corpus whose files are being changed; a crash leaves the mark and forces a rebuild. */
export function dirtyMarker(corpus: Corpus): string {
  return join(dirname(corpus.root), 'DIRTY');
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function loadCorpus(dir: string, size: CorpusSize, seed: number, roots: readonly string[]) {
  try {
    if (await exists(join(dir, 'DIRTY'))) return undefined;
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    if (m.format !== CORPUS_FORMAT || m.size !== size || m.seed !== seed) return undefined;
    if (m.sourceRoots.join('\0') !== roots.join('\0')) return undefined;
    return m;
  } catch {
    return undefined;
  }
}

function corpusFromManifest(dir: string, m: Manifest): Corpus {
  const digest: TreeDigest = new Map(m.files);
  let totalBytes = 0;
  for (const d of digest.values()) totalBytes += d.size;
  return {
    size: m.size,
    seed: m.seed,
    root: join(dir, 'data'),
    fileCount: digest.size,
    totalBytes,
    realFileCount: m.realFileCount,
    realBytes: m.realBytes,
    fingerprint: m.fingerprint,
    digest,
  };
}

export interface BuildCorpusOptions {
  readonly workDir: string;
  readonly size: CorpusSize;
  readonly seed: number;
  readonly sourceRoots?: readonly string[];
  readonly log?: (line: string) => void;
}

/** Builds the corpus, or reuses the one already in the work dir for the same size and seed. */
export async function buildCorpus(opts: BuildCorpusOptions): Promise<Corpus> {
  const roots = opts.sourceRoots ?? DEFAULT_SOURCE_ROOTS;
  const dir = corpusDir(opts.workDir, opts.size, opts.seed);
  const existing = await loadCorpus(dir, opts.size, opts.seed, roots);
  if (existing) {
    opts.log?.(`corpus: reusing ${dir}`);
    return corpusFromManifest(dir, existing);
  }
  opts.log?.(`corpus: building ${opts.size} (seed ${opts.seed}) in ${dir}`);
  await rm(dir, { recursive: true, force: true });
  const dataDir = join(dir, 'data');
  await mkdir(dataDir, { recursive: true });
  const spec = SPECS[opts.size];
  const real = await selectRealFiles(spec, opts.seed, roots);
  await copyRealFiles(real, dataDir);
  await writeSyntheticFiles(spec, opts.seed, dataDir);
  const { digest, others } = await digestTree(dataDir);
  if (others.length > 0)
    throw new Error(`corpus: unexpected non-regular entries: ${others.slice(0, 3).join(', ')}`);
  const manifest: Manifest = {
    format: CORPUS_FORMAT,
    size: opts.size,
    seed: opts.seed,
    sourceRoots: [...roots],
    realFileCount: real.length,
    realBytes: real.reduce((n, f) => n + f.size, 0),
    fingerprint: treeFingerprint(digest),
    files: [...digest],
  };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return corpusFromManifest(dir, manifest);
}
