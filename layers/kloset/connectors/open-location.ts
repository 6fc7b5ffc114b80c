import { type Location, type LocationInput, parseLocation, refuseLocalOptions } from '../core/location.js';
import type { StoreBackend } from '../core/store-backend.js';
import { FsStore } from './fs/fs-store.js';
import { hostKeyWarning, parseSftpLocation } from './sftp/sftp-options.js';

/** A location given as text or parsed: parsed once, here, on its way to a connector. */
export function locationOf(input: LocationInput): Location {
  return typeof input === 'string' ? parseLocation(input) : input;
}

/**
 * Chooses the store connector from the location's scheme: a local directory, an S3 prefix or a
 * directory on an SFTP server. The S3 and SFTP connectors (the AWS SDK, ssh2) load on first use.
 */
export async function openLocation(input: LocationInput): Promise<StoreBackend> {
  const location = locationOf(input);
  if (location.scheme === 's3') return new (await import('./s3/s3-store.js')).S3Store(location);
  if (location.scheme === 'sftp') return new (await import('./sftp/sftp-store.js')).SftpStore(location);
  refuseLocalOptions('stores', location);
  return new FsStore(location.path);
}

/** What the user must hear before a connector is used: an SFTP host key that is not verified. */
export function connectorWarning(input: LocationInput): string | undefined {
  const location = locationOf(input);
  return location.scheme === 'sftp' ? hostKeyWarning(parseSftpLocation(location)) : undefined;
}
