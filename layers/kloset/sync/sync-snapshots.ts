import { adoptOrphanPacks } from '../backup/orphan-packs.js';
import { KlosetError } from '../core/errors.js';
import { BlobType } from '../format/blob.js';
import { RepositoryWriter } from '../repository/repository-writer.js';
import type { Repository } from '../repository/repository.js';
import { listingProblems, readSnapshots, resolveRef } from '../snapshot/snapshot-list.js';
import { type SnapshotBody, type SnapshotRecord, encodeSnapshot } from '../snapshot/snapshot-record.js';
import { type KnownSnapshots, knownSnapshots, snapshotIdentity } from './snapshot-identity.js';
import { type Reference, TreeCopier } from './tree-copier.js';

export interface SyncProgress {
  /** snapshots done (copied or skipped) out of `total` selected */
  readonly snapshots: number;
  readonly total: number;
  /** plaintext bytes of file content read from the source */
  readonly bytesRead: number;
  /** plaintext bytes of blobs added to the destination */
  readonly newBytes: number;
  /** source ID of the snapshot being copied */
  readonly snapshot?: string;
}

export interface SyncOptions {
  /** snapshots of the source (`latest`, IDs, unique prefixes); default: every visible one */
  snapshots?: string[];
  onProgress?: (p: SyncProgress) => void;
  /**
   * Asked before each snapshot but the first: true stops the sync there (a snapshot is copied
   * whole or not started); the result's `remaining` lists what a later sync continues with.
   */
  stopBefore?: () => boolean;
}

export interface SyncResult {
  /** each copied snapshot: its ID in the source and in the destination, oldest first */
  readonly copied: readonly { from: string; to: string }[];
  /** selected snapshots the destination holds already, or held and removed */
  readonly skipped: number;
  readonly bytesRead: number;
  readonly newBytes: number;
  /** bytes of the packs and index deltas written to the destination */
  readonly storedBytes: number;
  /** what the source could not list, one line each (damaged index deltas, unreadable records): not copied */
  readonly warnings: readonly string[];
  /** when `stopBefore` stopped it: the selected snapshots not reached (source IDs, oldest first) */
  readonly remaining?: readonly string[];
}

const PROGRESS_INTERVAL_MS = 100;

/** An open store as sync sees it (a `Store`): its repository. */
export interface OpenRepository {
  readonly repo: Repository;
}

/**
 * Copies snapshots from one store to another that may differ in passphrase, chunking,
 * compression or encryption. Each snapshot is committed on its own (its index delta is the
 * last write), so an interrupted sync leaves whole snapshots only; the next run adopts the packs
 * it had uploaded and copies the rest. Snapshots the destination has, or has removed, are
 * skipped (see snapshotIdentity), which makes a sync idempotent.
 */
export async function syncSnapshots(
  from: OpenRepository,
  to: OpenRepository,
  opts: SyncOptions = {},
): Promise<SyncResult> {
  const [source, dest] = [from.repo, to.repo];
  if (source.config.storeId === dest.config.storeId) {
    throw new KlosetError(
      'INVALID_ARGUMENT',
      `${source.backend.location} and ${dest.backend.location} are the same store (same store ID: one is a file copy of the other); ` +
        'sync needs two stores: create the second with "create --copy-chunking-from" and sync into it',
    );
  }
  await Promise.all([source.refreshIndex(), dest.refreshIndex()]);
  const listing = await readSnapshots(source);
  const available = listing.snapshots;
  const chosen = opts.snapshots?.length
    ? new Set(opts.snapshots.map((ref) => resolveRef(source, listing, ref)))
    : undefined;
  const selected = chosen ? available.filter((s) => chosen.has(s)) : available;
  const result = await new SnapshotSync(source, dest, available, await knownSnapshots(dest), opts).run(
    // oldest first: a parent is copied before the snapshots that refer to it
    [...selected].reverse(),
  );
  return { ...result, warnings: listingProblems(source, listing) };
}

/** One run of a sync: the selection, what the destination knows, and the counts. */
class SnapshotSync {
  private readonly bySourceId: Map<string, SnapshotRecord>;
  private readonly copied: { from: string; to: string }[] = [];
  private skipped = 0;
  private total = 0;
  private bytesRead = 0;
  private newBytes = 0;
  private storedBytes = 0;
  private adopted = false;
  /** the snapshot being copied, and the writer its blobs go through */
  private current?: { id: string; writer: RepositoryWriter };
  private lastProgress = 0;

