import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import ssh2, { type AnyAuthMethod, type ParsedKey } from 'ssh2';
import { KlosetError, errnoCode } from '../../core/errors.js';
import type { SftpSettings } from './sftp-options.js';

/** The keys `ssh` tries when none is configured, in its order. */
const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

interface Credentials {
  /** in the order they are offered to the server */
  readonly methods: AnyAuthMethod[];
  /** what was offered, for the message when the server refuses all of it (no secrets) */
  readonly offered: string[];
}

/** A private key file, decrypted with `passphrase` where it is encrypted. */
function parseIdentity(path: string, text: Buffer, passphrase: string | undefined): ParsedKey {
  const key = ssh2.utils.parseKey(text, passphrase);
  if (!(key instanceof Error)) return key;
  if (/no passphrase given/i.test(key.message))
    throw new KlosetError('INVALID_ARGUMENT', `identity file ${path} is encrypted: give identity_passphrase`);
  if (/bad passphrase|decrypt/i.test(key.message))
    throw new KlosetError('AUTH_FAILED', `identity_passphrase does not decrypt identity file ${path}`);
  // ssh2's parse messages name the format problem, never the key's content
  throw new KlosetError(
    'INVALID_ARGUMENT',
    `identity file ${path} is not a private key kloud can read (${key.message})`,
  );
}

async function readIdentity(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw new KlosetError('IO', `cannot read identity file ${path} (${errnoCode(err)})`, { cause: err });
  }
}

/**
 * What kloud offers the server: the identity key, then the password, as configured. With
 * neither, what `ssh` would offer: the ssh-agent's keys and the default key files that open
 * without a passphrase (or with identity_passphrase).
 */
export async function credentialsFor(s: SftpSettings): Promise<Credentials> {
  const methods: AnyAuthMethod[] = [];
  const offered: string[] = [];
  const username = s.user;
  if (s.identity !== undefined) {
    const text = await readIdentity(s.identity);
    if (!text) throw new KlosetError('INVALID_ARGUMENT', `identity file ${s.identity} does not exist`);
    methods.push({ type: 'publickey', username, key: parseIdentity(s.identity, text, s.identityPassphrase) });
    offered.push(`key ${s.identity}`);
  }
  if (s.password !== undefined) {
    methods.push({ type: 'password', username, password: s.password });
    offered.push('password');
  }
  if (methods.length > 0) return { methods, offered };

  if (process.env.SSH_AUTH_SOCK) {
    methods.push({ type: 'agent', username, agent: process.env.SSH_AUTH_SOCK });
    offered.push('ssh-agent');
  }
  for (const name of DEFAULT_IDENTITIES) {
    const path = join(homedir(), '.ssh', name);
    const text = await readIdentity(path);
    const key = text && ssh2.utils.parseKey(text, s.identityPassphrase);
    if (!key || key instanceof Error) continue;
    methods.push({ type: 'publickey', username, key });
    offered.push(`key ${path}`);
  }
  if (methods.length === 0)
    throw new KlosetError(
      'AUTH_FAILED',
      `no credentials for ${s.location}: give identity=KEY_FILE or password=..., or start an ssh-agent`,
    );
  return { methods, offered };
}
