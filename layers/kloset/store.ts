import { type BackupOptions, type BackupResult, backup } from './backup/backup.js';
import {
  type CheckOptions,
  type CheckReport,
  type DataCheckOptions,
  type DataCheckStep,
  check,
  checkData,
} from './check/check.js';
import { type Change, diffEntries } from './diff/diff.js';
import { findInSnapshots } from './find/find.js';
import { type ForgetGroup, type ForgetOptions, forgetSnapshots } from './forget/forget.js';
import {
  type PruneOptions,
  type PruneReport,
  type PruneStep,
  type PruneStepOptions,
  prune,
  pruneStep,
} from './prune/prune.js';
import { type RemoveSelection, removeSnapshots } from './rm/remove-snapshots.js';
import { type RepairOptions, type RepairReport, repair } from './repair/repair.js';
import { KlosetError, errorText } from './core/errors.js';
import { BlobType, PackKind } from './format/blob.js';
import { type KeySlotInfo, listKeySlots } from './repository/key-slots.js';
import type { Repository } from './repository/repository.js';
import type { StoreConfig } from './repository/store-config.js';
import { type RestoreOptions, type RestoreResult, restore } from './restore/restore.js';
import {
  type Retrieval,
  type RetrievalOptions,
  type RetrievalStatus,
  startRetrieval,
} from './restore/retrieval.js';
import { type WaitOptions, waitForRetrieval } from './restore/retrieval-wait.js';
import { fileContent } from './snapshot/file-content.js';
import { listingProblems, readSnapshots, resolveRef } from './snapshot/snapshot-list.js';
import type { SnapshotRecord } from './snapshot/snapshot-record.js';
import { type TreeEntry, compareNames } from './core/tree-node.js';
import { TreeReader, joinSnapshotPath } from './snapshot/tree-reader.js';

/** An entry of a snapshot as callers see it. */
export interface EntryInfo {
  readonly path: string;
  readonly name: string;
  readonly type: 'file' | 'dir' | 'symlink';
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly user?: string;
  readonly group?: string;
  /** ISO 8601, millisecond precision */
  readonly mtime: string;
  readonly size: number;
  readonly target?: string;
}

export interface StoreInfo {
  readonly location: string;
  readonly storeId: string;
  readonly createdAt: string;
  readonly formatVersion: number;
  readonly encryption: 'aes-256-gcm' | 'none';
  readonly kdf?: { algorithm: string; N: number; r: number; p: number };
  readonly mac: string;
  readonly compression: { algorithm: string; level: number };
  readonly chunking: { algorithm: string; min: number; avg: number; max: number };
  readonly packSize: number;
  readonly keySlots: number;
  readonly snapshots: number;
  readonly packs: { data: number; metadata: number };
  readonly blobs: { data: number; tree: number; snapshot: number };
  /** sum of the file sizes of every snapshot */
  readonly logicalBytes: number;
  /** plaintext bytes of the distinct data blobs */
  readonly uniqueBytes: number;
  /** bytes of every object in the store */
  readonly storedBytes: number;
  /** logical / unique */
  readonly dedupRatio: number;
  /** plaintext of all blobs / their packs */
  readonly compressionRatio: number;
  /** what could not be counted, one line each (damaged index deltas, unreadable records) */
  readonly unreadable: string[];
}

/** `Store.listSnapshots`: what could be read, and what could not (one line each, for people). */
export interface SnapshotList {
  readonly snapshots: SnapshotRecord[];
  readonly unreadable: string[];
}

function entryInfo(path: string, e: TreeEntry): EntryInfo {
  return {
    path,
    name: e.name,
    type: e.type,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    ...(e.user !== undefined && { user: e.user }),
    ...(e.group !== undefined && { group: e.group }),
    mtime: new Date(Number(BigInt(e.mtime) / 1_000_000n)).toISOString(),
    size: e.type === 'file' ? e.size : 0,
    ...(e.type === 'symlink' && { target: e.target }),
  };
}

/** `Store.ls`'s page of a directory: the entries after the name `after`, at most `limit`. */
export interface LsPage {
  readonly after?: string;
  readonly limit: number;
}

