import { availableParallelism } from 'node:os';
import { BufferPool, mapLimit } from '../core/concurrency.js';
import type { ObjectInfo } from '../core/store-backend.js';
import { KlosetError, errorText } from '../core/errors.js';
import { BLOB_TYPE_NAMES } from '../format/blob.js';
import type { BlobLocation } from '../index/index-table.js';
import { ID_SIZE } from '../crypto/mac.js';
import { readPackIndex } from '../pack/pack-reader.js';
import type { Repository } from '../repository/repository.js';
import { thawStates } from '../restore/retrieval.js';
import { type UnindexedPacks, listPacks, readUnindexedPacks, unlistedSnapshots } from './unindexed-packs.js';
import { describeTemporaryFiles, temporaryFiles } from '../repository/temporary-files.js';
import { readSnapshots } from '../snapshot/snapshot-list.js';
import { damagedKeySlots } from '../repository/key-slots.js';
import { ACCESS_ADVICE } from './access-damage.js';
import type { SnapshotRecord } from '../snapshot/snapshot-record.js';
import { TreeReader, joinSnapshotPath } from '../snapshot/tree-reader.js';
import { LazyWorkerPool } from '../workers/lazy-worker-pool.js';
import { WorkerPool, movable } from '../workers/worker-pool.js';
import {
  type PackToVerify,
  PackVerifier,
  type VerifiedPack,
  type VerifySettings,
  packToVerify,
  verifyTransferList,
} from './pack-verification.js';

export interface CheckProblem {
  /** what is wrong, in one line */
  readonly message: string;
  /** snapshots affected (IDs) */
  readonly snapshots: string[];
  /** files and directories affected, as `path` in those snapshots */
  readonly paths: string[];
  /** what the damage means and what to do, when the message alone does not say */
  readonly advice?: string;
}

export interface CheckProgress {
  readonly phase: 'packs' | 'snapshots';
  readonly done: number;
  readonly total: number;
}

export interface CheckOptions {
  /** read, decrypt and verify every blob, not only the metadata */
  readData?: boolean;
  onProgress?: (p: CheckProgress) => void;
}

/**
 * Where a data check done in slices (checkData) stands between two calls: a cursor in the packs'
 * name order and the damage found so far, small enough to keep in a database item.
 */
export interface DataCheckCursor {
  /** every pack up to this name, in name order, is verified */
  readonly after: string;
  /** packs missing, truncated or unreadable: pack name → why */
  readonly damagedPacks: Record<string, string>;
  /** blobs that did not open in an otherwise readable pack: blob ID (hex) → why */
  readonly damagedBlobs: Record<string, string>;
  /** problems tied to no blob (a pack damaged outside its blobs) */
  readonly problems: string[];
  readonly bytesRead: number;
}

export interface DataCheckOptions {
  /** where the previous call stopped; none on the first */
  readonly cursor?: DataCheckCursor;
  /** epoch ms: no pack is started after it (the packs under way finish) */
  readonly deadline: number;
  /** aborted: stop like at the deadline */
  readonly signal?: AbortSignal;
  onProgress?: (p: CheckProgress) => void;
}

/** A slice of a data check: where it stopped, or, once every pack is verified, the whole report. */
export type DataCheckStep =
  | { readonly done: false; readonly cursor: DataCheckCursor }
  | { readonly done: true; readonly report: CheckReport };

export interface CheckReport {
  readonly ok: boolean;
  readonly problems: CheckProblem[];
  /** not errors: packs left by an interrupted backup that nothing needs, temporary files */
  readonly notes: string[];
  readonly stats: {
    snapshots: number;
    packs: number;
    blobs: number;
    files: number;
    bytesRead: number;
    /** files in the store's tmp/ (local and SFTP stores), and their bytes */
    temporaryFiles: number;
    temporaryBytes: number;
  };
}

const PACK_CONCURRENCY = 4;
/** Packs verified on the main thread before threads start: a small store's check starts none. */
const MAIN_THREAD_BYTES = 32 * 1024 * 1024;
const MAX_PATHS_PER_PROBLEM = 1000;
/**
 * Damaged packs and blobs a cursor carries at most (~100 bytes each, well inside a 400 KB
 * DynamoDB item); a store damaged beyond that is reported from what was found by then.
 */
