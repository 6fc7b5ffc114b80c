/**
 * Blob types. The type is part of the AEAD associated data, so a tree can never be passed off as
 * file content or the other way round, and it decides which pack kind a blob goes to.
 */
export enum BlobType {
  Data = 1,
  Tree = 2,
  Snapshot = 3,
  /** the encrypted index at the end of a pack */
  PackIndex = 4,
  /** the body of an index delta object */
  IndexDelta = 5,
  /** the result of one batch of a distributed backup, read by its commit step */
  PartialTree = 6,
}

export const BLOB_TYPE_NAMES: Record<BlobType, string> = {
  [BlobType.Data]: 'data',
  [BlobType.Tree]: 'tree',
  [BlobType.Snapshot]: 'snapshot',
  [BlobType.PackIndex]: 'pack index',
  [BlobType.IndexDelta]: 'index delta',
  [BlobType.PartialTree]: 'partial tree',
};

export function isBlobType(v: number): v is BlobType {
  return v >= BlobType.Data && v <= BlobType.PartialTree;
}

/** Pack kinds: content goes to data packs, everything needed to browse a store to metadata packs. */
export enum PackKind {
  Data = 0,
  Metadata = 1,
}

export function packKindOf(type: BlobType): PackKind {
  return type === BlobType.Data ? PackKind.Data : PackKind.Metadata;
}
