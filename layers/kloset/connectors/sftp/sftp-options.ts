import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { KlosetError } from '../../core/errors.js';

/** Everything the SFTP connector needs, parsed from `sftp://[user@]host[:port]/path?k=v` and `k=v` options. */
export interface SftpSettings {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /**
   * The remote path: absolute (`sftp://host/srv/x` is `/srv/x`), or relative to the login
   * directory (`sftp://host/~/x` is `x`, `sftp://host/~` is `.`); `/` when the URL has none.
   */
  readonly path: string;
  /** the URL without its query: safe to print */
  readonly location: string;
  /** private key file */
  readonly identity?: string;
  readonly identityPassphrase?: string;
  readonly password?: string;
  /** OpenSSH known_hosts file the server's host key is checked against */
  readonly knownHosts: string;
  readonly insecureIgnoreHostKey: boolean;
}

export const DEFAULT_PORT = 22;

const BOOL = z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' });
const NON_EMPTY = z.string().min(1, 'must not be empty');

const OptionsSchema = z.strictObject(
  {
    identity: NON_EMPTY.optional(),
    identity_passphrase: NON_EMPTY.optional(),
    password: NON_EMPTY.optional(),
    known_hosts: NON_EMPTY.optional(),
    insecure_ignore_host_key: BOOL.optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown option` : undefined) },
);

const SFTP_OPTION_NAMES = Object.keys(OptionsSchema.shape);

function invalid(message: string): KlosetError {
  return new KlosetError('INVALID_ARGUMENT', message);
}

/** `~/x` as the local user's home, for the file options (a shell would not expand it in `k=~/x`). */
const expandHome = (path: string): string =>
  path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalid(`the ${what} of an sftp location is not valid percent-encoding`);
  }
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    // no passwd entry for this uid (some containers)
    const user = process.env.USER ?? process.env.LOGNAME;
    if (user) return user;
    throw invalid('no user name for sftp: write sftp://USER@host/path');
  }
}

/** The remote path of the URL's path part: see SftpSettings.path. */
function remotePath(urlPath: string, printable: string): string {
  const path = decode(urlPath, 'path').replace(/\/+$/, '');
  if (path === '') return '/';
  const fromHome = path === '/~' ? '.' : path.startsWith('/~/') ? path.slice(3) : undefined;
  const segments = (fromHome ?? path.slice(1)).split('/');
  if (fromHome !== '.' && segments.some((s) => s === '' || s === '.' || s === '..'))
    throw invalid(`the path of ${printable} has an empty, "." or ".." segment`);
  return fromHome ?? path;
}

/** Splits the URL into its parts and the query's options. */
function parseUrl(location: string) {
  const m = /^sftp:\/\/(?:([^@/?#]*)@)?(\[[^\]/]+\]|[^:/?#[\]]+)(?::(\d*))?([^?#]*)(?:\?([^#]*))?$/i.exec(
    location,
  );
  if (!m) throw invalid(`not an sftp location: expected sftp://[user@]host[:port]/path`);
  const [, userInfoPart, hostPart, portPart, urlPath, queryPart] = m;
  // a password in the URL would end up in shell histories, aliases and messages
  if (userInfoPart?.includes(':'))
    throw invalid('an sftp location must not hold a password: give it as the password option');
  const printable = location.replace(/\?.*$/, '');
  const port = portPart ? Number(portPart) : DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw invalid(`the port of ${printable} must be a number from 1 to 65535`);
  const user = userInfoPart ? decode(userInfoPart, 'user') : currentUser();
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(queryPart ?? '')) query[k] = v;
  return {
    host: hostPart!.replace(/^\[|\]$/g, ''),
    port,
    user,
    path: remotePath(urlPath!, printable),
    location: printable,
    query,
  };
}

/**
 * Parses and validates an SFTP location and its options. Options given explicitly win over the
 * same option in the URL's query. Messages name the option, never its value (it may be a secret).
 */
export function parseSftpLocation(location: string, options: Record<string, string> = {}): SftpSettings {
  const { query, ...url } = parseUrl(location);
  const parsed = OptionsSchema.safeParse({ ...query, ...options });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = issue.code === 'unrecognized_keys' ? issue.keys.join('", "') : issue.path.join('.');
    const known = issue.code === 'unrecognized_keys' ? ` (known: ${SFTP_OPTION_NAMES.join(', ')})` : '';
    throw invalid(`sftp option "${name}" of ${url.location}: ${issue.message}${known}`);
  }
  const o = parsed.data;
  const insecure =
    o.insecure_ignore_host_key !== undefined && ['true', '1', 'yes'].includes(o.insecure_ignore_host_key);
  return {
    ...url,
    ...(o.identity && { identity: expandHome(o.identity) }),
    ...(o.identity_passphrase && { identityPassphrase: o.identity_passphrase }),
    ...(o.password && { password: o.password }),
    knownHosts: expandHome(o.known_hosts ?? '~/.ssh/known_hosts'),
    insecureIgnoreHostKey: insecure,
  };
}

/** What the CLI prints when host key verification is off; undefined when it is on. */
export function hostKeyWarning(s: SftpSettings): string | undefined {
  if (!s.insecureIgnoreHostKey) return undefined;
  return `the host key of ${s.host} is not verified (insecure_ignore_host_key=true): a machine between here and ${s.host} could pose as the server`;
}
