import type {
  BackupSource,
  ByteRange,
  SourceEntry,
  WalkedSourceEntry,
} from '../../layers/kloset/core/backup-source.js';

/**
 * A backup source that counts the content bytes read through it: the benchmark's "GB read" is
 * what the workers really fetched from the source, ranges included, not what the plan expected.
 */
export class ReadCountingSource implements BackupSource {
  bytesRead = 0;

  constructor(private readonly inner: BackupSource) {}

  stat(path: string): Promise<SourceEntry> {
    return this.inner.stat(path);
  }

  list(dir: string): Promise<SourceEntry[]> {
    return this.inner.list(dir);
  }

  async *read(path: string, size: number, range?: ByteRange): AsyncIterable<Buffer> {
    for await (const chunk of this.inner.read(path, size, range)) {
      this.bytesRead += chunk.length;
      yield chunk;
    }
  }

  walk(dir: string, after?: string): AsyncIterable<WalkedSourceEntry> | undefined {
    return this.inner.walk?.(dir, after);
  }

  localPath(path: string): string | undefined {
    return this.inner.localPath?.(path);
  }
}
