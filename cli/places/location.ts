/**
 * Locations of stores, sources and destinations: a path, `fs:/path`, `s3://bucket/prefix` or
 * `sftp://user@host:port/path`, and the `@alias:path` override rule applied to them.
 */
import { posix, resolve } from 'node:path';
import { usageError } from '../failures/errors.js';

export type Scheme = 'fs' | 's3' | 'sftp';

/** `path` is always absolute and normalized, without a trailing slash except for the root. */
export interface Location {
  scheme: Scheme;
  /** The bucket for s3, `user@host:port` for sftp, empty for fs. */
  authority: string;
  path: string;
  /** A URL's `?k=v` settings, kept as written (an endpoint URL's `//` must survive). */
  query?: string;
}

export interface PathContext {
  cwd: string;
  home?: string;
}

const URL_FORM = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?]*)(\/[^?]*)?(\?.*)?$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SFTP_AUTHORITY = /^(?:[^@:/\s]+@)?(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;

const FORMS = 'use a path, fs:/path, s3://bucket/prefix or sftp://user@host:port/path';

export function parseLocation(text: string, ctx: PathContext): Location {
  if (text === '') throw usageError('empty location', FORMS);
  const url = URL_FORM.exec(text);
  if (url) {
    const location = parseUrl(text, url[1].toLowerCase(), url[2], url[3] ?? '/');
    return url[4] && location.scheme !== 'fs' ? { ...location, query: url[4] } : location;
  }
  const path = text.startsWith('fs:') ? text.slice(3) : text;
  return { scheme: 'fs', authority: '', path: absolute(expandHome(path, ctx), ctx.cwd) };
}

export function formatLocation(location: Location): string {
  if (location.scheme === 'fs') return location.path;
  const path = location.path === '/' ? '' : location.path;
  return `${location.scheme}://${location.authority}${path}${location.query ?? ''}`;
}

/** `rel` appends to the root's path; `/abs` replaces it; the scheme and authority always stay. */
export function applyOverride(root: Location, override: string): Location {
  const path = override.startsWith('/') ? override : posix.join(root.path, override);
  return { ...root, path: normalize(path) };
}

function parseUrl(text: string, scheme: string, authority: string, path: string): Location {
  if (scheme === 'fs') return { scheme: 'fs', authority: '', path: normalize(`/${authority}${path}`) };
  if (scheme === 's3') {
    if (!BUCKET.test(authority)) {
      throw usageError(
        `bad S3 bucket name "${authority}" in ${text}`,
        'bucket names are 3-63 lowercase letters, digits, "." or "-"',
      );
    }
    return { scheme, authority, path: normalize(path) };
  }
  if (scheme === 'sftp') {
    const match = SFTP_AUTHORITY.exec(authority);
    const port = match?.[1] === undefined ? 22 : Number(match[1]);
    if (!match || port < 1 || port > 65535) {
      throw usageError(`bad SFTP address "${authority}" in ${text}`, 'write sftp://user@host:port/path');
    }
    return { scheme, authority, path: normalize(path) };
  }
  throw usageError(`unsupported location scheme "${scheme}" in ${text}`, FORMS);
}

function expandHome(path: string, ctx: PathContext): string {
  if (ctx.home && (path === '~' || path.startsWith('~/'))) return ctx.home + path.slice(1);
  return path;
}

function absolute(path: string, cwd: string): string {
  return normalize(resolve(cwd, path));
}

function normalize(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}
