/**
 * Bounded concurrency primitives for the pipelines: a counting semaphore, a pool of buffers, and
 * `mapLimit` which keeps at most `limit` calls in flight and returns results in input order.
 */
export class Semaphore {
  /** FIFO of waiters; `head` advances instead of shift(), which is O(n) on long queues */
  private waiting: (() => void)[] = [];
  private head = 0;
  private free: number;

  constructor(limit: number) {
    this.free = limit;
  }

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting[this.head];
    if (!next) {
      this.free++;
      return;
    }
    this.waiting[this.head++] = undefined as never;
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    }
    next();
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}

/**
 * A fixed number of equal buffers, allocated on first use and then handed round: the memory of
 * a pipeline's data in flight, bounded, without allocating (and freeing) a buffer per use.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  private readonly waiting: ((buffer: Buffer) => void)[] = [];
  private created = 0;

  constructor(
    readonly size: number,
    private readonly count: number,
  ) {}

  /** A free buffer; waits while all of them are taken. */
  async take(): Promise<Buffer> {
    const buffer = this.free.pop();
    if (buffer) return buffer;
    if (this.created < this.count) {
      this.created++;
      // allocUnsafeSlow: a buffer of its own, never a slice of Node's shared pool
      return Buffer.allocUnsafeSlow(this.size);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  give(buffer: Buffer): void {
    const next = this.waiting.shift();
    if (next) next(buffer);
    else this.free.push(buffer);
  }

  /**
   * Takes back a buffer that may have been moved to a worker thread (`transfer`): the buffer
   * itself when it stayed here, else what the thread moved back (a view of the same memory), or
   * nothing when it was lost with the thread.
   */
  reclaim(buffer: Buffer, returned: Uint8Array | undefined): void {
    const moved = buffer.buffer.byteLength === 0;
    if (!moved) this.give(buffer);
    else if (returned) this.give(Buffer.from(returned.buffer, 0, returned.buffer.byteLength));
    else this.lose();
  }

  /** A taken buffer will not come back (its holder failed): one may be allocated in its place. */
  lose(): void {
    this.created--;
    if (this.waiting.length > 0) {
      this.created++;
      this.waiting.shift()!(Buffer.allocUnsafeSlow(this.size));
    }
  }
}

/**
 * Buffers of finished work, kept for the next: fresh memory costs a page fault per 4 KiB (on
 * this project's VMs, half a second of CPU per 450 MB), reused memory nothing. `take` reuses a
 * kept buffer large enough or allocates one; at most `keep` are kept, so this never holds more
 * than what was once in use at the same time.
 */
export class SpareBuffers {
  private readonly kept: Buffer[] = [];

  constructor(private readonly keep: number) {}

  take(size: number): Buffer {
    const i = this.kept.findIndex((b) => b.length >= size);
    // allocUnsafeSlow: memory of its own, never a slice of Node's shared pool
    return i >= 0 ? this.kept.splice(i, 1)[0]! : Buffer.allocUnsafeSlow(size);
  }

  /** Hands buffers back; nothing may read or write them after. */
  give(...buffers: Buffer[]): void {
    for (const b of buffers) if (this.kept.length < this.keep) this.kept.push(b);
  }
}

export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