const MAX_CURSOR_DAMAGE = 2000;

/** The index grouped by pack, and what the store lists. */
interface PackPlan {
  readonly names: string[];
  readonly byPack: Map<string, BlobLocation[]>;
  readonly stored: Map<string, ObjectInfo>;
  readonly unindexed: UnindexedPacks;
}

/** A problem found below a tree, relative to it; memoised per tree ID across snapshots. */
interface TreeFinding {
  readonly rel: string;
  readonly cause: string;
}

/**
 * Checks a store. Fast: every index delta readable, every indexed pack present with its own
 * index agreeing, every snapshot's trees readable and every referenced blob indexed. With
 * readData: every pack read whole, every blob decrypted and verified against its ID. Each
 * problem names the snapshots and paths it affects. Packs in archive storage (S3 Glacier) are
 * only listed by the fast check; readData refuses until they are retrieved.
 */
class CheckRun {
  private readonly problems = new Map<string, { snapshots: Set<string>; paths: Set<string> }>();
  private readonly notes: string[] = [];
  /** problem message → what it means, where the message does not say */
  private readonly advice = new Map<string, string>();
  /** blob ID (latin1) → why it is unreadable */
  private readonly badBlobs = new Map<string, string>();
  /** what a data check's cursor carries (badBlobs derives from it and the index) */
  private readonly damagedPacks = new Map<string, string>();
  private readonly damagedBlobs = new Map<string, string>();
  private readonly trees: TreeReader;
  private readonly treeFindings = new Map<string, Promise<TreeFinding[]>>();
  private bytesRead = 0;
  private files = 0;
  /** blobs of packs no readable delta lists: blob ID (latin1) → pack name */
  private readonly unindexedBlobs = new Map<string, string>();
  /** unindexed packs holding a blob a snapshot needs */
  private readonly neededPacks = new Set<string>();
  /** verify whole packs (readData): decryption, decompression and MACs, one pack per request */
  readonly verifiers: LazyWorkerPool<PackToVerify, VerifiedPack>;
  /**
   * Whole packs are read into these and the threads hand them back: reading into fresh memory
   * cost more than the read itself (page faults; 0.5 s of 450 MB on this project's VMs).
   */
  private readonly packBuffers: BufferPool;

  constructor(
    private readonly repo: Repository,
    private readonly opts: CheckOptions,
  ) {
    this.trees = new TreeReader(repo);
    // a pack exceeds its target size by its last blob at most: twice the target holds nearly all
    this.packBuffers = new BufferPool(2 * repo.config.packing.targetSize, PACK_CONCURRENCY);
    const settings: VerifySettings = { cipher: repo.cipher.spec, macKey: repo.mac.key };
    this.verifiers = new LazyWorkerPool(
      () =>
        new WorkerPool(
          'verifying',
          new URL('./verify-worker.js', import.meta.url),
          availableParallelism(),
          settings,
        ),
      () => {
        const verifier = new PackVerifier(settings);
        return (request) => verifier.verify(request);
      },
      MAIN_THREAD_BYTES,
    );
  }

  private problem(cause: string, snapshot?: string, ...paths: string[]): void {
    let p = this.problems.get(cause);
    if (!p) {
      p = { snapshots: new Set(), paths: new Set() };
      this.problems.set(cause, p);
    }
    if (snapshot) p.snapshots.add(snapshot);
    for (const path of paths) if (p.paths.size < MAX_PATHS_PER_PROBLEM) p.paths.add(path);
  }

  private markPack(name: string, blobs: Iterable<BlobLocation>, cause: string): void {
    this.damagedPacks.set(name, cause);
    for (const b of blobs) this.badBlobs.set(b.id.toString('latin1'), cause);
  }

  private markBlob(id: Buffer, cause: string): void {
    this.damagedBlobs.set(id.toString('hex'), cause);
    this.badBlobs.set(id.toString('latin1'), cause);
  }

  async run(): Promise<CheckReport> {
    await this.reportDamagedMetadata();
    const plan = await this.planPacks();
    return this.conclude(plan, () => this.verifyPacks(plan));
  }

