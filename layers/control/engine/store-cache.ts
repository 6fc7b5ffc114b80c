/**
 * Stores kept open between the calls of one process, as a warm Lambda sandbox keeps its memory:
 * opening a store reads its config and key slot, derives the key from the passphrase (scrypt) and
 * merges the index; a kept store is checked instead (a listing of the index, a look at its key slot).
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Store } from '../../kloset/index.js';
import type { ConnectorTarget } from './connector-target.js';

/** Idle stores kept: a task's store and one being browsed, or the two sides of a sync. */
const KEPT_STORES = 2;

export class StoreCache {
  /** idle stores by key, least recently used first (a Map iterates in insertion order) */
  private readonly idle = new Map<string, Store>();
  /**
   * Keys are HMACs under a key of this process alone: the cache holds neither a passphrase nor a
   * credential, nor a plain hash of one that could be guessed at offline.
   */
  private readonly keyKey = randomBytes(32);

  constructor(private readonly limit = KEPT_STORES) {}

  /** The key of a store: another location, option, key file or passphrase is another store. */
  keyOf(target: ConnectorTarget, passphrase: string): string {
    return createHmac('sha256', this.keyKey)
      .update(JSON.stringify([target.location, target.options, target.files, passphrase]))
      .digest('hex');
  }

  /**
   * The store kept under `key`, the caller's alone until it is kept again (the engine's Store is
   * not safe for two users at once: a refresh replaces the index another call reads). Before it
   * is handed out, its index is refreshed (other writers: a concurrent backup, a prune) and its
   * key slot must still be there (a passphrase removed from the store opens it no more); a kept
   * store that fails that (a connection lost meanwhile, a store replaced) is closed: none then.
   */
  async take(key: string): Promise<Store | undefined> {
    const store = this.idle.get(key);
    if (!store) return undefined;
    this.idle.delete(key);
    try {
      const { repo } = store;
      await repo.refreshIndex();
      if (repo.keySlot !== undefined && (await repo.backend.stat('keys', repo.keySlot)) === undefined)
        throw new Error('the key slot is gone');
    } catch {
      await closeQuietly(store);
      return undefined;
    }
    return store;
  }

  /** Closes every idle store (before opening another within a memory budget). */
  async closeIdle(): Promise<void> {
    const closing = [...this.idle.values()];
    this.idle.clear();
    await Promise.all(closing.map(closeQuietly));
  }

  /**
   * Keeps a store that served a call without error: one per key (another kept under it, opened
   * while this one was in use, is closed) and at most `limit`, the least recently used closed.
   */
  async keep(key: string, store: Store): Promise<void> {
    const closing: Store[] = [];
    const other = this.idle.get(key);
    if (other) closing.push(other);
    this.idle.delete(key);
    this.idle.set(key, store);
    for (const [oldest, kept] of this.idle) {
      if (this.idle.size <= this.limit) break;
      this.idle.delete(oldest);
      closing.push(kept);
    }
    await Promise.all(closing.map(closeQuietly));
  }
}

/** Closing a store we let go of: its failure (a connection already lost) is no one's concern. */
export async function closeQuietly(store: Store): Promise<void> {
  await store.close().catch(() => undefined);
}
