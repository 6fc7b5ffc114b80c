import { KlosetError } from '../core/errors.js';
import type { BackupSource } from '../core/backup-source.js';
import { FsSource } from './fs/fs-source.js';
import { localPathOf, refuseLocalOptions, schemeOf } from './location-scheme.js';
import { MountedSources } from './mounted-sources.js';
import type { ConnectorOptions } from './open-location.js';
import { parseS3Location } from './s3/s3-options.js';
import { parseSftpLocation } from './sftp/sftp-options.js';

/** One place to back up: a location and its connector's settings. */
export interface SourcePlace {
  readonly location: string;
  readonly options?: ConnectorOptions;
}

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
export async function openSources(places: readonly SourcePlace[]): Promise<OpenedSources> {
  const mounts = new Map<string, Mount>();
  const paths: string[] = [];
  try {
    for (const place of places) {
      const options = place.options ?? {};
      const scheme = schemeOf(place.location);
      if (scheme === 'fs') {
        refuseLocalOptions('sources', options);
        paths.push(localPathOf(place.location));
      } else {
        const { name, root, below } = remoteMount(scheme, place.location, options);
        await mount(mounts, name, JSON.stringify([root, options]), async () =>
          scheme === 's3'
            ? new (await import('./s3/s3-source.js')).S3Source(root, options)
            : new (await import('./sftp/sftp-source.js')).SftpSource(root, options),
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

/** A URL's settings without its path: `s3://b/p?k=v` → `s3://b?k=v`, plus `suffix` as the path. */
const rootOf = (location: string, suffix = ''): string =>
  location.replace(/^([a-z0-9]+:\/\/[^/?#]*)[^?#]*/i, `$1${suffix}`);

/**
 * Where a remote place sits in the snapshot: the mount's top-level name, the connector's root,
 * and the place's path below the mount. An SFTP path under the login directory (`sftp://h/~/x`)
 * is mounted at the login directory.
 */
function remoteMount(
  scheme: 's3' | 'sftp',
  location: string,
  options: ConnectorOptions,
): { name: string; root: string; below: string } {
  if (scheme === 's3') {
    const { bucket, prefix } = parseS3Location(location, options);
    return { name: `s3:${bucket}`, root: rootOf(location), below: prefix ? `/${prefix}` : '' };
  }
  const { host, path } = parseSftpLocation(location, options);
  if (path.startsWith('/'))
    return { name: `sftp:${host}`, root: rootOf(location), below: path === '/' ? '' : path };
  return { name: `sftp:${host}`, root: rootOf(location, '/~'), below: path === '.' ? '' : `/${path}` };
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