  /**
   * One slice of a data check: verifies packs in name order after the cursor until the deadline;
   * once none is left, and time remains, runs the rest of the check with the damage found.
   */
  async runSlice(opts: DataCheckOptions): Promise<DataCheckStep> {
    const { cursor, deadline, signal } = opts;
    if (cursor) this.resume(cursor);
    const plan = await this.planPacks();
    const names = [...plan.names].sort();
    const pending = cursor ? names.filter((n) => n > cursor.after) : names;
    let after = cursor?.after ?? '';
    let stopped = false;
    let verified = 0;
    let done = names.length - pending.length;
    await mapLimit(pending, PACK_CONCURRENCY, async (name, i) => {
      // the first pack always starts, so that every call moves on however short its time
      stopped ||= signal?.aborted === true || (i > 0 && (Date.now() >= deadline || this.cursorIsFull()));
      if (stopped) return;
      // mapLimit starts packs in order and none after a stop: the verified ones are a prefix
      after = name;
      await this.checkPack(name, plan.byPack.get(name)!, plan.stored.get(name));
      verified++;
      opts.onProgress?.({ phase: 'packs', done: ++done, total: names.length });
    });
    if (this.cursorIsFull())
      this.problem(
        `the data check stopped after finding ${MAX_CURSOR_DAMAGE} damaged packs or blobs: the store is damaged throughout (a wrong key, a storage fault); the problems below are the first found`,
      );
    // the rest of the check runs in a call of its own when this one spent its time on packs
    else if (stopped || signal?.aborted || (verified > 0 && Date.now() >= deadline))
      return { done: false, cursor: this.cursor(after) };
    await this.reportDamagedMetadata();
    return { done: true, report: await this.conclude(plan, async () => undefined) };
  }

  private cursorIsFull(): boolean {
    return this.damagedPacks.size + this.damagedBlobs.size >= MAX_CURSOR_DAMAGE;
  }

  private cursor(after: string): DataCheckCursor {
    return {
      after,
      damagedPacks: Object.fromEntries(this.damagedPacks),
      damagedBlobs: Object.fromEntries(this.damagedBlobs),
      problems: [...this.problems.keys()],
      bytesRead: this.bytesRead,
    };
  }

  /** The damage an earlier slice found, as if this run had found it. */
  private resume(cursor: DataCheckCursor): void {
    const byPack = new Map<string, BlobLocation[]>();
    for (const b of this.repo.index.blobs()) {
      if (cursor.damagedPacks[b.pack.name] === undefined) continue;
      const list = byPack.get(b.pack.name);
      if (list) list.push(b);
      else byPack.set(b.pack.name, [b]);
    }
    for (const [name, cause] of Object.entries(cursor.damagedPacks))
      this.markPack(name, byPack.get(name) ?? [], cause);
    for (const [id, cause] of Object.entries(cursor.damagedBlobs))
      this.markBlob(Buffer.from(id, 'hex'), cause);
    for (const message of cursor.problems) this.problem(message);
    this.bytesRead = cursor.bytesRead;
  }

  /** Index deltas and key slots that do not open. */
  private async reportDamagedMetadata(): Promise<void> {
    for (const why of this.repo.damagedDeltas.values())
      this.problem(
        `${why}: the snapshots and blobs it lists are hidden (the problems below say which); kloud repair rebuilds the index from the packs`,
      );
    for (const { reason } of await damagedKeySlots(this.repo.backend)) {
      this.problem(reason);
      this.advice.set(reason, ACCESS_ADVICE['key slot']);
    }
  }

