import { localPathOf, refuseLocalOptions, schemeOf } from './location-scheme.js';
import type { ConnectorOptions } from './open-location.js';
import { parseS3Location } from './s3/s3-options.js';
import { parseSftpLocation } from './sftp/sftp-options.js';

/** What a location is used as: each use opens its own connector. */
export type LocationUse = 'store' | 'source' | 'destination';

/**
 * Refuses a location and options that opening them would refuse, with the same error, without
 * connecting: the rules are the connectors' own parsers. Lets a caller check settings when they
 * are saved (an alias) rather than when they are first used.
 */
export function checkLocation(use: LocationUse, location: string, options: ConnectorOptions = {}): void {
  const scheme = schemeOf(location);
  if (scheme === 's3') parseS3Location(location, options);
  else if (scheme === 'sftp') parseSftpLocation(location, options);
  else {
    refuseLocalOptions(`${use}s`, options);
    localPathOf(location);
  }
}
