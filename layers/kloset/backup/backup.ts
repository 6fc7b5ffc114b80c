import { hostname as osHostname } from 'node:os';
import type { BackupSource } from '../core/backup-source.js';
import { FsSource } from '../connectors/fs/fs-source.js';
import { BlobType } from '../format/blob.js';
import { who } from '../repository/key-slots.js';
import { RepositoryWriter } from '../repository/repository-writer.js';
import type { Repository } from '../repository/repository.js';
import { loadSnapshots } from '../snapshot/snapshot-list.js';
import {
  type BackupCounts,
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
import { checkSources, normalizeSources } from './source-set.js';
import { type WorkBatch, parseWorkBatch } from './work-batch.js';
import { KlosetError } from '../core/errors.js';

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
  /**
   * the snapshot's time (epoch ms; default: now). A distributed commit fixes it before it
   * commits: with the same partial trees and meta the record is the same, its ID too, so a
   * retried commit writes no second snapshot
   */
  time?: number;
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
 * Assembles partial trees (on the base tree, if any) into a snapshot record and saves it through
 * the writer; the writer's commit makes it visible.
 */
async function assembleSnapshot(
  writer: RepositoryWriter,
  partials: readonly PartialTree[],
  meta: SnapshotMeta,
  base?: string,
) {
  const { root, joinedFiles, leftOutBytes, errors } = await assembleTree(writer, partials, base);
  const counts = emptyCounts();
  for (const p of partials)
    for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] += p.counts[k];
  counts.files += joinedFiles;
  counts.filesRead += joinedFiles;
  counts.bytes -= leftOutBytes;
  const time = meta.time ?? Date.now();
  const summary: SnapshotSummary = { ...counts, durationMs: time - meta.startedAt };
  const body: SnapshotBody = {
    v: 1,
    time: new Date(time).toISOString(),
    hostname: meta.hostname ?? osHostname(),
    username: who().username,
    tags: [...new Set(meta.tags ?? [])].sort(),
    sources: meta.sources,
    root,
    ...(meta.parent && { parent: meta.parent.id }),
    summary,
    errors: [...partials.flatMap((p) => p.errors), ...errors],
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
  /** the batch's share of the snapshot's counts (its new and stored bytes among them) */
  readonly counts: BackupCounts;
  readonly errors: readonly SnapshotError[];
  readonly warnings: readonly SnapshotError[];
  /**
   * what the deadline left of the batch, for the next call (absent: the batch is done); the
   * commit takes the partial trees of all of a batch's calls
   */
  readonly remaining?: WorkBatch;
}

/**
 * One worker's share of a distributed backup: backs up a batch of a plan (planBackup), writes
 * its packs and its own index delta, and returns the partial tree's ID. A batch read from JSON
 * is validated (INVALID_ARGUMENT when it is not one). Past `deadline` (epoch milliseconds), after
 * at least one item or one chunk, it stops and answers what it did and what is left: the items it
 * did not start and the rest of files it cut at a chunk boundary.
 */
export async function backupBatch(
  repo: Repository,
  batch: WorkBatch,
  opts: {
    source?: BackupSource;
    onProgress?: (p: BackupProgress) => void;
    onWarning?: (w: SnapshotError) => void;
    deadline?: number;
  } = {},
): Promise<BatchResult> {
  const planned = parseWorkBatch(batch);
  const writer = new RepositoryWriter(repo);
  const run = new BatchRun(writer, {
    ...opts,
    source: opts.source ?? new FsSource(),
    parentRoot: planned.parentRoot,
  });
  const { partial, remaining } = await run.runBatch(planned);
  const partialTree = await savePartialTree(writer, partial);
  await writer.commit();
  return {
    partialTree,
    counts: partial.counts,
    errors: partial.errors,
    warnings: run.warnings,
    ...(remaining && { remaining }),
  };
}

/**
 * The commit step of a distributed backup: one snapshot from the batches' partial trees and the
 * unchanged part of `meta.parent` (the plan's parent: every partial tree must have been planned
 * against it). The snapshot record is written last: a run that fails before leaves no snapshot,
 * and its packs are adopted by the next plan. A repeat of a commit that went through (the same
 * trees and meta, `meta.time` given) finds its record, trees and index delta there already and
 * writes nothing.
 */
export async function commitSnapshot(
  repo: Repository,
  partialTrees: readonly string[],
  meta: SnapshotMeta,
): Promise<SnapshotRecord> {
  await repo.refreshIndex();
  const partials = await Promise.all(partialTrees.map((id) => loadPartialTree(repo, id)));
  const base = meta.parent?.root;
  if (partials.some((p) => p.base !== base))
    throw new KlosetError(
      'INVALID_ARGUMENT',
      base
        ? `the batches were not planned against the parent ${meta.parent!.id.slice(0, 8)}`
        : 'the batches were planned against a parent: give it as the parent',
    );
  const writer = new RepositoryWriter(repo);
  const record = await assembleSnapshot(writer, partials, meta, base);
  const named = repo.index.snapshots.includes(record.id);
  await writer.commit({ snapshots: named ? [] : [record.id] });
  return record;
}
