/**
 * Where a store, a backup source or a restore destination lives, and the one grammar that writes
 * it: a path (`/srv/x`, `fs:/srv/x`, `file:///srv/x`), `s3://bucket/prefix` or
 * `sftp://[user@]host[:port]/path`, each URL with optional `?key=value` connector settings.
 */
import { posix } from 'node:path';
import { KlosetError } from './errors.js';

export type Scheme = 'fs' | 's3' | 'sftp';

/** Connector settings as `key=value` pairs (a URL's query, an alias's options, `k=v` arguments). */
export type ConnectorOptions = Readonly<Record<string, string>>;

interface Place {
  /**
   * fs: the path as written (relative ones are relative to the working directory);
   * s3 and sftp: absolute and normalized (`/` for the bucket or the server's root); an SFTP path
   * below the login directory starts with `/~` (`/~/backups`, `/~` for the directory itself).
   */
  readonly path: string;
  readonly options: ConnectorOptions;
}
export interface FsLocation extends Place {
  readonly scheme: 'fs';
}
export interface S3Location extends Place {
  readonly scheme: 's3';
  readonly bucket: string;
}
export interface SftpLocation extends Place {
  readonly scheme: 'sftp';
  readonly host: string;
  /** as written; the connector's default (22) otherwise */
  readonly port?: number;
  /** as written; the local user otherwise */
  readonly user?: string;
}
export type Location = FsLocation | S3Location | SftpLocation;

/** What engine functions take: a Location, or its text (parsed with `parseLocation`). */
export type LocationInput = Location | string;

const FORMS = 'use a path, fs:/path, s3://bucket/prefix or sftp://[user@]host[:port]/path';
const URL_FORM = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?$/i;
const SCHEME_PREFIX = /^([a-z][a-z0-9+.-]*):/i;
/** S3's bucket naming rule: 3-63 lowercase letters, digits, dots and hyphens */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SFTP_AUTHORITY = /^(?:([^@/?#\s]*)@)?([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::(\d+))?$/;

function invalid(message: string): KlosetError {
  return new KlosetError('INVALID_ARGUMENT', message);
}

/**
 * Parses a location's text. The query's settings become `options`; `options` given here win
 * over the query's. Messages quote the location without its query (it may hold secrets).
 */
export function parseLocation(text: string, options: ConnectorOptions = {}): Location {
  if (text === '') throw invalid(`empty location: ${FORMS}`);
  const url = URL_FORM.exec(text);
  const written = (url?.[1] ?? SCHEME_PREFIX.exec(text)?.[1])?.toLowerCase();
  if (written === 'fs' || written === 'file' || (!url && written !== 's3' && written !== 'sftp')) {
    const path = text.replace(/^(?:fs|file):(?:\/\/(?=\/))?/i, '');
    if (path === '') throw invalid(`no path in ${text}: ${FORMS}`);
    return { scheme: 'fs', path: trimSlash(path), options: { ...options } };
  }
  if (!url) throw invalid(`not an ${written} location: ${text.replace(/\?.*$/, '')} (${FORMS})`);
  const [, , authority, urlPath, query] = url as unknown as [string, string, string, string, string?];
  const printable = text.replace(/\?.*$/, '');
  const merged = { ...queryOptions(query), ...options };
  const path = normalize(decode(urlPath, 'path', printable));
  if (written === 's3') {
    if (!BUCKET.test(authority))
      throw invalid(
        `bad S3 bucket name "${authority}" in ${printable}: bucket names are 3-63 lowercase letters, digits, "." or "-"`,
      );
    return { scheme: 's3', bucket: authority, path, options: merged };
  }
  if (written === 'sftp')
    return { scheme: 'sftp', ...sftpAuthority(authority, printable), path, options: merged };
  throw invalid(`unsupported location scheme "${written}" in ${printable}: ${FORMS}`);
}

function sftpAuthority(authority: string, printable: string): Pick<SftpLocation, 'host' | 'port' | 'user'> {
  const m = SFTP_AUTHORITY.exec(authority);
  // a password in the URL would end up in shell histories, aliases and messages
  if (m?.[1]?.includes(':'))
    throw invalid('an sftp location must not hold a password: give it as the password option');
  const port = m?.[3] === undefined ? undefined : Number(m[3]);
  if (!m || m[1] === '' || (port !== undefined && (port < 1 || port > 65535)))
    throw invalid(
      `bad SFTP address "${authority}" in ${printable}: write sftp://[user@]host[:port]/path, the port from 1 to 65535`,
    );
  return {
    host: m[2]!.replace(/^\[|\]$/g, ''),
    ...(port !== undefined && { port }),
    ...(m[1] !== undefined && { user: decode(m[1], 'user', printable) }),
  };
}

/**
 * A location's text: `parseLocation` reads it back to the same Location. Without `withOptions`
 * the settings are left out, which makes it safe to print.
 */
export function formatLocation(location: Location, { withOptions = false } = {}): string {
  const query = withOptions ? queryText(location.options) : '';
  if (location.scheme === 'fs') return location.path;
  const path = location.path === '/' ? '' : encodePart(location.path, /[%?#\s]/g);
  if (location.scheme === 's3') return `s3://${location.bucket}${path}${query}`;
  const user = location.user === undefined ? '' : `${encodePart(location.user, /[%@:/?#\s]/g)}@`;
  const host = location.host.includes(':') ? `[${location.host}]` : location.host;
  const port = location.port === undefined ? '' : `:${location.port}`;
  return `sftp://${user}${host}${port}${path}${query}`;
}

/** `rel` goes below the location's path; `/abs` replaces it; the scheme, place and settings stay. */
export function locationBelow(location: Location, override: string): Location {
  const joined = override.startsWith('/') ? override : posix.join(location.path, override);
  const path = location.scheme === 'fs' ? posix.normalize(joined) : normalize(joined);
  return { ...location, path: trimSlash(path) };
}

/** Local connectors take no settings: a `k=v` given to one is a mistake worth naming. */
export function refuseLocalOptions(what: string, location: Location): void {
  const names = Object.keys(location.options);
  if (names.length > 0) throw invalid(`local ${what} take no connector options (got ${names.join(', ')})`);
}

function queryOptions(query: string | undefined): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(query ?? ''));
}

/** `?k=v&...`, escaping only what would change its meaning, so an endpoint's `http://` stays readable. */
function queryText(options: ConnectorOptions): string {
  const pairs = Object.entries(options).map(
    ([k, v]) => `${encodePart(k, /[%&#+=\s]/g)}=${encodePart(v, /[%&#+\s]/g)}`,
  );
  return pairs.length === 0 ? '' : `?${pairs.join('&')}`;
}

function encodePart(text: string, unsafe: RegExp): string {
  return text.replace(unsafe, (c) => encodeURIComponent(c));
}

function decode(text: string, what: string, printable: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalid(`the ${what} of ${printable} is not valid percent-encoding`);
  }
}

/** An absolute path with `.`, `..` and repeated slashes resolved, without a trailing slash. */
function normalize(path: string): string {
  return trimSlash(posix.normalize(`/${path}`));
}

function trimSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.replace(/\/+$/, '') || '/' : path;
}
