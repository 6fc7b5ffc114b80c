import { type LocationInput, refuseLocalOptions } from '../core/location.js';
import type { RestoreDestination } from '../core/restore-destination.js';
import { FsDestination } from './fs/fs-destination.js';
import { locationOf } from './open-location.js';

/** Chooses the restore destination's connector from the location's scheme. */
export async function openDestination(input: LocationInput): Promise<RestoreDestination> {
  const location = locationOf(input);
  if (location.scheme === 's3') return new (await import('./s3/s3-destination.js')).S3Destination(location);
  if (location.scheme === 'sftp')
    return new (await import('./sftp/sftp-destination.js')).SftpDestination(location);
  refuseLocalOptions('destinations', location);
  return new FsDestination(location.path);
}
