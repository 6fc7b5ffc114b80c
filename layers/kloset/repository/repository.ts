import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { DEFAULT_CHUNK_SIZES, FastCdc } from '../chunker/fastcdc.js';
import { decodePayload } from '../compression/codec.js';
import { AesGcmCipher, type BlobCipher, NullCipher } from '../crypto/blob-cipher.js';
import { DEFAULT_KDF, type KdfParams, type MasterKeys, generateMasterKeys } from '../crypto/keys.js';
import { StoreMac } from '../crypto/mac.js';
import type { StoreBackend } from '../core/store-backend.js';
import { KlosetError, corrupt, damagedAccessObject, errnoCode, errorText } from '../core/errors.js';
import { BLOB_TYPE_NAMES, type BlobType } from '../format/blob.js';
import type { BlobIndex } from '../index/blob-index.js';
import { BudgetedMerge } from '../index/budgeted-merge.js';
import { type DeltaListing, IndexCache } from '../index/index-cache.js';
import { openIndexDelta } from '../index/index-delta.js';
import { type BlobLocation, IndexTable } from '../index/index-table.js';
import { SpilledIndex } from '../index/spilled-index.js';
import { mapLimit } from '../core/concurrency.js';
import { decryptBlob, describeBlob, verifyBlobId } from '../pack/blob-opening.js';
import { type StoreConfig, openConfig, sealConfig } from './store-config.js';
import { unlockKeys, writeKeySlot } from './key-slots.js';
import { plannedPacks, readPrunePlans } from './prune-plans.js';

export interface CreateOptions {
  /** required unless `plaintext` */
  passphrase?: string;
  /** an unencrypted store: only by explicit choice */
  plaintext?: boolean;
  compression?: 'zstd' | 'none';
  compressionLevel?: number;
  /**
   * chunk sizes; with `seed` (another store's `config.chunking`), the same chunk boundaries as
   * that store, so sync copies blobs between them without re-chunking
   */
  chunking?: { min: number; avg: number; max: number; seed?: string };
  /** target pack size in bytes */
  packSize?: number;
  kdf?: KdfParams;
}

export interface OpenOptions {
  passphrase?: string;
  /** where the merged index is cached; no cache when absent */
  cacheDir?: string;
  /**
   * bytes of memory the merged index may hold; when the index is larger, its records live in
   * an encrypted file in `cacheDir` (required then; it may start empty, as /tmp in a Lambda)
   * and memory holds a filter, a page fence and a few pages. Default: no limit, all in memory.
   */
  indexMemoryBudget?: number;
}

export const DEFAULT_PACK_SIZE = 16 * 1024 * 1024;

function canaryOf(keys: MasterKeys, storeId: string): Buffer {
  return createHmac('sha256', keys.mac).update(`kloud canary ${storeId}`).digest();
}

/**
 * An open store: config, keys, and the merged index. Reads blobs; writers
 * (RepositoryWriter) add packs and index deltas.
 */
export class Repository {
  readonly mac: StoreMac;
  readonly cipher: BlobCipher;
  readonly chunker: FastCdc;
  private indexTable: IndexTable | SpilledIndex = IndexTable.empty();
  /** the deltas merged into `indexTable`, with the sizes they were listed with */
  private deltas: DeltaListing = new Map();
  private damaged = new Map<string, string>();
  private planned = new Set<string>();
  /** set when a listed delta was gone by the time it was read */
  private vanished = false;

  private constructor(
    readonly backend: StoreBackend,
    readonly config: StoreConfig,
    private readonly keys: MasterKeys,
    /** the key slot the passphrase opened (none for plaintext stores) */
    readonly keySlot: string | undefined,
    private readonly cacheDir: string | undefined,
    private readonly indexBudget: number | undefined,
  ) {
    this.mac = new StoreMac(keys.mac);
    this.cipher =
      config.encryption.algorithm === 'none' ? new NullCipher() : new AesGcmCipher(keys.encryption);
    this.chunker = new FastCdc(config.chunking);
  }

  static async create(backend: StoreBackend, opts: CreateOptions): Promise<StoreConfig> {
    if (!opts.plaintext && !opts.passphrase) {
      throw new KlosetError('PASSPHRASE_REQUIRED', 'a passphrase is required to create an encrypted store');
    }
    await backend.prepare();
    const storeId = randomBytes(16).toString('hex');
    const keys = generateMasterKeys();
    const kdf = opts.kdf ?? DEFAULT_KDF;
    const config: StoreConfig = {
      version: 1,
      storeId,
      createdAt: new Date().toISOString(),
      chunking: {
        algorithm: 'fastcdc',
        ...(opts.chunking ?? DEFAULT_CHUNK_SIZES),
        seed: opts.chunking?.seed ?? randomBytes(16).toString('hex'),
      },
      compression: { algorithm: opts.compression ?? 'zstd', level: opts.compressionLevel ?? 3 },
      mac: { algorithm: 'hmac-sha256' },
      encryption: opts.plaintext
        ? { algorithm: 'none', macKey: keys.mac.toString('base64') }
        : { algorithm: 'aes-256-gcm', kdf, canary: canaryOf(keys, storeId).toString('base64') },
      packing: { targetSize: opts.packSize ?? DEFAULT_PACK_SIZE },
    };
    const sealed = sealConfig(config);
    // validate before anything is written: bad chunking parameters fail here
    openConfig(Buffer.concat(sealed.parts), backend.location);
    if (!opts.plaintext) await writeKeySlot(backend, keys, opts.passphrase!, kdf, storeId);
    // the config goes last: its presence is what makes the location a store
    await backend.put('config', 'config', sealed.parts);
    return config;
  }