/** The index of the first entry whose name sorts after `name` (entries are sorted by name bytes). */
function firstAfter(entries: readonly TreeEntry[], name: string): number {
  let [lo, hi] = [0, entries.length];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareNames(entries[mid]!.name, name) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function ratio(a: number, b: number): number {
  return b === 0 ? 1 : Math.round((a / b) * 100) / 100;
}

/** An open store: the operations callers of the engine (the CLI, the benchmarks) call. */
export class Store {
  private trees: TreeReader;

  constructor(readonly repo: Repository) {
    this.trees = new TreeReader(repo);
  }

  get location(): string {
    return this.repo.backend.location;
  }

  get config(): StoreConfig {
    return this.repo.config;
  }

  /**
   * Once the snapshot is committed the backup has succeeded: a failure of what follows (refreshing
   * this store's view of the index) is one more warning, not the backup's failure.
   */
  async backup(sources: string[], opts?: BackupOptions): Promise<BackupResult> {
    await this.repo.refreshIndex();
    const result = await backup(this.repo, sources, opts);
    try {
      await this.repo.refreshIndex();
    } catch (err) {
      const warning = {
        path: this.location,
        message: `the snapshot is saved, but reading the index afterwards failed: ${errorText(err)}`,
      };
      opts?.onWarning?.(warning);
      return { ...result, warnings: [...result.warnings, warning] };
    }
    return result;
  }

  /**
   * Lists the visible snapshots whose records read; picks up what other writers committed since
   * the last call. A damaged record or index delta hides nothing else (`listSnapshots` names it).
   */
  async snapshots(opts: { tag?: string } = {}): Promise<SnapshotRecord[]> {
    return (await this.listSnapshots(opts)).snapshots;
  }

  /** The readable snapshots, newest first, and one line for each thing that could not be read. */
  async listSnapshots(opts: { tag?: string } = {}): Promise<SnapshotList> {
    await this.repo.refreshIndex();
    const listing = await readSnapshots(this.repo);
    const { snapshots } = listing;
    return {
      snapshots: opts.tag ? snapshots.filter((s) => s.tags.includes(opts.tag!)) : snapshots,
      unreadable: listingProblems(this.repo, listing),
    };
  }

  async resolveSnapshot(ref: string): Promise<SnapshotRecord> {
    await this.repo.refreshIndex();
    return resolveRef(this.repo, await readSnapshots(this.repo), ref);
  }

  /**
   * The entries of a directory, or the one entry of a file or symlink. `page` gives only the
   * directory's entries whose names sort after `after` (bytewise, the tree's order), at most
   * `limit`: a caller paging through a directory of 100,000 entries gets only its page described.
   */
  async ls(ref: string, path = '/', page?: LsPage): Promise<EntryInfo[]> {
    const snap = await this.resolveSnapshot(ref);
    const { path: at, entry } = await this.trees.resolve(snap.root, path);
    if (entry.type !== 'dir') return [entryInfo(at, entry)];
    let entries = await this.trees.entries(entry.subtree);
    if (page) {
      const start = page.after === undefined ? 0 : firstAfter(entries, page.after);
      entries = entries.slice(start, start + page.limit);
    }
    return entries.map((e) => entryInfo(joinSnapshotPath(at, e.name), e));
  }

  async *cat(ref: string, path: string): AsyncGenerator<Buffer> {
    const snap = await this.resolveSnapshot(ref);
    const { path: at, entry } = await this.trees.resolve(snap.root, path);
    if (entry.type !== 'file')
      throw new KlosetError('INVALID_ARGUMENT', `${at} is a ${entry.type}, not a file`);
    yield* fileContent(this.repo, entry);
  }

  /**
   * Paths added, removed or changed from `a` to `b` (snapshot + path each); equal subtrees are
   * skipped by their IDs.
   */
  async *diff(a: { ref: string; path?: string }, b: { ref: string; path?: string }): AsyncGenerator<Change> {
    const [sa, sb] = await Promise.all([this.resolveSnapshot(a.ref), this.resolveSnapshot(b.ref)]);
    const [ea, eb] = await Promise.all([
      this.trees.resolve(sa.root, a.path ?? '/'),
      this.trees.resolve(sb.root, b.path ?? '/'),
    ]);
    yield* diffEntries(this.repo, ea.entry, eb.entry);
  }

  /**
   * Which snapshots hold paths matching a glob (all snapshots, those with `tag`, or the one
   * `snapshot` names, a ref as resolveSnapshot takes). What could not be searched (damaged index
   * deltas, unreadable records) goes to `onUnreadable` first, one line each, so that an incomplete
   * answer says so.
   */
  async *find(
    pattern: string,
    opts: { tag?: string; snapshot?: string; onUnreadable?: (what: string) => void } = {},
  ): AsyncGenerator<{ snapshot: SnapshotRecord; entry: EntryInfo }> {
    const { snapshots, unreadable } =
      opts.snapshot === undefined
        ? await this.listSnapshots(opts)
        : { snapshots: [await this.resolveSnapshot(opts.snapshot)], unreadable: [] };
    for (const what of unreadable) opts.onUnreadable?.(what);
    for await (const f of findInSnapshots(this.repo, snapshots, pattern)) {
      yield { snapshot: f.snapshot, entry: entryInfo(f.path, f.entry) };
    }
  }

  /** Tombstones the selected snapshots (instant; space is reclaimed by garbage collection). */
  async rm(selection: RemoveSelection): Promise<SnapshotRecord[]> {
    await this.repo.refreshIndex();
    return removeSnapshots(this.repo, selection);
  }

  /** Tombstones the snapshots a retention policy does not keep, group by group. */
  async forget(opts: ForgetOptions): Promise<ForgetGroup[]> {
    await this.repo.refreshIndex();
    return forgetSnapshots(this.repo, opts);
  }

  /** Deletes the data no visible snapshot needs, in two runs a grace period apart; consolidates the index. */
  async prune(opts?: PruneOptions): Promise<PruneReport> {
    return prune(this.repo, opts);
  }

  /**
   * One step of a prune that continues across processes: give each step the checkpoint the last
   * one returned, until `done`. Every step leaves the store as valid as a finished run does.
   */
  async pruneStep(opts?: PruneStepOptions): Promise<PruneStep> {
    return pruneStep(this.repo, opts);
  }

  async restore(ref: string, path: string | undefined, opts: RestoreOptions): Promise<RestoreResult> {
    return restore(this.repo, await this.resolveSnapshot(ref), path, opts);
  }

  /**
   * For stores that keep data packs in archive storage (S3 Glacier): asks for the retrieval of the
   * packs a restore of `path` needs that nobody asked for yet. Idempotent; restore once `pending` is 0.
   * `dryRun` asks for nothing and answers what a run would ask for (and what it would cost).
   */
  async retrieval(ref: string, path: string | undefined, opts?: RetrievalOptions): Promise<RetrievalStatus> {
    return (await this.startRetrieval(ref, path, opts)).status();
  }

  /** As `retrieval`, then polls (with backoff, until a deadline) until every pack is readable (no dry run: nothing to wait for). */
  async waitForRetrieval(
    ref: string,
    path: string | undefined,
    opts: Omit<RetrievalOptions, 'dryRun'> & WaitOptions = {},
  ): Promise<RetrievalStatus> {
    return waitForRetrieval(await this.startRetrieval(ref, path, opts), opts);
  }

  private async startRetrieval(
    ref: string,
    path: string | undefined,
    opts: RetrievalOptions = {},
  ): Promise<Retrieval> {
    return startRetrieval(this.repo, await this.resolveSnapshot(ref), path ?? '/', opts);
  }

  /** Reads every index delta from the store again (never the cache) before judging it. */
  async check(opts?: CheckOptions): Promise<CheckReport> {
    await this.repo.refreshIndex({ fromStore: true });
    return check(this.repo, opts);
  }

  /**
   * `check({ readData: true })` in slices that each end by `deadline`: pass the cursor of one
   * answer to the next call until one answers the report (see docs/ENGINE-API.md).
   */
  async checkData(opts: DataCheckOptions): Promise<DataCheckStep> {
    await this.repo.refreshIndex({ fromStore: true });
    return checkData(this.repo, opts);
  }

  /**
   * Rebuilds the index from the packs' own indexes where deltas are damaged or missing, lists
   * again the snapshots they hid, and reports what stays damaged (`dryRun`: changes nothing).
   */
  repair(opts?: RepairOptions): Promise<RepairReport> {
    return repair(this.repo, opts);
  }

  async info(): Promise<StoreInfo> {
    await this.repo.refreshIndex();
    const { config, index } = this.repo;
    const listing = await readSnapshots(this.repo);
    const { snapshots } = listing;
    const blobs = { data: 0, tree: 0, snapshot: 0 };
    let uniqueBytes = 0;
    let rawBytes = 0;
    for (const b of index.blobs()) {
      rawBytes += b.rawLength;
      if (b.type === BlobType.Data) {
        blobs.data++;
        uniqueBytes += b.rawLength;
      } else if (b.type === BlobType.Tree) blobs.tree++;
      else if (b.type === BlobType.Snapshot) blobs.snapshot++;
    }
    const packBytes = index.packs.reduce((n, p) => n + p.size, 0);
    let storedBytes = (await this.repo.backend.stat('config', 'config')) ?? 0;
    for (const kind of ['keys', 'index', 'packs'] as const) {
      for await (const o of this.repo.backend.list(kind)) storedBytes += o.size;
    }
    const logicalBytes = snapshots.reduce((n, s) => n + s.summary.bytes, 0);
    const { encryption } = config;
    return {
      location: this.location,
      storeId: config.storeId,
      createdAt: config.createdAt,
      formatVersion: config.version,
      encryption: encryption.algorithm,
      ...(encryption.algorithm === 'aes-256-gcm' && { kdf: encryption.kdf }),
      mac: config.mac.algorithm,
      compression: config.compression,
      chunking: {
        algorithm: config.chunking.algorithm,
        min: config.chunking.min,
        avg: config.chunking.avg,
        max: config.chunking.max,
      },
      packSize: config.packing.targetSize,
      keySlots: encryption.algorithm === 'none' ? 0 : (await listKeySlots(this.repo.backend)).length,
      snapshots: snapshots.length,
      packs: {
        data: index.packs.filter((p) => p.kind === PackKind.Data).length,
        metadata: index.packs.filter((p) => p.kind === PackKind.Metadata).length,
      },
      blobs,
      logicalBytes,
      uniqueBytes,
      storedBytes,
      dedupRatio: ratio(logicalBytes, uniqueBytes),
      compressionRatio: ratio(rawBytes, packBytes),
      unreadable: listingProblems(this.repo, listing),
    };
  }

  /** The key slot the passphrase opened (undefined for plaintext stores). */
  get currentKeySlot(): string | undefined {
    return this.repo.keySlot;
  }

  keys(): Promise<KeySlotInfo[]> {
    return listKeySlots(this.repo.backend);
  }

  /** Adds a passphrase; the data is not re-encrypted. */
  addKey(passphrase: string): Promise<string> {
    return this.repo.addKeySlot(passphrase);
  }

  /** Removes a key slot; never the last one. */
  async removeKey(id: string): Promise<void> {
    const slots = await this.keys();
    const matches = slots.filter((s) => s.id.startsWith(id));
    if (matches.length !== 1) throw new KlosetError('INVALID_ARGUMENT', `no single key slot matches "${id}"`);
    if (slots.length === 1)
      throw new KlosetError('LAST_KEY', 'this is the only key slot: add another passphrase first');
    await this.repo.backend.delete('keys', matches[0]!.id);
  }

  /** Replaces the passphrase that opened the store: adds the new slot, then drops the old one. */
  async changePassphrase(passphrase: string): Promise<string> {
    const added = await this.addKey(passphrase);
    if (this.repo.keySlot && this.repo.keySlot !== added)
      await this.repo.backend.delete('keys', this.repo.keySlot);
    return added;
  }

  close(): Promise<void> {
    return this.repo.close();
  }
}
