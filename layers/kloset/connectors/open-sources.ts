import type { BackupSource } from '../core/backup-source.js';
import { KlosetError } from '../core/errors.js';
import {
  type LocationInput,
  type S3Location,
  type SftpLocation,
  formatLocation,
  refuseLocalOptions,
} from '../core/location.js';
import { FsSource } from './fs/fs-source.js';
import { MountedSources } from './mounted-sources.js';
import { locationOf } from './open-location.js';

/** What a backup of several places reads: the snapshot paths, and one source serving them all. */
export interface OpenedSources {
  /** the snapshot path of each place, in order: `/etc`, `/s3:bucket/logs` */
  readonly paths: string[];
  readonly source: BackupSource;
  /** releases the remote connectors' connections */
  close(): Promise<void>;
}

interface Mount {
  readonly source: BackupSource & { close(): Promise<void> };
  /** the settings it was opened with: one mount serves one set of settings */
  readonly key: string;
}

/**
 * Opens the places of one backup. Local paths are backed up under their absolute paths; each
 * bucket is mounted once at `/s3:BUCKET` and each SFTP host at `/sftp:HOST`, their paths below,
 * so two places of one bucket or host share a connection and sit side by side in the snapshot.
 */
export async function openSources(places: readonly LocationInput[]): Promise<OpenedSources> {
  const mounts = new Map<string, Mount>();
  const paths: string[] = [];
  try {
    for (const place of places) {
      const location = locationOf(place);
      if (location.scheme === 'fs') {
        refuseLocalOptions('sources', location);
        paths.push(location.path);
      } else {
        const { name, root, below } = remoteMount(location);
        await mount(mounts, name, formatLocation(root, { withOptions: true }), async () =>
          root.scheme === 's3'
            ? new (await import('./s3/s3-source.js')).S3Source(root)
            : new (await import('./sftp/sftp-source.js')).SftpSource(root),
        );
        paths.push(`/${name}${below}`);
      }
    }
  } catch (err) {
    await closeAll(mounts);
    throw err;
  }
  const source =
    mounts.size === 0
      ? new FsSource()
      : new MountedSources(new FsSource(), new Map([...mounts].map(([name, m]) => [name, m.source])));
  return { paths, source, close: () => closeAll(mounts) };
}

/**
 * Where a remote place sits in the snapshot: the mount's top-level name, the connector's root
 * (the bucket, the server's root, or the login directory for `sftp://h/~/x`), and the place's
 * path below the mount.
 */
export function remoteMount(location: S3Location | SftpLocation): {
  name: string;
  root: S3Location | SftpLocation;
  below: string;
} {
  const name = location.scheme === 's3' ? `s3:${location.bucket}` : `sftp:${location.host}`;
  const fromHome = location.scheme === 'sftp' && /^\/~(\/|$)/.test(location.path);
  const rootPath = fromHome ? '/~' : '/';
  const below = location.path === rootPath ? '' : location.path.slice(fromHome ? 2 : 0);
  return { name, root: { ...location, path: rootPath }, below };
}

async function mount(
  mounts: Map<string, Mount>,
  name: string,
  key: string,
  open: () => Promise<Mount['source']>,
): Promise<void> {
  const existing = mounts.get(name);
  if (existing && existing.key !== key)
    throw new KlosetError(
      'INVALID_ARGUMENT',
      `${name} is given twice with different settings; give each one once`,
    );
  if (!existing) mounts.set(name, { source: await open(), key });
}

async function closeAll(mounts: ReadonlyMap<string, Mount>): Promise<void> {
  await Promise.all([...mounts.values()].map((m) => m.source.close()));
}
