import { IndexTable, RECORD_SIZE, mergeSorted, unionIds, unionPacks } from './index-table.js';
import { CACHED_PAGE_COST, SpillWriter, type SpillShape, SpilledIndex } from './spilled-index.js';

/** What the in-memory table costs a blob: the record and its 4-byte prefix. */
const IN_MEMORY_BYTES_PER_BLOB = RECORD_SIZE + 4;

type MergePart = IndexTable | SpilledIndex;

/**
 * Merges the previous index and the new deltas, in that order (a blob indexed twice keeps its
 * first location, as in `IndexTable.merge`), within a memory budget:
 * - while the whole merged table fits the budget, the tables stay in memory and the result is
 *   the ordinary `IndexTable`;
 * - otherwise deltas are held until they fill half the budget, then merged into a sorted run on
 *   disk; the runs (and the previous index) are merged by a streaming k-way merge that holds one
 *   page per run, in several passes when the runs are too many for the budget, into the final
 *   `SpilledIndex`.
 * A delta is decoded whole before it joins the merge, so the budget is exceeded by the largest
 * delta while the store opens (a batch worker's delta is as large as its batch).
 */
export class BudgetedMerge {
  private readonly parts: MergePart[] = [];
  /** intermediate runs this merge wrote: closed when it ends */
  private readonly runs = new Set<SpilledIndex>();
  private heldBytes = 0;

  constructor(
    private readonly dir: string,
    private readonly budget: number,
  ) {}

  add(part: MergePart): void {
    this.parts.push(part);
    if (part instanceof SpilledIndex) return;
    this.heldBytes += part.records.length;
    if (this.heldBytes > this.budget / 2 && this.total() * IN_MEMORY_BYTES_PER_BLOB > this.budget) {
      this.mergeRange(this.lastSpilled() + 1, this.parts.length);
      this.heldBytes = 0;
    }
  }

  /** The merged index; the parts given to `add` are left open (the caller owns them). */
  finish(): MergePart {
    try {
      if (this.lastSpilled() < 0 && this.total() * IN_MEMORY_BYTES_PER_BLOB <= this.budget)
        return IndexTable.merge(this.parts as IndexTable[]);
      // each spilled run holds one decrypted page while it is merged; the latest runs are merged
      // first: they are the small ones, the previous index (first) is rewritten only at the end
      const fanIn = Math.max(2, Math.floor(this.budget / 2 / CACHED_PAGE_COST));
      while (this.parts.filter((p) => p instanceof SpilledIndex).length > fanIn)
        this.mergeRange(this.parts.length - fanIn, this.parts.length);
      return mergeParts(this.parts, this.dir, { expected: this.total(), budget: this.budget });
    } finally {
      this.abort();
    }
  }

  /** Closes the runs this merge wrote (a failed refresh leaves none open) and drops the parts. */
  abort(): void {
    for (const run of this.runs) run.close();
    // the merged tables are garbage now, unless the caller holds them
    this.parts.length = 0;
    this.runs.clear();
  }

  private total(): number {
    return this.parts.reduce((n, p) => n + p.blobCount, 0);
  }

  private lastSpilled(): number {
    for (let i = this.parts.length - 1; i >= 0; i--) if (this.parts[i] instanceof SpilledIndex) return i;
    return -1;
  }

  /** Replaces parts [from, to) with one run on disk (no filter, no cache: read once, in order). */
  private mergeRange(from: number, to: number): void {
    const group = this.parts.slice(from, to);
    const expected = group.reduce((n, p) => n + p.blobCount, 0);
    const run = mergeParts(group, this.dir, { expected, budget: 0 });
    for (const p of group) {
      if (p instanceof SpilledIndex && this.runs.delete(p)) p.close();
    }
    this.runs.add(run);
    this.parts.splice(from, to - from, run);
  }
}

/** A k-way merge of sorted parts into a new spilled index. */
function mergeParts(parts: readonly MergePart[], dir: string, shape: SpillShape): SpilledIndex {
  const { packs, remaps } = unionPacks(parts);
  const writer = new SpillWriter(dir, shape);
  try {
    mergeSorted(parts, remaps, writer);
    return writer.finish(
      packs,
      unionIds(parts, (p) => p.snapshots),
      unionIds(parts, (p) => p.tombstones),
    );
  } catch (err) {
    writer.abort();
    throw err;
  }
}
