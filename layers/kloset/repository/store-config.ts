import { z } from 'zod';
import { chunkingSchema } from '../chunker/fastcdc.js';
import { sha256Authenticator } from '../crypto/mac.js';
import { kdfSchema } from '../crypto/keys.js';
import { KlosetError, corrupt } from '../core/errors.js';
import { ObjectType, openObject, sealObject, type SealedObject } from '../format/object.js';

/**
 * The store config: written once by `create`, never changed. Key slots live in their own
 * objects (keys/), so adding or changing a passphrase never rewrites it.
 */
export const storeConfigSchema = z.object({
  version: z.literal(1),
  storeId: z.string().regex(/^[0-9a-f]{32}$/),
  createdAt: z.string(),
  chunking: chunkingSchema,
  compression: z.object({ algorithm: z.enum(['zstd', 'none']), level: z.number().int().min(1).max(19) }),
  mac: z.object({ algorithm: z.literal('hmac-sha256') }),
  encryption: z.discriminatedUnion('algorithm', [
    z.object({
      algorithm: z.literal('aes-256-gcm'),
      /** default KDF for new key slots */
      kdf: kdfSchema,
      /** base64 of a known text sealed under the master key: tells a damaged slot from a wrong key */
      canary: z.string(),
    }),
    z.object({
      algorithm: z.literal('none'),
      /** plaintext stores keep their MAC key in the clear: IDs still dedup, nothing is secret */
      macKey: z.string(),
    }),
  ]),
  packing: z.object({
    targetSize: z
      .number()
      .int()
      .min(64 * 1024)
      .max(1024 * 1024 * 1024),
  }),
});
export type StoreConfig = z.infer<typeof storeConfigSchema>;

export function sealConfig(config: StoreConfig): SealedObject {
  return sealObject(ObjectType.Config, [Buffer.from(JSON.stringify(config, null, 2))], sha256Authenticator);
}

export function openConfig(data: Buffer, location: string): StoreConfig {
  const what = `store config at ${location}`;
  const { body } = openObject(data, ObjectType.Config, sha256Authenticator, what);
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw corrupt(`${what} is not valid JSON`, err);
  }
  const version = (json as { version?: unknown }).version;
  if (typeof version === 'number' && version > 1) {
    throw new KlosetError(
      'UNSUPPORTED_VERSION',
      `${what} is format version ${version}; upgrade kloud to open it`,
    );
  }
  const parsed = storeConfigSchema.safeParse(json);
  if (!parsed.success)
    throw corrupt(`${what} is invalid: ${parsed.error.issues[0]?.message ?? 'unknown field'}`);
  return parsed.data;
}
