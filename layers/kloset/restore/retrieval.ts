import { mapLimit } from '../core/concurrency.js';
import type {
  ArchiveTerms,
  RetrievalTier,
  StoreBackend,
  ThawState,
  TierTerms,
} from '../core/store-backend.js';
import { KlosetError } from '../core/errors.js';
import type { PackInfo } from '../index/index-table.js';
import type { Repository } from '../repository/repository.js';
import type { SnapshotRecord } from '../snapshot/snapshot-record.js';
import { neededDataPacks } from './needed-packs.js';

export interface RetrievalOptions {
  /** how fast (and how dearly) archived packs are made readable; default `standard` */
  tier?: RetrievalTier;
  /** how long retrieved copies stay readable; default 7 */
  days?: number;
  /**
   * only look: send no RestoreObject. `requested`, the hours and the cost are then those of the
   * retrieval a run would ask for (a download refused until the data is retrieved says them).
   */
  dryRun?: boolean;
}

export interface RetrievalEstimate {
  /** typical time until the pending retrievals are done, counted from their request */
  readonly hours: readonly [min: number, max: number];
  /** what the retrievals asked for by this call cost (list prices; an estimate only) */
  readonly costUsd: number;
}

export interface RetrievalStatus {
  /** data packs the selection needs that are in archive storage (0: nothing to retrieve) */
  readonly needed: number;
  /** their bytes */
  readonly bytes: number;
  /** of those, readable now */
  readonly ready: number;
  /** retrievals this call asked for */
  readonly requested: number;
  /** retrievals not done yet, those just asked for included */
  readonly pending: number;
  /** the names of those packs (a failure that gives up on them lists them) */
  readonly pendingPacks: string[];
  /** the archive classes the needed packs are in, e.g. `GLACIER` */
  readonly archives: string[];
  readonly estimate: RetrievalEstimate;
}

const HEAD_CONCURRENCY = 16;
const DEFAULT_TIER: RetrievalTier = 'standard';
const DEFAULT_DAYS = 7;
const GIB = 1024 ** 3;

/** Where each pack stands (one HEAD each on S3); every pack is ready where there is no archive. */
export async function thawStates(backend: StoreBackend, names: readonly string[]): Promise<ThawState[]> {
  const thawState = backend.thawState?.bind(backend);
  if (!thawState) return names.map(() => ({ state: 'ready' }));
  return mapLimit(names, HEAD_CONCURRENCY, (name) => thawState('packs', name));
}

/** The packs the backend keeps in archive storage (one listing; none where there is no archive). */
async function archivedPackNames(backend: StoreBackend): Promise<Set<string>> {
  const names = new Set<string>();
  if (!backend.thawState) return names;
  for await (const p of backend.list('packs')) if (p.archived) names.add(p.name);
  return names;
}

function offeredTerms(archive: ArchiveTerms, tier: RetrievalTier, packs: number): TierTerms {
  const terms = archive.tiers[tier];
  if (terms) return terms;
  throw new KlosetError(
    'INVALID_ARGUMENT',
    `${tier} retrieval is not offered by ${archive.name} (it offers ${Object.keys(archive.tiers).join(' and ')}), which holds ${packs} of the packs needed`,
  );
}

/** The typical time of a retrieval in `tier`, or of the archive's slowest tier when it has no such tier. */
function hoursOf(archive: ArchiveTerms, tier: RetrievalTier): readonly [number, number] {
  const terms =
    archive.tiers[tier] ?? Object.values(archive.tiers).sort((a, b) => b.hours[1] - a.hours[1])[0]!;
  return terms.hours;
}

/**
 * The retrieval of a restore's archived data packs: asks for those nobody asked for yet and
 * re-reads the state of those in progress. Idempotent: a second run asks for nothing new.
 */
export class Retrieval {
  private readonly states = new Map<string, ThawState>();
  /** what this run asked for, per archive class (for the cost) */
  private readonly asked = new Map<ArchiveTerms, { packs: number; bytes: number }>();
  private requested = 0;

