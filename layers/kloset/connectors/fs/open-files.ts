import { closeSync, openSync, readSync } from 'node:fs';
import { rangeTarget } from '../../core/store-backend.js';

/** Read descriptors kept open: a restore or check reads many ranges of the same packs. */
const MAX_OPEN = 32;

/**
 * A small LRU of read-only file descriptors with synchronous positional reads. Reads of packs
 * come from the page cache or a local disk; a synchronous pread costs microseconds, where the
 * promise API costs a thread-pool round trip per read (the wake-ups dominated restore time).
 */
export class OpenFiles {
  private readonly fds = new Map<string, number>();

  /** `length` bytes at `offset`, read into `into` when it is given and large enough. */
  read(path: string, offset: number, length: number, into?: Buffer): Buffer {
    let fd = this.fds.get(path);
    if (fd === undefined) {
      fd = openSync(path, 'r');
      if (this.fds.size >= MAX_OPEN) {
        const [oldest, oldFd] = this.fds.entries().next().value!;
        this.fds.delete(oldest);
        closeSync(oldFd);
      }
    } else {
      this.fds.delete(path); // re-insert: the map's order is the recency order
    }
    this.fds.set(path, fd);
    const buf = rangeTarget(length, into);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, buf, got, length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return got === length ? buf : buf.subarray(0, got);
  }

  closeAll(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}