  /** Walks the snapshots while `verify` runs, then names every problem by snapshot and path. */
  private async conclude(plan: PackPlan, verify: () => Promise<void>): Promise<CheckReport> {
    // the trees are walked while the packs are verified (the main thread waits for the threads
    // most of that time); a walk that ran before a damaged blob was known is done again
    const known = this.badBlobs.size;
    const loading = this.loadSnapshots();
    const walking = this.walkSnapshots(loading);
    try {
      await verify();
    } finally {
      await walking;
    }
    const snapshots = await loading;
    let findings = await walking;
    if (this.badBlobs.size > known) {
      this.treeFindings.clear();
      this.files = 0;
      findings = await this.walkSnapshots(loading);
    }
    snapshots.forEach((snap, i) => {
      for (const f of findings[i]!) this.problem(f.cause, snap.id, joinSnapshotPath('/', f.rel));
      this.opts.onProgress?.({ phase: 'snapshots', done: i + 1, total: snapshots.length });
    });
    await this.reportUnindexed(plan.unindexed);
    const temporary = await temporaryFiles(this.repo.backend);
    if (temporary.count > 0) this.notes.push(describeTemporaryFiles(temporary));
    const problems = [...this.problems].map(([message, p]) => ({
      message,
      snapshots: [...p.snapshots].sort(),
      paths: [...p.paths].sort(),
      ...(this.advice.has(message) && { advice: this.advice.get(message) }),
    }));
    return {
      ok: problems.length === 0,
      problems,
      notes: this.notes,
      stats: {
        snapshots: snapshots.length,
        packs: plan.names.length,
        blobs: this.repo.index.blobCount,
        files: this.files,
        bytesRead: this.bytesRead,
        temporaryFiles: temporary.count,
        temporaryBytes: temporary.bytes,
      },
    };
  }

  /** Every snapshot's findings, in the order of `loading`; trees shared by snapshots are walked once. */
  private async walkSnapshots(loading: Promise<SnapshotRecord[]>): Promise<TreeFinding[][]> {
    const findings: TreeFinding[][] = [];
    for (const snap of await loading) findings.push(await this.checkTree(snap.root));
    return findings;
  }

  private async loadSnapshots(): Promise<SnapshotRecord[]> {
    const { snapshots, unreadable } = await readSnapshots(this.repo);
    for (const u of unreadable)
      this.problem(
        `snapshot record unreadable: ${this.missingCause(Buffer.from(u.id, 'hex'), 'snapshot blob') ?? u.reason}`,
        u.id,
      );
    return snapshots;
  }

  /**
   * Why a blob no readable delta lists is not simply missing: it sits in a pack only a damaged
   * delta listed (or an interrupted writer left), and repair can list it again.
   */
  private missingCause(id: Buffer, what: string): string | undefined {
    if (this.repo.index.has(id)) return undefined;
    const pack = this.unindexedBlobs.get(id.toString('latin1'));
    if (pack === undefined) return undefined;
    this.neededPacks.add(pack);
    return `${what} ${id.toString('hex').slice(0, 12)} is only in pack ${pack.slice(0, 12)}, which no readable index lists (run kloud repair)`;
  }

  /**
   * Packs no readable delta lists: those holding blobs or snapshot records that are needed are
   * problems (repair lists them again); only the rest is said to be harmless.
   */
  private async reportUnindexed(unindexed: UnindexedPacks): Promise<void> {
    // with a damaged delta, an unlisted snapshot is one it hid; without, most likely the record
    // of a backup killed just before its commit (or of a deleted delta): said, not an error
    const damaged = this.repo.damagedDeltas.size > 0;
    const tell = (message: string, snapshot?: string, ...paths: string[]) =>
      damaged ? this.problem(message, snapshot, ...paths) : this.notes.push(message);
    const unlisted = await unlistedSnapshots(this.repo, unindexed.readable, { indexed: damaged });
    for (const found of unlisted) {
      this.neededPacks.add(found.pack);
      if ('record' in found)
        tell(
          `snapshot ${found.id.slice(0, 12)} (${found.record.time}, ${found.record.sources.join(' ')}) is recorded in pack ${found.pack.slice(0, 12)} but listed by no readable index (kloud repair lists it)`,
          found.id,
          ...found.record.sources,
        );
      else
        tell(
          `a snapshot record in pack ${found.pack.slice(0, 12)} that no readable index lists is unreadable: ${found.reason}`,
          found.id,
        );
    }
    for (const { name, reason } of unindexed.unreadable)
      this.problem(
        `pack ${name.slice(0, 12)} is in no readable index and its own index cannot be read (${reason}): what it holds cannot be listed or recovered`,
      );
    const unused = unindexed.readable.filter((u) => !this.neededPacks.has(u.pack.name)).length;
    // a damaged delta or an unlisted snapshot may need any unindexed pack: none is provably unused
    if (unused > 0 && (damaged || unlisted.length > 0))
      tell(
        `${unused} more pack(s) are in no readable index: they may hold data of the snapshots above (kloud repair lists them)`,
      );
    else if (unused > 0)
      this.notes.push(
        `${unused} pack(s) not in any index hold nothing a snapshot refers to (left by an interrupted write; harmless: the next backup reuses their blobs)`,
      );
    if (unindexed.archived.length > 0)
      this.notes.push(
        `${unindexed.archived.length} pack(s) not in any index are in archive storage: what they hold is not known until they are retrieved`,
      );
  }

