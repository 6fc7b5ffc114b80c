import { FsStore } from './fs/fs-store.js';
import { localPathOf, refuseLocalOptions, schemeOf } from './location-scheme.js';
import { hostKeyWarning, parseSftpLocation } from './sftp/sftp-options.js';
import type { StoreBackend } from '../core/store-backend.js';

/** Connector settings as `key=value` pairs (an alias's options, or the CLI's `k=v` arguments). */
export type ConnectorOptions = Readonly<Record<string, string>>;

/**
 * Chooses the store connector from the location's scheme: a plain path or `fs:PATH` is a local
 * directory, `s3://bucket/prefix` an S3 prefix, `sftp://[user@]host[:port]/path` a directory on
 * an SFTP server. `options` configure the connector (for S3 and SFTP they may also come from the
 * URL's query; explicit ones win).
 */
export async function openLocation(location: string, options: ConnectorOptions = {}): Promise<StoreBackend> {
  const scheme = schemeOf(location);
  if (scheme === 's3') return new (await import('./s3/s3-store.js')).S3Store(location, options);
  if (scheme === 'sftp') return new (await import('./sftp/sftp-store.js')).SftpStore(location, options);
  refuseLocalOptions('stores', options);
  return new FsStore(localPathOf(location));
}

/** What the user must hear before a connector is used: an SFTP host key that is not verified. */
export function connectorWarning(location: string, options: ConnectorOptions = {}): string | undefined {
  return schemeOf(location) === 'sftp' ? hostKeyWarning(parseSftpLocation(location, options)) : undefined;
}
