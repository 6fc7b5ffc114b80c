import { readFile } from 'node:fs/promises';
import type { ServerHostKeyAlgorithm } from 'ssh2';
import { KlosetError, errnoCode } from '../../core/errors.js';
import { type KnownHostKey, fingerprint, keyTypeOf, knownHostsName, knownKeysFor } from './known-hosts.js';
import { DEFAULT_PORT, type SftpSettings } from './sftp-options.js';

/** The signature algorithms that prove a key of each known_hosts type. */
const ALGORITHMS_OF: Record<string, readonly ServerHostKeyAlgorithm[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  'ssh-dss': ['ssh-dss'],
};

/** ssh2's default preference (its README), which the known types are moved in front of. */
const DEFAULT_ALGORITHMS: readonly ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** `ssh-keyscan -t` names: ed25519, ecdsa, rsa, dsa. */
const keyscanType = (type: string): string =>
  type.startsWith('ecdsa-') ? 'ecdsa' : type === 'ssh-dss' ? 'dsa' : type.replace(/^ssh-/, '');

/**
 * Checks the server's host key against an OpenSSH known_hosts file, as `ssh` does with
 * StrictHostKeyChecking=yes: a key listed for the host is accepted, a host without a listed key
 * is refused with the command that adds it, and a host listed with another key of the same type
 * is refused loudly (the server was replaced, or someone is in between).
 */
export class HostKeyCheck {
  private readonly name: string;

  private constructor(
    private readonly s: SftpSettings,
    private readonly known: readonly KnownHostKey[],
  ) {
    this.name = knownHostsName(s.host, s.port);
  }

  static async load(s: SftpSettings): Promise<HostKeyCheck> {
    let text = '';
    try {
      text = await readFile(s.knownHosts, 'utf8');
    } catch (err) {
      // a missing file knows no hosts: the "unknown host" message then says how to add one
      if (errnoCode(err) !== 'ENOENT')
        throw new KlosetError('IO', `cannot read known_hosts file ${s.knownHosts} (${errnoCode(err)})`, {
          cause: err,
        });
    }
    return new HostKeyCheck(s, knownKeysFor(text, knownHostsName(s.host, s.port)));
  }

  /**
   * Host key algorithms in preference order, those known_hosts holds a key for first: a server
   * with several host keys then proves the one we can check (as `ssh` orders them).
   */
  algorithms(): ServerHostKeyAlgorithm[] {
    const known = this.known.filter((k) => !k.revoked).flatMap((k) => ALGORITHMS_OF[k.type] ?? []);
    return [...new Set([...known, ...DEFAULT_ALGORITHMS])];
  }

  /** Undefined when `blob` is a key known_hosts lists for the host; else why it is refused. */
  verify(blob: Buffer): KlosetError | undefined {
    const type = keyTypeOf(blob);
    const fp = `${type} ${fingerprint(blob)}`;
    const same = this.known.filter((k) => k.blob.equals(blob));
    const revoked = same.find((k) => k.revoked);
    if (revoked)
      return new KlosetError(
        'HOST_KEY_CHANGED',
        `the host key of ${this.name} (${fp}) is marked @revoked in ${this.s.knownHosts} line ${revoked.line}; refusing to connect`,
      );
    if (same.length > 0) return undefined;
    const other = this.known.find((k) => k.type === type && !k.revoked);
    if (other)
      return new KlosetError(
        'HOST_KEY_CHANGED',
        `HOST KEY CHANGED: ${this.name} presents ${fp}, but ${this.s.knownHosts} line ${other.line} holds another ${type} key for it; someone may be intercepting the connection, so kloud refuses to connect`,
      );
    const port = this.s.port === DEFAULT_PORT ? '' : `-p ${this.s.port} `;
    const listed = this.known.length > 0 ? ` (it lists other key types for it)` : '';
    return new KlosetError(
      'HOST_KEY_UNKNOWN',
      `${this.name} is not a known host: its key ${fp} is not in ${this.s.knownHosts}${listed}; after checking that fingerprint with the server's administrator, add it with: ssh-keyscan ${port}-t ${keyscanType(type)} ${this.s.host} >> ${this.s.knownHosts}`,
    );
  }
}
