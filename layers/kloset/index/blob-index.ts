import type { BlobLocation, PackInfo } from './index-table.js';

/**
 * The merged index as its users see it, whether the records live in memory (`IndexTable`, the
 * default) or in a file of sealed pages within a memory budget (`SpilledIndex`).
 */
export interface BlobIndex {
  readonly packs: readonly PackInfo[];
  readonly snapshots: readonly string[];
  readonly tombstones: readonly string[];
  readonly blobCount: number;
  /** Whether the blob is indexed: the dedup question, on the hot path of a backup. */
  has(id: Buffer): boolean;
  find(id: Buffer): BlobLocation | undefined;
  /** The blob's rank in ID order (0 for the first blob), or -1: a key for a bitmap of blobs. */
  position(id: Buffer): number;
  /**
   * `position` of each ID packed end to end in `ids` (`ID_SIZE` bytes each, in any order), in
   * their order: a spilled index reads each of its pages at most once per call, where lookups one
   * at a time in random order read a page nearly every time.
   */
  positionsOf(ids: Buffer): Int32Array;
  /** Every blob, in ID order. */
  blobs(): Iterable<BlobLocation>;
  /** The records in ID order, as runs of `RECORD_SIZE`-byte records (one run, or one per page). */
  recordPages(): Iterable<Buffer>;
  /** Releases what the index holds outside the heap (a file); the index is unusable after. */
  close(): void;
}
