import type { BackupSource, SourceEntry } from '../core/backup-source.js';

/**
 * Several connectors as one backup source, so one snapshot can hold `/etc`, an S3 prefix and an
 * SFTP directory side by side. Local paths keep their absolute paths; a remote source sits under
 * one top-level directory named after it (`/s3:bucket/...`, `/sftp:host/...`), its "mount".
 */
export class MountedSources implements BackupSource {
  constructor(
    private readonly local: BackupSource,
    private readonly mounts: ReadonlyMap<string, BackupSource>,
  ) {}

  /** The connector and its own path for a snapshot path; `top` when the path is a mount itself. */
  private route(path: string): { source: BackupSource; inner: string; top?: string } {
    const [first, ...rest] = path.split('/').filter(Boolean);
    const mounted = first === undefined ? undefined : this.mounts.get(first);
    if (!mounted) return { source: this.local, inner: path };
    return { source: mounted, inner: `/${rest.join('/')}`, ...(rest.length === 0 && { top: first }) };
  }

  async stat(path: string): Promise<SourceEntry> {
    const { source, inner, top } = this.route(path);
    const entry = await source.stat(inner);
    return top === undefined ? entry : { ...entry, name: top };
  }

  list(dir: string): Promise<SourceEntry[]> {
    const { source, inner } = this.route(dir);
    return source.list(inner);
  }

  localPath(path: string): string | undefined {
    const { source, inner } = this.route(path);
    return source.localPath?.(inner);
  }

  read(path: string, size: number): AsyncIterable<Buffer> {
    const { source, inner } = this.route(path);
    return source.read(inner, size);
  }
}
