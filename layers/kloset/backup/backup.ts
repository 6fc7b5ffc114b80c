import { hostname as osHostname } from 'node:os';
import type { BackupSource } from '../core/backup-source.js';
import { FsSource } from '../connectors/fs/fs-source.js';
import { KlosetError, errnoCode } from '../core/errors.js';
import { BlobType } from '../format/blob.js';
import { who } from '../repository/key-slots.js';
import { RepositoryWriter } from '../repository/repository-writer.js';
import type { Repository } from '../repository/repository.js';
import { loadSnapshots } from '../snapshot/snapshot-list.js';
import {
  type SnapshotBody,
  type SnapshotError,
  type SnapshotRecord,
  type SnapshotSummary,
  encodeSnapshot,
} from '../snapshot/snapshot-record.js';
import { assembleTree } from './assemble.js';
import { type BackupProgress, BatchRun } from './batch-run.js';
import { adoptOrphanPacks } from './orphan-packs.js';
import { removeStaleTemporaryFiles } from '../repository/temporary-files.js';
import { type PartialTree, emptyCounts, loadPartialTree, savePartialTree } from './partial-tree.js';
import { normalizeSources } from './source-set.js';

export type { BackupProgress };

export interface BackupOptions {
  tags?: string[];
  hostname?: string;
  /** glob patterns; see excludeMatcher */
  excludes?: string[];
  dryRun?: boolean;
  /** parent snapshot ID; default: the latest one with the same sources and hostname; null: none */
  parent?: string | null;
  onProgress?: (p: BackupProgress) => void;
  onWarning?: (w: SnapshotError) => void;
  /** where the content comes from; the local file system by default */
  source?: BackupSource;
}

export interface BackupResult {
  /** undefined on a dry run */
  readonly snapshot?: SnapshotRecord;
  readonly summary: SnapshotSummary;
  readonly errors: readonly SnapshotError[];
  readonly warnings: readonly SnapshotError[];
}

export interface SnapshotMeta {
  /** absolute source paths, as the snapshot records them */
  sources: string[];
  tags?: string[];
  hostname?: string;
  parent?: SnapshotRecord;
  /** when the backup started, for the duration */
  startedAt: number;
}

async function checkSources(sources: readonly string[], source: BackupSource): Promise<void> {
  if (sources.length === 0)
    throw new KlosetError('INVALID_ARGUMENT', 'nothing to back up: give at least one path');
  for (const s of sources) {
    try {
      await source.stat(s);
    } catch (err) {
      // a connector's own failure (credentials, an unreachable host) keeps its code and advice
      if (err instanceof KlosetError && err.code !== 'PATH_NOT_FOUND') throw err;
      const why =
        errnoCode(err) === 'ENOENT'
          ? 'no such file or directory'
          : err instanceof Error
            ? err.message
            : String(err);
      throw new KlosetError('INVALID_ARGUMENT', `cannot back up ${s}: ${why}`);
    }
  }
}

/** The parent for incremental backups: the latest snapshot of the same sources from this host. */
export async function findParent(
  repo: Repository,
  sources: readonly string[],
  hostname: string,
  id?: string | null,
) {
  if (id === null) return undefined;
  const all = await loadSnapshots(repo);
  if (id) return all.find((s) => s.id === id);
  return all.find((s) => s.hostname === hostname && s.sources.join('\n') === sources.join('\n'));
}

/**
 * Assembles partial trees into a snapshot record and saves it through the writer; the writer's
 * commit makes it visible.
 */
async function assembleSnapshot(
  writer: RepositoryWriter,
  partials: readonly PartialTree[],
  meta: SnapshotMeta,
) {
  const root = await assembleTree(writer, partials);
  const counts = emptyCounts();
  for (const p of partials)
    for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] += p.counts[k];
  const summary: SnapshotSummary = { ...counts, durationMs: Date.now() - meta.startedAt };
  const body: SnapshotBody = {
    v: 1,
    time: new Date().toISOString(),
    hostname: meta.hostname ?? osHostname(),
    username: who().username,
    tags: [...new Set(meta.tags ?? [])].sort(),
    sources: meta.sources,
    root,
    ...(meta.parent && { parent: meta.parent.id }),
    summary,
    errors: partials.flatMap((p) => p.errors),
  };
  const { id } = await writer.saveBlob(BlobType.Snapshot, encodeSnapshot(body));
  return { id: id.toString('hex'), ...body };
}

/** A backup in one process: one batch of all sources, then the commit, through one writer. */
export async function backup(
  repo: Repository,
  paths: readonly string[],
  opts: BackupOptions = {},
): Promise<BackupResult> {
  const startedAt = Date.now();
  const sources = normalizeSources(paths);
  const source = opts.source ?? new FsSource();
  await checkSources(sources, source);
  const hostname = opts.hostname ?? osHostname();
  const parent = await findParent(repo, sources, hostname, opts.parent);
  const writer = new RepositoryWriter(repo, { dryRun: opts.dryRun });
  if (!opts.dryRun) {
    await adoptOrphanPacks(writer);
    // tidying up after killed backups must not stop this one: what stays is retried next time
    await removeStaleTemporaryFiles(repo.backend).catch(() => undefined);
  }
  const run = new BatchRun(writer, { ...opts, source, parentRoot: parent?.root });
  const partial = await run.run(sources);
  const record = await assembleSnapshot(writer, [partial], {
    sources,
    tags: opts.tags,
    hostname,
    parent,
    startedAt,
  });
  await writer.commit({ snapshots: [record.id] });
  return {
    snapshot: opts.dryRun ? undefined : record,
    summary: record.summary,
    errors: record.errors,
    warnings: run.warnings,
  };
}

export interface BatchResult {
  /** ID of the saved partial tree: what the commit step needs */
  readonly partialTree: string;
  readonly errors: readonly SnapshotError[];
  readonly warnings: readonly SnapshotError[];
}

/**
 * One worker's share of a distributed backup: backs up `paths` (files or whole directories of
 * the source), writes its packs and its own index delta, and returns the partial tree's ID.
 */
export async function backupBatch(
  repo: Repository,
  paths: readonly string[],
  opts: {
    source?: BackupSource;
    excludes?: string[];
    parentRoot?: string;
    onProgress?: (p: BackupProgress) => void;
  } = {},
): Promise<BatchResult> {
  const writer = new RepositoryWriter(repo);
  const run = new BatchRun(writer, { ...opts, source: opts.source ?? new FsSource() });
  const partial = await run.run(paths);
  const partialTree = await savePartialTree(writer, partial);
  await writer.commit();
  return { partialTree, errors: partial.errors, warnings: run.warnings };
}

/** The commit step of a distributed backup: one snapshot from the batches' partial trees. */
export async function commitSnapshot(
  repo: Repository,
  partialTrees: readonly string[],
  meta: SnapshotMeta,
): Promise<SnapshotRecord> {
  await repo.refreshIndex();
  const partials = await Promise.all(partialTrees.map((id) => loadPartialTree(repo, id)));
  const writer = new RepositoryWriter(repo);
  const record = await assembleSnapshot(writer, partials, meta);
  await writer.commit({ snapshots: [record.id] });
  return record;
}