  /** Groups the index by pack and lists the stored packs; refuses a read of archived ones. */
  private async planPacks(): Promise<PackPlan> {
    const byPack = new Map<string, BlobLocation[]>();
    for (const b of this.repo.index.blobs()) {
      const list = byPack.get(b.pack.name);
      if (list) list.push(b);
      else byPack.set(b.pack.name, [b]);
    }
    const stored = await listPacks(this.repo);
    const unindexed = await readUnindexedPacks(this.repo, stored.values());
    for (const { pack, blobs } of unindexed.readable)
      for (const b of blobs) this.unindexedBlobs.set(b.id.toString('latin1'), pack.name);
    const names = [...byPack.keys()];
    const archived = names.filter((n) => stored.get(n)?.archived);
    if (this.opts.readData) await this.requireRetrieved(archived);
    else if (archived.length > 0)
      this.notes.push(
        `${archived.length} pack(s) in archive storage: only their sizes were checked (check --read-data reads them once retrieved)`,
      );
    return { names, byPack, stored, unindexed };
  }

  private async verifyPacks({ names, byPack, stored }: PackPlan): Promise<void> {
    let done = 0;
    await mapLimit(names, PACK_CONCURRENCY, async (name) => {
      await this.checkPack(name, byPack.get(name)!, stored.get(name));
      this.opts.onProgress?.({ phase: 'packs', done: ++done, total: names.length });
    });
  }

  /** Reading every pack needs the archived ones retrieved: refuse before reading anything. */
  private async requireRetrieved(archived: readonly string[]): Promise<void> {
    const frozen = (await thawStates(this.repo.backend, archived)).flatMap((s) =>
      s.state === 'ready' ? [] : [s],
    );
    if (frozen.length === 0) return;
    const classes = [...new Set(frozen.map((s) => s.archive.name))].sort().join(', ');
    const pending = frozen.filter((s) => s.state === 'pending').length;
    throw new KlosetError(
      'ARCHIVED',
      `reading all data needs every pack, and ${frozen.length} pack(s) of ${this.repo.backend.location} are in ${classes} and not retrieved` +
        (pending > 0 ? ` (${pending} retrieval(s) in progress)` : ''),
    );
  }

  private async checkPack(
    name: string,
    indexed: BlobLocation[],
    stored: ObjectInfo | undefined,
  ): Promise<void> {
    const short = `pack ${name.slice(0, 12)}`;
    const size = stored?.size;
    const expected = indexed[0]!.pack.size;
    if (size === undefined) return this.markPack(name, indexed, `${short} is missing`);
    if (size !== expected)
      return this.markPack(
        name,
        indexed,
        `${short} has ${size} bytes, expected ${expected} (truncated or damaged)`,
      );
    // an archived pack cannot be read without a retrieval: its listed size is all there is to check
    if (stored?.archived && !this.opts.readData) return;
    try {
      if (this.opts.readData) await this.readPack(name, indexed, size);
      else
        this.compareIndex(
          short,
          indexed,
          (await readPackIndex(this.repo.backend, this.repo.cipher, name, size)).blobs,
        );
    } catch (err) {
      this.markPack(name, indexed, `${short}: ${errorText(err)}`);
    }
  }

  private compareIndex(
    short: string,
    indexed: BlobLocation[],
    own: { id: Buffer; offset: number; length: number }[],
  ): void {
    const at = new Map(own.map((b) => [b.id.toString('latin1'), b]));
    for (const b of indexed) {
      const o = at.get(b.id.toString('latin1'));
      if (!o || o.offset !== b.offset || o.length !== b.length) {
        this.markBlob(
          b.id,
          `${short} does not hold blob ${b.id.toString('hex').slice(0, 12)} where the index says`,
        );
      }
    }
  }

