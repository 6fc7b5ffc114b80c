/**
 * What a store needs from where it lives: a handful of write-once object operations
 * (as restic's backends). Object names are content hashes, so `put` of a name that exists is a
 * no-op by construction; `config` is the one object whose existence means "a store is here".
 */
export type ObjectKind = 'config' | 'keys' | 'index' | 'packs' | 'plans';
/** The kinds that hold many objects; `config` is one object, read with stat/get. */
export type ListedKind = Exclude<ObjectKind, 'config'>;

export interface ObjectInfo {
  readonly name: string;
  readonly size: number;
  /** in archive storage (S3 Glacier): reading it needs a retrieval first (see `thaw`) */
  readonly archived?: boolean;
  /** the archive class of an archived object: what deleting it early costs */
  readonly archive?: ArchiveTerms;
  /** when it was written (ms since the epoch), where the store lists it */
  readonly modifiedAt?: number;
}

export interface PutOptions {
  /**
   * Only restores and `check --read-data` read this object (a data pack), so a store may keep it
   * in archive storage; everything needed to browse a store stays readable at once.
   */
  readonly archivable?: boolean;
}

/** How fast (and how dearly) an archived object is made readable again. */
export type RetrievalTier = 'expedited' | 'standard' | 'bulk';

export interface TierTerms {
  /** typical time from the request until the copy is readable */
  readonly hours: readonly [min: number, max: number];
  readonly usdPerGiB: number;
  readonly usdPer1000Requests: number;
}

/** One archive class: its name for messages and the tiers it offers (a missing tier is not offered). */
export interface ArchiveTerms {
  readonly name: string;
  readonly tiers: Partial<Record<RetrievalTier, TierTerms>>;
  /** an object deleted younger than this is billed as if stored this long */
  readonly minimumStorageDays: number;
  readonly usdPerGiBMonth: number;
}

/**
 * Readable now (not archived, or a retrieved copy), being retrieved, or archived with no
 * retrieval asked for; `archive` is the archive class of archived objects.
 */
export type ThawState =
  | { readonly state: 'ready'; readonly archive?: ArchiveTerms }
  | { readonly state: 'pending' | 'frozen'; readonly archive: ArchiveTerms };

export interface ThawOptions {
  readonly tier: RetrievalTier;
  /** how long the retrieved copy stays readable */
  readonly days: number;
}

/** A file of a write in progress, or of a writer killed mid-write, in a store's `tmp/`. */
export interface TemporaryFile {
  readonly name: string;
  readonly size: number;
  readonly modified: Date;
}

/** What is at a location: nothing, an empty place, a store, or something else. */
export type LocationState = 'absent' | 'empty' | 'store' | 'other';

/** Where `getRange` puts `length` bytes: the caller's `into` when it is given and large enough. */
export function rangeTarget(length: number, into: Buffer | undefined): Buffer {
  return into && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length);
}

export interface StoreBackend {
  /** The location as the user gave it, for messages. */
  readonly location: string;
  /** Stores in a directory of this machine only: its absolute path (a restore must not write there). */
  readonly localRoot?: string;
  /** Looks without changing anything (before asking for a passphrase, for instance). */
  probe(): Promise<LocationState>;
  /** Prepares an empty location; fails with STORE_EXISTS where a store or other data is. */
  prepare(): Promise<void>;
  /** Writes an object once; never replaces an existing object. */
  put(kind: ObjectKind, name: string, parts: readonly Buffer[], opts?: PutOptions): Promise<void>;
  get(kind: ObjectKind, name: string): Promise<Buffer>;
  /**
   * `length` bytes from `offset` (fewer at the end of the object). With `into` (at least `length`
   * bytes) a connector that reads into memory it chooses reads into it and returns a view of it:
   * a caller reading many large ranges reuses its buffers instead of faulting in fresh memory
   * for each. The bytes are always those returned, whichever memory holds them.
   */
  getRange(kind: ObjectKind, name: string, offset: number, length: number, into?: Buffer): Promise<Buffer>;
  /** Size of an object, or undefined when it does not exist. */
  stat(kind: ObjectKind, name: string): Promise<number | undefined>;
  list(kind: ListedKind): AsyncIterable<ObjectInfo>;
  delete(kind: ObjectKind, name: string): Promise<void>;
  /** Stores with archive storage only: where an object stands (no data is read). */
  thawState?(kind: ObjectKind, name: string): Promise<ThawState>;
  /**
   * Stores with archive storage only: asks for a readable copy of a frozen object; a retrieval
   * already in progress or done is not an error.
   */
  thaw?(kind: ObjectKind, name: string, opts: ThawOptions): Promise<void>;
  /**
   * Stores that write through `tmp/` (local, SFTP) only: its files. A killed writer leaves its
   * file there; nothing reads them, so they can go once no writer can still be using them.
   */
  listTemporary?(): AsyncIterable<TemporaryFile>;
  /** Removes one file of `tmp/` (gone already is not an error). */
  removeTemporary?(name: string): Promise<void>;
  /** Releases connections and open files. */
  close(): Promise<void>;
}
