/**
 * What a store needs from where it lives: a handful of write-once object operations
 * (as restic's backends). Object names are content hashes, so `put` of a name that exists is a
 * no-op by construction; `config` is the one object whose existence means "a store is here".
 */
export type ObjectKind = 'config' | 'keys' | 'index' | 'packs';
/** The kinds that hold many objects; `config` is one object, read with stat/get. */
export type ListedKind = Exclude<ObjectKind, 'config'>;

export interface ObjectInfo {
  readonly name: string;
  readonly size: number;
}

/** What is at a location: nothing, an empty place, a store, or something else. */
export type LocationState = 'absent' | 'empty' | 'store' | 'other';

export interface StoreBackend {
  /** The location as the user gave it, for messages. */
  readonly location: string;
  /** Looks without changing anything (before asking for a passphrase, for instance). */
  probe(): Promise<LocationState>;
  /** Prepares an empty location; fails with STORE_EXISTS where a store or other data is. */
  prepare(): Promise<void>;
  /** Writes an object once; never replaces an existing object. */
  put(kind: ObjectKind, name: string, parts: readonly Buffer[]): Promise<void>;
  get(kind: ObjectKind, name: string): Promise<Buffer>;
  getRange(kind: ObjectKind, name: string, offset: number, length: number): Promise<Buffer>;
  /** Size of an object, or undefined when it does not exist. */
  stat(kind: ObjectKind, name: string): Promise<number | undefined>;
  list(kind: ListedKind): AsyncIterable<ObjectInfo>;
  delete(kind: ObjectKind, name: string): Promise<void>;
  /** Releases connections and open files. */
  close(): Promise<void>;
}
