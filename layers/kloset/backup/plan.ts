import { hostname as osHostname } from 'node:os';
import { z } from 'zod';
import type { BackupSource, SourceEntry } from '../core/backup-source.js';
import { isByteName } from '../core/byte-names.js';
import { KlosetError, errorText } from '../core/errors.js';
import type { TreeEntry } from '../core/tree-node.js';
import { compareWalkKeys } from '../core/walk-order.js';
import { RepositoryWriter } from '../repository/repository-writer.js';
import type { Repository } from '../repository/repository.js';
import { removeStaleTemporaryFiles } from '../repository/temporary-files.js';
import { loadSnapshots } from '../snapshot/snapshot-list.js';
import type { SnapshotRecord } from '../snapshot/snapshot-record.js';
import { findParent } from './backup.js';
import { excludeMatcher } from './exclude.js';
import { adoptOrphanPacks } from './orphan-packs.js';
import { type WalkRoot, type WalkStep, walkParent, walkSource } from './plan-walk.js';
import { ancestors, checkSources, normalizeSources } from './source-set.js';
import { keepsContent, sameMetadata } from './unchanged.js';
import {
  type BatchItem,
  type WorkBatch,
  batchBytes,
  bytesToRead,
  emptyBatch,
  toPlannedEntry,
  workBatchSchema,
} from './work-batch.js';

export interface PlanOptions {
  /** content bytes a batch reads at most; a larger file becomes ranges of this size */
  maxBatchBytes: number;
  /** items a batch holds at most */
  maxBatchEntries: number;
  /** parent snapshot ID; default: the latest one with the same sources and hostname; null: none */
  parent?: string | null;
  hostname?: string;
  /** glob patterns; see excludeMatcher */
  excludes?: string[];
  /** where an earlier invocation of this plan stopped */
  cursor?: PlanCursor;
  /** epoch milliseconds: past it, the plan stops (after at least `minEntries`) with a cursor */
  deadline?: number;
  /** entries compared before the deadline may stop the plan (default: 1): progress whatever it costs to resume */
  minEntries?: number;
}

/**
 * Where a plan stopped: the walk key of the last entry it compared, and the batch it was filling
 * (at most one batch of items), so a resumed plan yields exactly the batches one run would.
 */
const planCursorSchema = z.object({
  sources: z.array(z.string()),
  /** the parent snapshot the plan compares with, for the whole plan */
  parent: z.string().nullable(),
  after: z.string().refine(isByteName),
  /** the parent's directory found gone last: a resumed walk of the parent skips what is below it */
  goneDir: z.string().optional(),
  pending: workBatchSchema,
});
export type PlanCursor = z.infer<typeof planCursorSchema>;

export type PlanStep = { readonly batch: WorkBatch } | { readonly stopped: PlanCursor };

export interface BackupPlan {
  /** absolute source paths, as the snapshot will record them */
  readonly sources: string[];
  /** the snapshot the plan compares with: the commit's parent */
  readonly parent?: SnapshotRecord;
  /** the batches in walk order; the last step is `stopped` when the deadline passed first */
  steps(): AsyncGenerator<PlanStep>;
}

