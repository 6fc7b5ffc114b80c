import { mapLimit } from '../concurrency.js';
import { BLOB_TYPE_NAMES } from '../format/blob.js';
import type { BlobLocation } from '../index/index-table.js';
import { parsePack, readPackIndex } from '../pack/pack-reader.js';
import type { Repository } from '../repository/repository.js';
import { loadSnapshot, newestFirst, visibleSnapshotIds } from '../snapshot/snapshot-list.js';
import type { SnapshotRecord } from '../snapshot/snapshot-record.js';
import { TreeReader, joinSnapshotPath } from '../snapshot/tree-reader.js';

export interface CheckProblem {
  /** what is wrong, in one line */
  readonly message: string;
  /** snapshots affected (IDs) */
  readonly snapshots: string[];
  /** files and directories affected, as `path` in those snapshots */
  readonly paths: string[];
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

export interface CheckReport {
  readonly ok: boolean;
  readonly problems: CheckProblem[];
  /** not errors: e.g. packs left by an interrupted backup */
  readonly notes: string[];
  readonly stats: { snapshots: number; packs: number; blobs: number; files: number; bytesRead: number };
}

const PACK_CONCURRENCY = 4;
const MAX_PATHS_PER_PROBLEM = 1000;

/** A problem found below a tree, relative to it; memoised per tree ID across snapshots. */
interface TreeFinding {
  readonly rel: string;
  readonly cause: string;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Checks a store. Fast: every index delta readable, every indexed pack present with its own
 * index agreeing, every snapshot's trees readable and every referenced blob indexed. With
 * readData: every pack read whole, every blob decrypted and verified against its ID. Each
 * problem names the snapshots and paths it affects.
 */
class CheckRun {
  private readonly problems = new Map<string, { snapshots: Set<string>; paths: Set<string> }>();
  private readonly notes: string[] = [];
  /** blob ID (latin1) → why it is unreadable */
  private readonly badBlobs = new Map<string, string>();
  private readonly trees: TreeReader;
  private readonly treeFindings = new Map<string, Promise<TreeFinding[]>>();
  private bytesRead = 0;
  private files = 0;

  constructor(
    private readonly repo: Repository,
    private readonly opts: CheckOptions,
  ) {
    this.trees = new TreeReader(repo);
  }

  private problem(cause: string, snapshot?: string, path?: string): void {
    let p = this.problems.get(cause);
    if (!p) {
      p = { snapshots: new Set(), paths: new Set() };
      this.problems.set(cause, p);
    }
    if (snapshot) p.snapshots.add(snapshot);
    if (path && p.paths.size < MAX_PATHS_PER_PROBLEM) p.paths.add(path);
  }

  private markPackBlobs(blobs: Iterable<BlobLocation>, cause: string): void {
    for (const b of blobs) this.badBlobs.set(b.id.toString('latin1'), cause);
  }

  async run(): Promise<CheckReport> {
    for (const [name, why] of this.repo.damagedDeltas)
      this.problem(`index delta ${name.slice(0, 12)}: ${why}`);
    const packs = await this.checkPacks();
    const snapshots = await this.loadSnapshots();
    let done = 0;
    for (const snap of snapshots) {
      for (const f of await this.checkTree(snap.root))
        this.problem(f.cause, snap.id, joinSnapshotPath('/', f.rel));
      this.opts.onProgress?.({ phase: 'snapshots', done: ++done, total: snapshots.length });
    }
    const problems = [...this.problems].map(([message, p]) => ({
      message,
      snapshots: [...p.snapshots].sort(),
      paths: [...p.paths].sort(),
    }));
    return {
      ok: problems.length === 0,
      problems,
      notes: this.notes,
      stats: {
        snapshots: snapshots.length,
        packs,
        blobs: this.repo.index.blobCount,
        files: this.files,
        bytesRead: this.bytesRead,
      },
    };
  }

  private async loadSnapshots(): Promise<SnapshotRecord[]> {
    const records = await mapLimit(visibleSnapshotIds(this.repo), 16, async (id) => {
      try {
        return await loadSnapshot(this.repo, id);
      } catch (err) {
        this.problem(`snapshot record unreadable: ${errorText(err)}`, id);
        return undefined;
      }
    });
    return newestFirst(records.filter((r): r is SnapshotRecord => r !== undefined));
  }

  /** Groups the index by pack and checks each pack; returns the number of packs. */
  private async checkPacks(): Promise<number> {
    const byPack = new Map<string, BlobLocation[]>();
    for (const b of this.repo.index.blobs()) {
      const list = byPack.get(b.pack.name);
      if (list) list.push(b);
      else byPack.set(b.pack.name, [b]);
    }
    const stored = new Map<string, number>();
    for await (const { name, size } of this.repo.backend.list('packs')) stored.set(name, size);
    const unreferenced = [...stored.keys()].filter((n) => !byPack.has(n));
    if (unreferenced.length > 0) {
      this.notes.push(
        `${unreferenced.length} pack(s) not in any index (left by an interrupted write; harmless)`,
      );
    }
    const names = [...byPack.keys()];
    let done = 0;
    await mapLimit(names, PACK_CONCURRENCY, async (name) => {
      await this.checkPack(name, byPack.get(name)!, stored.get(name));
      this.opts.onProgress?.({ phase: 'packs', done: ++done, total: names.length });
    });
    return names.length;
  }

  private async checkPack(name: string, indexed: BlobLocation[], size: number | undefined): Promise<void> {
    const short = `pack ${name.slice(0, 12)}`;
    const expected = indexed[0]!.pack.size;
    if (size === undefined) return this.markPackBlobs(indexed, `${short} is missing`);
    if (size !== expected)
      return this.markPackBlobs(
        indexed,
        `${short} has ${size} bytes, expected ${expected} (truncated or damaged)`,
      );
    try {
      if (this.opts.readData) await this.readPack(name, indexed);
      else
        this.compareIndex(
          short,
          indexed,
          (await readPackIndex(this.repo.backend, this.repo.cipher, name, size)).blobs,
        );
    } catch (err) {
      this.markPackBlobs(indexed, `${short}: ${errorText(err)}`);
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
        this.badBlobs.set(
          b.id.toString('latin1'),
          `${short} does not hold blob ${b.id.toString('hex').slice(0, 12)} where the index says`,
        );
      }
    }
  }

  private async readPack(name: string, indexed: BlobLocation[]): Promise<void> {
    const short = `pack ${name.slice(0, 12)}`;
    const data = await this.repo.backend.get('packs', name);
    this.bytesRead += data.length;
    const contents = parsePack(data, name, this.repo.cipher, this.repo.mac.authenticator);
    this.compareIndex(short, indexed, contents.blobs);
    let damaged = 0;
    for (const b of indexed) {
      try {
        await this.repo.openBlob(b, data.subarray(b.offset, b.offset + b.length));
      } catch (err) {
        damaged++;
        this.badBlobs.set(
          b.id.toString('latin1'),
          `${short}: ${BLOB_TYPE_NAMES[b.type]} blob ${errorText(err).replace(/^.*? is /, 'is ')}`,
        );
      }
    }
    if (!contents.intact && damaged === 0)
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
      const bad = this.badBlobs.get(Buffer.from(treeId, 'hex').toString('latin1'));
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
      if (!this.repo.index.has(id)) return `data blob ${c.slice(0, 12)} is not in the index (missing)`;
    }
    return undefined;
  }
}

export async function check(repo: Repository, opts: CheckOptions = {}): Promise<CheckReport> {
  return new CheckRun(repo, opts).run();
}
