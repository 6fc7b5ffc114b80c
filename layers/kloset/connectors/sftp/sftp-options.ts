import { homedir } from 'node:os';
import { z } from 'zod';
import { KlosetError } from '../../core/errors.js';
import { currentUser, expandHome } from '../../core/home.js';
import { type SftpLocation, formatLocation } from '../../core/location.js';

/** Everything the SFTP connector needs, from an `sftp://[user@]host[:port]/path` location and its settings. */
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
const fromHome = (path: string): string => expandHome(path, homedir());

function loginUser(): string {
  const user = currentUser();
  if (user === undefined) throw invalid('no user name for sftp: write sftp://USER@host/path');
  return user;
}

/** The server's path of a location's path: see SftpSettings.path. */
function remotePath(path: string): string {
  if (path === '/~') return '.';
  return path.startsWith('/~/') ? path.slice(3) : path;
}

/** Validates an SFTP location's settings. Messages name the option, never its value (it may be a secret). */
export function parseSftpLocation(location: SftpLocation): SftpSettings {
  const url = {
    host: location.host,
    port: location.port ?? DEFAULT_PORT,
    user: location.user ?? loginUser(),
    path: remotePath(location.path),
    location: formatLocation(location),
  };
  const parsed = OptionsSchema.safeParse(location.options);
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
    ...(o.identity && { identity: fromHome(o.identity) }),
    ...(o.identity_passphrase && { identityPassphrase: o.identity_passphrase }),
    ...(o.password && { password: o.password }),
    knownHosts: fromHome(o.known_hosts ?? '~/.ssh/known_hosts'),
    insecureIgnoreHostKey: insecure,
  };
}

/** What the CLI prints when host key verification is off; undefined when it is on. */
export function hostKeyWarning(s: SftpSettings): string | undefined {
  if (!s.insecureIgnoreHostKey) return undefined;
  return `the host key of ${s.host} is not verified (insecure_ignore_host_key=true): a machine between here and ${s.host} could pose as the server`;
}
