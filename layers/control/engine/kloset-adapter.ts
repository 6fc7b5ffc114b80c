/**
 * The control plane's only door to the Kloset engine: every engine call goes through here, so a
 * change of the engine's location or opening API is a change of this file alone.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type BackupCounts,
  backupBatch,
  batchBytes,
  type BackupSource,
  type BatchResult,
  commitSnapshot,
  connectStore,
  KlosetError,
  type Location,
  type LocationState,
  openDestination,
  openSources,
  parseLocation,
  parsePlanCursor,
  parseWorkBatch,
  type PlanCursor,
  planBackup,
  type RestoreDestination,
  type RestoreResult,
  type SnapshotError,
  type SnapshotRecord,
  type Store,
  type StoreConnection,
  syncSnapshots,
  type SyncResult,
  TarDestination,
  type WorkBatch,
} from '../../kloset/index.js';
import type { ConnectorTarget } from './connector-target.js';
import { closeQuietly, StoreCache } from './store-cache.js';

export type {
  BackupCounts,
  BackupSource,
  BatchResult,
  LocationState,
  PlanCursor,
  RestoreDestination,
  RestoreResult,
  SnapshotError,
  SnapshotRecord,
  Store,
  SyncResult,
  WorkBatch,
};
export {
  backupBatch,
  batchBytes,
  commitSnapshot,
  KlosetError,
  parsePlanCursor,
  parseWorkBatch,
  planBackup,
  syncSnapshots,
  TarDestination,
};

export class KlosetAdapter {
  /**
   * A call the Lambda timeout kills never reaches its `finally`: the keys it wrote would stay in
   * the sandbox. The adapter is made once per cold start, so that is when leftovers are removed.
   */
  private readonly swept: Promise<void>;
  /** stores kept open between calls, while the process (a warm sandbox) lives */
  private readonly stores = new StoreCache();

  constructor(
    private readonly cacheDir: string,
    /** bytes of index a worker may hold in memory (the rest spills under cacheDir); none: no limit */
    private readonly indexMemoryBudget?: number,
  ) {
    this.swept = rm(join(cacheDir, 'connector'), { recursive: true, force: true }).catch(() => undefined);
  }

  /**
   * What is at the target; where a store is, also opens it with `passphrase` (WRONG_PASSPHRASE
   * when it does not), on the same connection: one handshake, one read of the config.
   */
  test(target: ConnectorTarget, passphrase: string): Promise<LocationState> {
    return this.connected(target, async (connection) => {
      const state = await connection.probe();
      if (state === 'store') {
        const store = await connection.unlock({ passphrase, cacheDir: join(this.cacheDir, 'index') });
        await store.close();
      }
      return state;
    });
  }

  /**
   * Creates a store where nothing is yet (`absent` or `empty`), on the connection that looked:
   * answers what is there when it did not create one (`store` or `other`), else `created`.
   */
  initialize(target: ConnectorTarget, passphrase: string): Promise<LocationState | 'created'> {
    return this.connected(target, async (connection) => {
      const state = await connection.probe();
      if (state === 'store' || state === 'other') return state;
      await connection.create({ passphrase });
      return 'created';
    });
  }

  /**
   * Runs `call` on the store at the target. The store stays open after a call that succeeded, for
   * the next call with the same target and passphrase in this process (StoreCache: its index is
   * refreshed before each use); a call that failed closes it. The merged index is cached and,
   * with a budget, spilled under the cache folder. A budget is the function's memory for one
   * store at a time: idle stores are closed before another is opened.
   */
  async withStore<T>(
    target: ConnectorTarget,
    passphrase: string,
    call: (store: Store) => Promise<T>,
  ): Promise<T> {
    const key = this.stores.keyOf(target, passphrase);
    let store = await this.stores.take(key);
    if (!store) {
      if (this.indexMemoryBudget !== undefined) await this.stores.closeIdle();
      store = await this.open(target, passphrase);
    }
    let result: T;
    try {
      result = await call(store);
    } catch (err) {
      await closeQuietly(store);
      throw err;
    }
    await this.stores.keep(key, store);
    return result;
  }

  /** Opens the store at the target; its key files are needed only while it connects. */
  private open(target: ConnectorTarget, passphrase: string): Promise<Store> {
    return this.connected(target, (connection) =>
      connection.unlock({
        passphrase,
        cacheDir: join(this.cacheDir, 'index'),
        ...(this.indexMemoryBudget !== undefined && { indexMemoryBudget: this.indexMemoryBudget }),
      }),
    );
  }

  /** Opens the target as a restore destination (not a store) for the duration of `call`. */
  withDestination<T>(target: ConnectorTarget, call: (dest: RestoreDestination) => Promise<T>): Promise<T> {
    return this.located(target, async (location) => {
      const dest = await openDestination(location);
      try {
        return await call(dest);
      } finally {
        await dest.close();
      }
    });
  }

  /**
   * Opens the target as a backup source (not a store) for the duration of `call`, with the path
   * its place has in a snapshot (`/s3:BUCKET/prefix`, `/sftp:HOST/path`, a local path).
   */
  withSource<T>(
    target: ConnectorTarget,
    call: (source: BackupSource, path: string) => Promise<T>,
  ): Promise<T> {
    return this.located(target, async (location) => {
      const opened = await openSources([location]);
      try {
        return await call(opened.source, opened.paths[0]!);
      } finally {
        await opened.close();
      }
    });
  }

  /** Connects to the target for one call. */
  private connected<T>(target: ConnectorTarget, call: (c: StoreConnection) => Promise<T>): Promise<T> {
    return this.located(target, async (location) => {
      const connection = await connectStore(location);
      try {
        return await call(connection);
      } finally {
        await connection.close();
      }
    });
  }

  /**
   * The target's location for one call, its files (a key, known_hosts) written in a private
   * folder for the call's duration only.
   */
  private async located<T>(target: ConnectorTarget, call: (location: Location) => Promise<T>): Promise<T> {
    const names = Object.keys(target.files);
    const dir = join(this.cacheDir, 'connector', randomUUID());
    const options = { ...target.options };
    await this.swept;
    try {
      if (names.length > 0) await mkdir(dir, { recursive: true, mode: 0o700 });
      for (const name of names) {
        options[name] = join(dir, name);
        await writeFile(options[name], target.files[name]!, { mode: 0o600 });
      }
      return await call(parseLocation(target.location, options));
    } finally {
      if (names.length > 0) await rm(dir, { recursive: true, force: true });
    }
  }
}