  static async readConfig(backend: StoreBackend): Promise<StoreConfig> {
    const data = await backend.get('config', 'config');
    try {
      return openConfig(data, backend.location);
    } catch (err) {
      throw damagedAccessObject(err, 'config');
    }
  }

  /** Opens the store at `backend`; `config` when the caller has read it already (`readConfig`). */
  static async open(backend: StoreBackend, opts: OpenOptions, config?: StoreConfig): Promise<Repository> {
    const budget = opts.indexMemoryBudget;
    if (budget !== undefined && !(Number.isSafeInteger(budget) && budget > 0)) {
      throw new KlosetError('INVALID_ARGUMENT', 'the index memory budget must be a positive number of bytes');
    }
    if (budget !== undefined && !opts.cacheDir) {
      throw new KlosetError('INVALID_ARGUMENT', 'an index memory budget needs a cache directory to spill to');
    }
    config ??= await Repository.readConfig(backend);
    let keys: MasterKeys;
    let slot: string | undefined;
    if (config.encryption.algorithm === 'none') {
      keys = { encryption: Buffer.alloc(32), mac: Buffer.from(config.encryption.macKey, 'base64') };
    } else {
      if (!opts.passphrase) {
        throw new KlosetError('PASSPHRASE_REQUIRED', `a passphrase is required to open ${backend.location}`);
      }
      ({ keys, slot } = await unlockKeys(backend, opts.passphrase, config.storeId));
      const canary = Buffer.from(config.encryption.canary, 'base64');
      const computed = canaryOf(keys, config.storeId);
      if (canary.length !== computed.length || !timingSafeEqual(canary, computed)) {
        throw corrupt(
          `the key slot opened but does not match the store config of ${backend.location} (damaged)`,
          undefined,
          'key slot',
        );
      }
    }
    const repo = new Repository(
      backend,
      config,
      keys,
      slot,
      opts.cacheDir && join(opts.cacheDir, config.storeId),
      opts.indexMemoryBudget,
    );
    await repo.refreshIndex();
    return repo;
  }

  /** Adds a key slot for another passphrase; returns its ID. */
  async addKeySlot(passphrase: string): Promise<string> {
    if (this.config.encryption.algorithm === 'none') {
      throw new KlosetError('INVALID_ARGUMENT', 'a plaintext store has no passphrases');
    }
    return writeKeySlot(this.backend, this.keys, passphrase, this.config.encryption.kdf, this.config.storeId);
  }

  get index(): BlobIndex {
    return this.indexTable;
  }

  /** The index memory budget the store was opened with and where its index spills; none without. */
  get indexSpill(): { readonly dir: string; readonly budget: number } | undefined {
    return this.indexBudget === undefined
      ? undefined
      : { dir: join(this.cacheDir!, 'index'), budget: this.indexBudget };
  }

  get indexDeltas(): readonly string[] {
    return [...this.deltas.keys()];
  }

  /** Packs a prune plan names: their blobs are about to go, so writers must not reuse them. */
  get plannedPacks(): ReadonlySet<string> {
    return this.planned;
  }

  /** Index deltas that could not be read, with the reason. */
  get damagedDeltas(): ReadonlyMap<string, string> {
    return this.damaged;
  }

  /**
   * Lists the index deltas and merges those not merged yet (starting from the cache when cold).
   * `fromStore` reads and authenticates every delta again, trusting neither memory nor the
   * cache: what `check` and `repair` judge must be what the store holds.
   */
  async refreshIndex(opts: { fromStore?: boolean } = {}): Promise<void> {
    // plans first: a pack planned after this read is covered by the grace period
    this.planned = plannedPacks((await readPrunePlans(this)).plans);
    // a prune replaces deltas by one consolidated delta written before them: a delta gone
    // between listing and reading means listing again finds its replacement
    for (let attempt = 1; ; attempt++) {
      this.vanished = false;
      await this.mergeListedDeltas(opts);
      if (!this.vanished) return;
      // merge everything again: the merge holds a delta read as empty
      this.deltas = new Map();
      if (attempt === 3)
        throw new KlosetError('UNAVAILABLE', 'the index kept changing while it was read: try again');
    }
  }