  constructor(
    private readonly source: Repository,
    private readonly dest: Repository,
    /** the source's visible snapshots, newest first */
    private readonly available: readonly SnapshotRecord[],
    private readonly known: KnownSnapshots,
    private readonly opts: SyncOptions,
  ) {
    this.bySourceId = new Map(available.map((s) => [s.id, s]));
  }

  async run(snapshots: readonly SnapshotRecord[]): Promise<Omit<SyncResult, 'warnings'>> {
    this.total = snapshots.length;
    for (const [i, snapshot] of snapshots.entries()) {
      if (i > 0 && this.opts.stopBefore?.())
        return { ...this.counts(), remaining: snapshots.slice(i).map((s) => s.id) };
      const identity = this.identity(snapshot);
      if (this.known.visible.has(identity) || this.known.removed.has(identity)) this.skipped++;
      else await this.copy(snapshot, identity);
      this.progress(true);
    }
    return this.counts();
  }

  private counts(): Omit<SyncResult, 'warnings' | 'remaining'> {
    const { copied, skipped, bytesRead, newBytes, storedBytes } = this;
    return { copied, skipped, bytesRead, newBytes, storedBytes };
  }

  private identity(snapshot: SnapshotRecord): string {
    return snapshotIdentity(this.source.config.storeId, snapshot);
  }

  private parentOf(snapshot: SnapshotRecord): SnapshotRecord | undefined {
    return snapshot.parent === undefined ? undefined : this.bySourceId.get(snapshot.parent);
  }

  /** The destination's copy of a source snapshot, when it has one. */
  private copyOf(snapshot: SnapshotRecord | undefined): SnapshotRecord | undefined {
    return snapshot && this.known.visible.get(this.identity(snapshot));
  }

  /**
   * A snapshot already in both stores to translate unchanged directories and files from: the
   * parent, else the newest of the same sources and host.
   */
  private referenceFor(snapshot: SnapshotRecord): Reference | undefined {
    const sameOrigin = (s: SnapshotRecord) =>
      s.hostname === snapshot.hostname && s.sources.join('\n') === snapshot.sources.join('\n');
    for (const candidate of [this.parentOf(snapshot), ...this.available.filter(sameOrigin)]) {
      const copy = this.copyOf(candidate);
      if (candidate && copy) return { sourceTree: candidate.root, destTree: copy.root };
    }
    return undefined;
  }

  private async copy(snapshot: SnapshotRecord, identity: string): Promise<void> {
    const writer = new RepositoryWriter(this.dest);
    this.current = { id: snapshot.id, writer };
    // packs an interrupted sync (or backup) uploaded without committing: reused, not sent again
    if (!this.adopted) await adoptOrphanPacks(writer);
    this.adopted = true;
    const copier = new TreeCopier(this.source, writer, (bytes) => {
      this.bytesRead += bytes;
      this.progress();
    });
    const root = await copier.copy(snapshot.root, this.referenceFor(snapshot));
    const parent = this.copyOf(this.parentOf(snapshot));
    const body: SnapshotBody = {
      v: snapshot.v,
      time: snapshot.time,
      hostname: snapshot.hostname,
      username: snapshot.username,
      tags: snapshot.tags,
      sources: snapshot.sources,
      root,
      ...(parent && { parent: parent.id }),
      origin: identity,
      summary: snapshot.summary,
      errors: snapshot.errors,
    };
    const id = (await writer.saveBlob(BlobType.Snapshot, encodeSnapshot(body))).id.toString('hex');
    await writer.commit({ snapshots: [id] });
    await this.dest.refreshIndex();
    this.current = undefined;
    this.known.visible.set(identity, { id, ...body });
    this.copied.push({ from: snapshot.id, to: id });
    this.newBytes += writer.stats.newRawBytes;
    this.storedBytes += writer.stats.storedBytes;
  }

  private progress(force = false): void {
    if (!this.opts.onProgress) return;
    const now = Date.now();
    if (!force && now - this.lastProgress < PROGRESS_INTERVAL_MS) return;
    this.lastProgress = now;
    this.opts.onProgress({
      snapshots: this.copied.length + this.skipped,
      total: this.total,
      bytesRead: this.bytesRead,
      newBytes: this.newBytes + (this.current?.writer.stats.newRawBytes ?? 0),
      ...(this.current && { snapshot: this.current.id }),
    });
  }
}
