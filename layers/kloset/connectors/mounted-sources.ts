import type { BackupSource, ByteRange, SourceEntry, WalkedSourceEntry } from '../core/backup-source.js';

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

  /** The connector and its own path for a snapshot path, and the mount's name for a mounted one. */
  private route(path: string): { source: BackupSource; inner: string; mount?: string } {
    const [first, ...rest] = path.split('/').filter(Boolean);
    const mounted = first === undefined ? undefined : this.mounts.get(first);
    if (!mounted) return { source: this.local, inner: path };
    return { source: mounted, inner: `/${rest.join('/')}`, mount: first };
  }

  async stat(path: string): Promise<SourceEntry> {
    const { source, inner, mount } = this.route(path);
    const entry = await source.stat(inner);
    return mount !== undefined && inner === '/' ? { ...entry, name: mount } : entry;
  }

  list(dir: string): Promise<SourceEntry[]> {
    const { source, inner } = this.route(dir);
    return source.list(inner);
  }

  localPath(path: string): string | undefined {
    const { source, inner } = this.route(path);
    return source.localPath?.(inner);
  }

  read(path: string, size: number, range?: ByteRange): AsyncIterable<Buffer> {
    const { source, inner } = this.route(path);
    return source.read(inner, size, range);
  }

  walk(dir: string, after?: string): AsyncIterable<WalkedSourceEntry> | undefined {
    const { source, inner, mount } = this.route(dir);
    if (mount === undefined) return source.walk?.(dir, after);
    const mountPath = `/${mount}`;
    const walked = source.walk?.(inner, after?.slice(mountPath.length));
    return walked && withPrefix(walked, mountPath);
  }
}

async function* withPrefix(
  walked: AsyncIterable<WalkedSourceEntry>,
  mountPath: string,
): AsyncGenerator<WalkedSourceEntry> {
  for await (const { path, entry } of walked) yield { path: `${mountPath}${path}`, entry };
}