  private async mergeListedDeltas(opts: { fromStore?: boolean }): Promise<void> {
    const listed = new Map<string, number>();
    for await (const { name, size } of this.backend.list('index')) listed.set(name, size);
    const unchanged = (merged: Iterable<[string, number]>) =>
      [...merged].every(([name, size]) => listed.get(name) === size);
    if (opts.fromStore) {
      this.deltas = new Map();
      this.damaged.clear();
    } else if (listed.size === this.deltas.size && unchanged(this.deltas)) return;
    for (const name of this.damaged.keys()) if (!listed.has(name)) this.damaged.delete(name);
    // within a budget the merged cache is not used: it is read and written whole
    const cache =
      this.cacheDir && this.indexBudget === undefined && !opts.fromStore
        ? new IndexCache(join(this.cacheDir, 'index'), this.cipher, this.mac.authenticator)
        : undefined;
    let base: IndexTable | SpilledIndex | undefined;
    let covered = new Set<string>();
    if (this.deltas.size > 0 && unchanged(this.deltas)) {
      base = this.indexTable;
      covered = new Set(this.deltas.keys());
    } else {
      const cached = await cache?.load(listed);
      base = cached?.table;
      covered = cached?.covered ?? covered;
    }
    const previous = this.indexTable;
    const names = [...listed.keys()];
    const missing = names.filter((n) => !covered.has(n));
    const budget = this.indexBudget;
    if (budget !== undefined) {
      // within a budget, deltas are read one at a time: the merge spills what does not fit
      const { dir } = this.indexSpill!;
      const merge = new BudgetedMerge(dir, budget);
      // the local disk's failures (full, read-only) say where; the store's own errors pass as they are
      const spill = <T>(step: () => T): T => {
        try {
          return step();
        } catch (err) {
          if (err instanceof KlosetError || errnoCode(err) === undefined) throw err;
          throw new KlosetError('IO', `cannot spill the index to ${dir}: ${errorText(err)}`, { cause: err });
        }
      };
      try {
        if (base) spill(() => merge.add(base));
        for (const name of missing) {
          const delta = await this.loadDelta(name);
          spill(() => merge.add(delta));
        }
        this.indexTable = spill(() => merge.finish());
      } finally {
        merge.abort();
      }
    } else {
      const tables = await mapLimit(missing, 8, (name) => this.loadDelta(name));
      // without a budget nothing spills: the base is a table in memory
      this.indexTable = IndexTable.merge(base ? [base as IndexTable, ...tables] : tables);
    }
    // the replaced index is merged into the new one or read again: a spilled file goes now, not
    // when collected (has/find read `index` at each call, and every scan of blobs() runs without awaiting)
    if (previous !== this.indexTable) previous.close();
    this.deltas = listed;
    // the cache is an optimisation: failing to write it (read-only home, full disk) is not an error
    if (
      cache &&
      missing.length > 0 &&
      this.damaged.size === 0 &&
      !this.vanished &&
      this.indexTable instanceof IndexTable
    )
      await cache.save(listed, this.indexTable).catch(() => undefined);
  }

  private async loadDelta(name: string): Promise<IndexTable> {
    this.damaged.delete(name);
    try {
      return await openIndexDelta(
        await this.backend.get('index', name),
        name,
        this.cipher,
        this.mac.authenticator,
      );
    } catch (err) {
      // one damaged delta must not lock the user out of the store: its blobs look missing,
      // which check reports by snapshot and file
      if (!(err instanceof KlosetError) || err.code !== 'CORRUPT') throw err;
      if ((await this.backend.stat('index', name)) === undefined) this.vanished = true;
      else this.damaged.set(name, err.message);
      return IndexTable.empty();
    }
  }

  /** Releases the index's file, if it spilled, and the connection to the store. */
  async close(): Promise<void> {
    this.indexTable.close();
    await this.backend.close();
  }

  locate(id: Buffer, what: string): BlobLocation {
    const loc = this.indexTable.find(id);
    if (!loc)
      throw corrupt(
        `${what} ${id.toString('hex').slice(0, 12)} is not in the index (missing from the store)`,
      );
    return loc;
  }

  /** Reads, decrypts, decompresses and verifies one blob. */
  async loadBlob(id: Buffer, type: BlobType): Promise<Buffer> {
    const what = `${BLOB_TYPE_NAMES[type]} blob`;
    const loc = this.locate(id, what);
    const sealed = await this.backend.getRange('packs', loc.pack.name, loc.offset, loc.length);
    return this.openBlob(loc, sealed);
  }

  async openBlob(loc: BlobLocation, sealed: Buffer): Promise<Buffer> {
    const what = describeBlob(loc);
    const plain = await decodePayload(decryptBlob(this.cipher, loc, sealed, what), what);
    return verifyBlobId(this.mac, loc, plain, what);
  }
}
