import { FsDestination } from './fs/fs-destination.js';
import { localPathOf, refuseLocalOptions, schemeOf } from './location-scheme.js';
import type { ConnectorOptions } from './open-location.js';
import type { RestoreDestination } from '../core/restore-destination.js';

/** Chooses the restore destination's connector from the location's scheme. */
export async function openDestination(
  location: string,
  options: ConnectorOptions = {},
): Promise<RestoreDestination> {
  const scheme = schemeOf(location);
  if (scheme === 's3') return new (await import('./s3/s3-destination.js')).S3Destination(location, options);
  if (scheme === 'sftp')
    return new (await import('./sftp/sftp-destination.js')).SftpDestination(location, options);
  refuseLocalOptions('destinations', options);
  return new FsDestination(localPathOf(location));
}
