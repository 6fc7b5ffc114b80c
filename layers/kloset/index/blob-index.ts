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
  /** Every blob, in ID order. */
  blobs(): Iterable<BlobLocation>;
  /** Releases what the index holds outside the heap (a file); the index is unusable after. */
  close(): void;
}
