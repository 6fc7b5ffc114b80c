import { type FileHandle, open } from 'node:fs/promises';

/** Read handles kept open: a restore or check reads many ranges of the same packs. */
const MAX_OPEN = 32;

interface Slot {
  readonly handle: Promise<FileHandle>;
  users: number;
}

/**
 * A small LRU of read-only file handles. A handle is closed only when no read is using it, so
 * positional reads can share one handle safely.
 */
export class OpenFiles {
  private readonly slots = new Map<string, Slot>();

  async use<T>(path: string, fn: (fh: FileHandle) => Promise<T>): Promise<T> {
    let slot = this.slots.get(path);
    if (slot) {
      this.slots.delete(path); // re-insert: the map's order is the recency order
    } else {
      slot = { handle: open(path, 'r'), users: 0 };
      slot.handle.catch(() => this.slots.delete(path));
    }
    this.slots.set(path, slot);
    slot.users++;
    try {
      return await fn(await slot.handle);
    } finally {
      slot.users--;
      this.evict();
    }
  }

  private evict(): void {
    for (const [path, slot] of this.slots) {
      if (this.slots.size <= MAX_OPEN) return;
      if (slot.users > 0) continue;
      this.slots.delete(path);
      void slot.handle.then((fh) => fh.close()).catch(() => undefined);
    }
  }

  async closeAll(): Promise<void> {
    const all = [...this.slots.values()];
    this.slots.clear();
    await Promise.all(all.map((s) => s.handle.then((fh) => fh.close()).catch(() => undefined)));
  }
}