  constructor(
    private readonly backend: StoreBackend,
    /** the needed packs that are in archive storage */
    private readonly packs: readonly PackInfo[],
    private readonly opts: Required<RetrievalOptions>,
  ) {}

  get pending(): number {
    return this.packs.length - this.ready;
  }

  private get ready(): number {
    return this.packs.filter((p) => this.states.get(p.name)?.state === 'ready').length;
  }

  /** Re-reads the packs not ready yet and asks for the frozen ones (again, if a copy expired). */
  async poll(): Promise<void> {
    const open = this.packs.filter((p) => this.states.get(p.name)?.state !== 'ready');
    const states = await thawStates(
      this.backend,
      open.map((p) => p.name),
    );
    open.forEach((p, i) => this.states.set(p.name, states[i]!));
    await this.requestFrozen(open.filter((p) => this.states.get(p.name)!.state === 'frozen'));
  }

  private async requestFrozen(frozen: readonly PackInfo[]): Promise<void> {
    const perArchive = new Map<ArchiveTerms, number>();
    for (const p of frozen) {
      const archive = this.states.get(p.name)!.archive!;
      perArchive.set(archive, (perArchive.get(archive) ?? 0) + 1);
    }
    // refused before anything is asked for: half a retrieval helps nobody
    for (const [archive, packs] of perArchive) offeredTerms(archive, this.opts.tier, packs);
    await mapLimit(frozen, HEAD_CONCURRENCY, async (p) => {
      const archive = this.states.get(p.name)!.archive!;
      if (!this.opts.dryRun) {
        await this.backend.thaw!('packs', p.name, this.opts);
        this.states.set(p.name, { state: 'pending', archive });
      }
      const asked = this.asked.get(archive) ?? { packs: 0, bytes: 0 };
      this.asked.set(archive, { packs: asked.packs + 1, bytes: asked.bytes + p.size });
      this.requested++;
    });
  }

  status(): RetrievalStatus {
    const hours: [number, number] = [0, 0];
    const archives = new Set<string>();
    for (const s of this.states.values()) {
      if (s.archive) archives.add(s.archive.name);
      if (s.state === 'ready') continue;
      const [min, max] = hoursOf(s.archive, this.opts.tier);
      hours[0] = Math.max(hours[0], min);
      hours[1] = Math.max(hours[1], max);
    }
    let costUsd = 0;
    for (const [archive, { packs, bytes }] of this.asked) {
      const terms = offeredTerms(archive, this.opts.tier, packs);
      costUsd += (bytes / GIB) * terms.usdPerGiB + (packs / 1000) * terms.usdPer1000Requests;
    }
    return {
      needed: this.packs.length,
      bytes: this.packs.reduce((n, p) => n + p.size, 0),
      ready: this.ready,
      requested: this.requested,
      pending: this.pending,
      pendingPacks: this.packs.filter((p) => this.states.get(p.name)?.state !== 'ready').map((p) => p.name),
      archives: [...archives].sort(),
      estimate: { hours, costUsd },
    };
  }
}

/**
 * Starts the retrieval of the archived data packs a restore of `path` needs: looks at each and
 * asks for those nobody asked for yet. Stores without archived packs cost one listing (S3) or
 * nothing (local), and no tree is read.
 */
export async function startRetrieval(
  repo: Repository,
  snapshot: SnapshotRecord,
  path: string,
  opts: RetrievalOptions = {},
): Promise<Retrieval> {
  const days = opts.days ?? DEFAULT_DAYS;
  if (!Number.isInteger(days) || days < 1)
    throw new KlosetError(
      'INVALID_ARGUMENT',
      `retrieved copies stay readable for whole days, at least 1 (got ${days})`,
    );
  const archived = await archivedPackNames(repo.backend);
  const needed = archived.size === 0 ? [] : await neededDataPacks(repo, snapshot.root, path);
  const run = new Retrieval(
    repo.backend,
    needed.filter((p) => archived.has(p.name)),
    { tier: opts.tier ?? DEFAULT_TIER, days, dryRun: opts.dryRun ?? false },
  );
  await run.poll();
  return run;
}