  private async readPack(name: string, indexed: BlobLocation[], size: number): Promise<void> {
    const short = `pack ${name.slice(0, 12)}`;
    const buffer = await this.packBuffers.take();
    let verified: VerifiedPack | undefined;
    try {
      const data = await this.repo.backend.getRange('packs', name, 0, size, buffer);
      if (data.length !== size) throw new Error(`${short} is shorter than listed (truncated)`);
      this.bytesRead += data.length;
      // a pooled buffer moves to a thread whole; bytes in memory of their own are copied
      const request = packToVerify(name, data.buffer === buffer.buffer ? data : movable(data), indexed);
      verified = await this.verifiers.run(request, data.length, () => verifyTransferList(request));
    } finally {
      this.packBuffers.reclaim(buffer, verified?.data);
    }
    const { verdict } = verified;
    if ('unreadable' in verdict) throw new Error(verdict.unreadable);
    const { ids, offsets, lengths } = verdict.own;
    const own = offsets.map((offset, i) => ({
      id: Buffer.from(ids.buffer, ids.byteOffset + i * ID_SIZE, ID_SIZE),
      offset,
      length: lengths[i]!,
    }));
    this.compareIndex(short, indexed, own);
    let damaged = 0;
    for (const [i, why] of verdict.damage.entries()) {
      if (why === undefined) continue;
      damaged++;
      const b = indexed[i]!;
      this.markBlob(b.id, `${short}: ${BLOB_TYPE_NAMES[b.type]} blob ${why.replace(/^.*? is /, 'is ')}`);
    }
    if (!verdict.intact && damaged === 0)
      this.problem(`${short} is damaged outside its blobs (checksum mismatch)`);
  }

  private checkTree(treeId: string): Promise<TreeFinding[]> {
    let findings = this.treeFindings.get(treeId);
    if (!findings) {
      findings = this.walkTree(treeId);
      this.treeFindings.set(treeId, findings);
    }
    return findings;
  }

  private async walkTree(treeId: string): Promise<TreeFinding[]> {
    const out: TreeFinding[] = [];
    let entries;
    try {
      entries = await this.trees.entries(treeId);
    } catch (err) {
      const id = Buffer.from(treeId, 'hex');
      const bad = this.badBlobs.get(id.toString('latin1')) ?? this.missingCause(id, 'tree blob');
      return [{ rel: '', cause: `directory unreadable: ${bad ?? errorText(err)}` }];
    }
    for (const e of entries) {
      if (e.type === 'dir') {
        for (const f of await this.checkTree(e.subtree))
          out.push({ rel: f.rel ? `${e.name}/${f.rel}` : e.name, cause: f.cause });
      } else if (e.type === 'file') {
        this.files++;
        const cause = this.fileProblem(e.chunks);
        if (cause) out.push({ rel: e.name, cause });
      }
    }
    return out;
  }

  private fileProblem(chunks: readonly string[]): string | undefined {
    for (const c of chunks) {
      const id = Buffer.from(c, 'hex');
      const bad = this.badBlobs.get(id.toString('latin1'));
      if (bad) return bad;
      if (!this.repo.index.has(id))
        return (
          this.missingCause(id, 'data blob') ??
          `data blob ${c.slice(0, 12)} is in no pack of the store (missing)`
        );
    }
    return undefined;
  }
}

export async function check(repo: Repository, opts: CheckOptions = {}): Promise<CheckReport> {
  const run = new CheckRun(repo, opts);
  try {
    return await run.run();
  } finally {
    await run.verifiers.close();
  }
}

/**
 * `check({ readData: true })` in slices, for callers with a time limit per call (a Lambda
 * invocation): each call verifies packs until `deadline` and answers a cursor to pass to the next;
 * the call that verifies the last one answers the report `check` would have given.
 */
export async function checkData(repo: Repository, opts: DataCheckOptions): Promise<DataCheckStep> {
  const run = new CheckRun(repo, { readData: true, ...(opts.onProgress && { onProgress: opts.onProgress }) });
  try {
    return await run.runSlice(opts);
  } finally {
    await run.verifiers.close();
  }
}
