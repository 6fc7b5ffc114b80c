import { type LocationInput, refuseLocalOptions } from '../core/location.js';
import { locationOf } from './open-location.js';
import { remoteMount } from './open-sources.js';
import { parseS3Location } from './s3/s3-options.js';
import { parseSftpLocation } from './sftp/sftp-options.js';

/** What a location is used as: each use opens its own connector. */
export type LocationUse = 'store' | 'source' | 'destination';

/**
 * Refuses a location and options that opening them would refuse, with the same error, without
 * connecting: the rules are the connectors' own parsers, given what each use opens (a remote
 * source is opened at its mount, the bucket or the server). Lets a caller check settings when
 * they are saved (an alias) rather than when they are first used.
 */
export function checkLocation(use: LocationUse, input: LocationInput): void {
  const given = locationOf(input);
  const location = use === 'source' && given.scheme !== 'fs' ? remoteMount(given).root : given;
  if (location.scheme === 's3') parseS3Location(location);
  else if (location.scheme === 'sftp') parseSftpLocation(location);
  else refuseLocalOptions(`${use}s`, location);
}