/** A plan's cursor from JSON: INVALID_ARGUMENT when it is not one. */
export function parsePlanCursor(input: unknown): PlanCursor {
  const parsed = planCursorSchema.safeParse(input);
  if (!parsed.success)
    throw new KlosetError('INVALID_ARGUMENT', `not a backup plan cursor: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/**
 * Plans a distributed backup: walks the source and the parent snapshot side by side in walk
 * order and yields batches of what changed (files, ranges of large files, directories' and
 * links' own entries, entries gone since the parent). What did not change is in no batch: the
 * commit takes it from the parent. A fresh plan (no cursor) first adopts packs left by failed
 * runs, so the workers deduplicate against them.
 */
export async function planBackup(
  repo: Repository,
  source: BackupSource,
  paths: readonly string[],
  opts: PlanOptions,
): Promise<BackupPlan> {
  if (!(opts.maxBatchBytes >= 1 && opts.maxBatchEntries >= 1))
    throw new KlosetError('INVALID_ARGUMENT', 'a batch must hold at least one byte and one entry');
  const sources = normalizeSources(paths);
  const { cursor } = opts;
  let parent: SnapshotRecord | undefined;
  if (cursor) {
    if (cursor.sources.join('\n') !== sources.join('\n'))
      throw new KlosetError('INVALID_ARGUMENT', 'the cursor belongs to a plan of other sources');
    parent = cursor.parent === null ? undefined : await loadParent(repo, cursor.parent);
  } else {
    await checkSources(sources, source);
    parent = await findParent(repo, sources, opts.hostname ?? osHostname(), opts.parent);
    const writer = new RepositoryWriter(repo);
    await adoptOrphanPacks(writer);
    await writer.commit();
    await removeStaleTemporaryFiles(repo.backend).catch(() => undefined);
  }
  return { sources, parent, steps: () => new PlanRun(repo, source, sources, parent, opts).steps() };
}

async function loadParent(repo: Repository, id: string): Promise<SnapshotRecord> {
  const found = (await loadSnapshots(repo)).find((s) => s.id === id);
  if (!found)
    throw new KlosetError('SNAPSHOT_NOT_FOUND', `the plan's parent snapshot ${id.slice(0, 8)} is gone`);
  return found;
}

/** One invocation of a plan: the merge of the two walks into batches. */
class PlanRun {
  private batch: WorkBatch;
  private bytes: number;
  /** the directories above the sources (`/` has no entry of its own) */
  private readonly above: Set<string>;
  /** the parent's directory found gone, whose subtree its walk skips */
  private goneDir: string | undefined;

  constructor(
    private readonly repo: Repository,
    private readonly source: BackupSource,
    private readonly sources: string[],
    private readonly parent: SnapshotRecord | undefined,
    private readonly opts: PlanOptions,
  ) {
    this.batch = opts.cursor?.pending ?? emptyBatch(parent?.root);
    this.goneDir = opts.cursor?.goneDir;
    this.above = new Set(sources.flatMap(ancestors).filter((p) => p !== '/'));
    this.bytes = batchBytes(this.batch);
  }

  async *steps(): AsyncGenerator<PlanStep> {
    const resumed = this.opts.cursor?.after;
    const src = walkSource(this.source, await this.roots(), {
      after: resumed,
      excluded: excludeMatcher(this.opts.excludes ?? []),
    });
    const par = this.parent
      ? walkParent(this.repo, this.parent.root, resumed, (path) => path !== this.goneDir)
      : undefined;
    const minEntries = this.opts.minEntries ?? 1;
    let entries = 0;
    try {
      let s = await src.next();
      let p = par ? await par.next() : undefined;
      while (!s.done || (p && !p.done)) {
        entries++;
        const inParent = p && !p.done ? p.value : undefined;
        let after: string;
        const cmp = s.done ? 1 : !inParent ? -1 : compareWalkKeys(s.value.key, inParent.key);
        if (cmp > 0) {
          yield* this.gone(inParent!);
          after = inParent!.key;
          p = await par!.next();
        } else {
          const prev = cmp === 0 ? inParent : undefined;
          if (prev && s.value.error !== undefined) yield* this.gone(prev);
          yield* this.compare(s.value, prev?.entry);
          after = s.value.key;
          s = await src.next();
          if (prev) p = await par!.next();
        }
        const more = !s.done || (p && !p.done);
        if (
          more &&
          entries >= minEntries &&
          this.opts.deadline !== undefined &&
          Date.now() >= this.opts.deadline
        ) {
          yield {
            stopped: {
              sources: this.sources,
              parent: this.parent?.id ?? null,
              after,
              ...(this.goneDir !== undefined && { goneDir: this.goneDir }),
              pending: this.batch,
            },
          };
          return;
        }
      }
      if (this.batch.items.length > 0 || Object.values(this.batch.counted).some((n) => n > 0))
        yield { batch: this.batch };
    } finally {
      await src.return(undefined);
      await par?.return(undefined);
    }
  }

  /** The directories above the sources (`/` has no entry of its own) and the sources. */
  private async roots(): Promise<WalkRoot[]> {
    const above = [...this.above];
    const stat = async (path: string, whole: boolean): Promise<WalkRoot> => {
      try {
        return { path, whole, entry: await this.source.stat(path) };
      } catch (err) {
        return { path, whole, error: errorText(err) };
      }
    };
    return Promise.all([...above.map((p) => stat(p, false)), ...this.sources.map((p) => stat(p, true))]);
  }

  private *gone(step: WalkStep<TreeEntry>): Generator<PlanStep> {
    if (step.entry?.type === 'dir') this.goneDir = step.path;
    yield* this.add({ kind: 'gone', path: step.path });
  }

  /** The items for a source entry, given its parent's entry of the same walk key. */
  private *compare(step: WalkStep<SourceEntry>, prev: TreeEntry | undefined): Generator<PlanStep> {
    const { path, entry: st } = step;
    if (step.error !== undefined || !st)
      return yield* this.add({ kind: 'error', path, message: step.error ?? 'unreadable' });
    const same = prev !== undefined && prev.type === st.type && sameMetadata(st, prev);
    const counts = this.batch.counted;
    const planned = () => this.add({ kind: 'entry', path, entry: toPlannedEntry(st) });
    switch (st.type) {
      case 'dir':
        if (!this.above.has(path)) counts.dirs++;
        // `/` has no entry of its own to back up: a snapshot records only its tree
        if (!same && path !== '/') yield* planned();
        return;
      case 'symlink':
        if (same && prev.type === 'symlink' && prev.target === st.target) counts.symlinks++;
        else yield* planned();
        return;
      default:
        if (!keepsContent(st, prev, (id) => this.repo.index.has(id))) return yield* this.addFile(path, st);
        if (!same) return yield* this.add({ kind: 'entry', path, entry: toPlannedEntry(st), keep: true });
        counts.files++;
        counts.bytes += st.size;
    }
  }

  /** A file to read: whole, or in ranges of at most a batch's bytes. */
  private *addFile(path: string, st: SourceEntry): Generator<PlanStep> {
    const entry = toPlannedEntry(st);
    const max = this.opts.maxBatchBytes;
    if (st.size <= max) return yield* this.add({ kind: 'entry', path, entry });
    for (let offset = 0; offset < st.size; offset += max) {
      const length = Math.min(max, st.size - offset);
      yield* this.add({ kind: 'range', path, entry, offset, length });
    }
  }

  /** Adds an item: the batch is handed on first if the item's bytes would overflow it, and once full. */
  private *add(item: BatchItem): Generator<PlanStep> {
    const bytes = bytesToRead(item);
    if (this.batch.items.length > 0 && this.bytes + bytes > this.opts.maxBatchBytes) yield* this.flush();
    this.batch.items.push(item);
    this.bytes += bytes;
    if (this.batch.items.length >= this.opts.maxBatchEntries || this.bytes >= this.opts.maxBatchBytes)
      yield* this.flush();
  }

  private *flush(): Generator<PlanStep> {
    const batch = this.batch;
    this.batch = emptyBatch(this.parent?.root);
    this.bytes = 0;
    yield { batch };
  }
}
