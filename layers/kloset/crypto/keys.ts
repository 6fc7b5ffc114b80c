import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { z } from 'zod';

/** The two secrets of a store; wrapped under each key slot's passphrase-derived key. */
export interface MasterKeys {
  readonly encryption: Buffer;
  readonly mac: Buffer;
}

export const kdfSchema = z.object({
  algorithm: z.literal('scrypt'),
  N: z.number().int().min(2),
  r: z.number().int().min(1),
  p: z.number().int().min(1),
});
export type KdfParams = z.infer<typeof kdfSchema>;

/** ~100 ms and 32 MiB per derivation on this machine: slow for guessing, quick for a user. */
export const DEFAULT_KDF: KdfParams = { algorithm: 'scrypt', N: 2 ** 15, r: 8, p: 1 };

export const keySlotSchema = z.object({
  version: z.literal(1),
  createdAt: z.string(),
  hostname: z.string(),
  username: z.string(),
  kdf: kdfSchema.extend({ salt: z.string() }),
  /** base64 of nonce | AES-256-GCM(encryption key | mac key) | tag */
  wrapped: z.string(),
});
export type KeySlot = z.infer<typeof keySlotSchema>;

export function generateMasterKeys(): MasterKeys {
  return { encryption: randomBytes(32), mac: randomBytes(32) };
}

function deriveKey(passphrase: string, salt: Buffer, kdf: KdfParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(passphrase, salt, 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** The store ID is associated data: a slot copied from another store does not open this one. */
function slotAad(storeId: string): Buffer {
  return Buffer.from(`kloud key slot ${storeId}`);
}

export async function wrapMasterKeys(
  keys: MasterKeys,
  passphrase: string,
  kdf: KdfParams,
  storeId: string,
  who: { hostname: string; username: string },
): Promise<KeySlot> {
  const salt = randomBytes(32);
  const kek = await deriveKey(passphrase, salt, kdf);
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', kek, nonce);
  c.setAAD(slotAad(storeId));
  const body = Buffer.concat([c.update(keys.encryption), c.update(keys.mac), c.final()]);
  return {
    version: 1,
    createdAt: new Date().toISOString(),
    hostname: who.hostname,
    username: who.username,
    kdf: { ...kdf, salt: salt.toString('base64') },
    wrapped: Buffer.concat([nonce, body, c.getAuthTag()]).toString('base64'),
  };
}

/** Returns undefined when the passphrase does not open this slot. */
export async function unwrapMasterKeys(
  slot: KeySlot,
  passphrase: string,
  storeId: string,
): Promise<MasterKeys | undefined> {
  const kek = await deriveKey(passphrase, Buffer.from(slot.kdf.salt, 'base64'), slot.kdf);
  const wrapped = Buffer.from(slot.wrapped, 'base64');
  if (wrapped.length !== 12 + 64 + 16) return undefined;
  const d = createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, 12));
  d.setAAD(slotAad(storeId));
  d.setAuthTag(wrapped.subarray(12 + 64));
  try {
    const plain = Buffer.concat([d.update(wrapped.subarray(12, 12 + 64)), d.final()]);
    return { encryption: plain.subarray(0, 32), mac: plain.subarray(32) };
  } catch {
    return undefined;
  }
}
