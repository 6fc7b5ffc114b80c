import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * OpenSSH's known_hosts format (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"): one key per line,
 * `[@marker] hostpatterns keytype base64-key [comment]`. Host patterns are comma-separated
 * names with `*`/`?` wildcards and `!` negation, or one hashed name `|1|base64(salt)|base64(hash)`
 * (HMAC-SHA1 of the name keyed by the salt, as `ssh-keygen -H` writes them).
 */
export interface KnownHostKey {
  /** the key type as written: ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa... */
  readonly type: string;
  /** the public key blob (the base64 field decoded) */
  readonly blob: Buffer;
  /** `@revoked`: this key must never be accepted */
  readonly revoked: boolean;
  readonly line: number;
}

/** How a host is named in known_hosts: `host` on port 22, `[host]:port` on any other. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function matchesHashed(entry: string, name: string): boolean {
  const [, magic, salt, hash] = entry.split('|');
  if (magic !== '1' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function wildcard(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** OpenSSH's match_hostname: a negated match excludes the line, else any positive match selects it. */
function matchesPatterns(field: string, name: string): boolean {
  if (field.startsWith('|')) return matchesHashed(field, name);
  let matched = false;
  for (const pattern of field.split(',')) {
    const negated = pattern.startsWith('!');
    if (!wildcard(negated ? pattern.slice(1) : pattern).test(name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** The keys `text` (a known_hosts file) lists for the host named `name` (see knownHostsName). */
export function knownKeysFor(text: string, name: string): KnownHostKey[] {
  const keys: KnownHostKey[] = [];
  text.split('\n').forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === '' || fields[0]!.startsWith('#')) return;
    const marker = fields[0]!.startsWith('@') ? fields.shift() : undefined;
    // host certificates (@cert-authority) are not something ssh2 can verify
    if (marker !== undefined && marker !== '@revoked') return;
    const [hosts, type, base64] = fields;
    if (!hosts || !type || !base64 || !matchesPatterns(hosts, name)) return;
    keys.push({ type, blob: Buffer.from(base64, 'base64'), revoked: marker === '@revoked', line: i + 1 });
  });
  return keys;
}

/** The key type a public key blob names in its first field (RFC 4253 §6.6). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** The fingerprint OpenSSH prints (`ssh-keygen -l`): SHA256 of the blob, base64 without padding. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}
