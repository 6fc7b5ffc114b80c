import type { SftpSession } from './sftp-session.js';

/** Read handles kept open per store; OpenSSH allows a few hundred per session. */
const MAX_OPEN = 16;

interface OpenFile {
  readonly handle: Promise<Buffer>;
  /** reads in progress: a handle in use is never closed under them */
  users: number;
}

/**
 * A small LRU of open read handles: a restore or a check reads many ranges of the same packs,
 * and an open and a close cost a round trip each, twice the read itself.
 */
export class ReadHandles {
  /** in recency order, oldest first */
  private readonly files = new Map<string, OpenFile>();

  constructor(private readonly session: SftpSession) {}

  async read(path: string, offset: number, length: number, into?: Buffer): Promise<Buffer> {
    let file = this.files.get(path);
    if (file) this.files.delete(path);
    else file = { handle: this.session.open(path, 'r'), users: 0 };
    this.files.set(path, file);
    file.users++;
    try {
      return await this.session.readAt(await file.handle, path, offset, length, into);
    } catch (err) {
      this.forget(path, file);
      throw err;
    } finally {
      file.users--;
      if (this.files.get(path) !== file) this.closeIfIdle(path, file);
      this.evict();
    }
  }

  /** Drops `path`'s handle (the file was removed, or a read of it failed). */
  forget(path: string, file = this.files.get(path)): void {
    if (!file || this.files.get(path) !== file) return;
    this.files.delete(path);
    this.closeIfIdle(path, file);
  }

  private evict(): void {
    for (const [path, file] of this.files) {
      if (this.files.size <= MAX_OPEN) return;
      if (file.users === 0) this.forget(path, file);
    }
  }

  /** Closes a handle no longer in the map once nobody reads through it (its last reader calls again). */
  private closeIfIdle(path: string, file: OpenFile): void {
    if (file.users > 0) return;
    void file.handle.then((h) => this.session.closeHandle(h, path)).catch(() => undefined);
  }

  /** Forgets every handle; closing the session releases them on the server. */
  clear(): void {
    this.files.clear();
  }
}
