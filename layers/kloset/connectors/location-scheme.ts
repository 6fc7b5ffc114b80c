import { KlosetError } from '../core/errors.js';

/** The connector a location names: a plain path or `fs:`/`file:` is local, else its URL scheme. */
export type Scheme = 'fs' | 's3' | 'sftp';

const SCHEMES: Record<string, Scheme> = { fs: 'fs', file: 'fs', s3: 's3', sftp: 'sftp' };

export function schemeOf(location: string): Scheme {
  const written = /^([a-z][a-z0-9+.-]*):/i.exec(location)?.[1]?.toLowerCase();
  if (written === undefined) return 'fs';
  const scheme = SCHEMES[written];
  if (!scheme) throw new KlosetError('UNSUPPORTED', `unknown location scheme "${written}:" in ${location}`);
  return scheme;
}

/** The local path of an fs location (`/x`, `fs:/x`, `file:///x`). */
export function localPathOf(location: string): string {
  const written = /^(fs|file):(?:\/\/(?=\/))?/i.exec(location);
  const path = written ? location.slice(written[0].length) : location;
  if (!path) throw new KlosetError('INVALID_ARGUMENT', `no path in ${location}`);
  return path;
}

/** Local connectors take no settings: a `k=v` given to one is a mistake worth naming. */
export function refuseLocalOptions(what: string, options: Readonly<Record<string, string>>): void {
  const names = Object.keys(options);
  if (names.length > 0)
    throw new KlosetError(
      'INVALID_ARGUMENT',
      `local ${what} take no connector options (got ${names.join(', ')})`,
    );
}
