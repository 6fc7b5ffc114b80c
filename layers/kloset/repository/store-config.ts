import { z } from 'zod';
import { chunkingSchema } from '../chunker/fastcdc.js';
import { sha256Authenticator } from '../crypto/mac.js';
import { kdfSchema } from '../crypto/keys.js';
import { decodeVersionedJson } from '../core/versioned-json.js';
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

const CONFIG_FORMAT = { name: 'store', versionField: 'version', version: 1, schema: storeConfigSchema };

export function sealConfig(config: StoreConfig): SealedObject {
  return sealObject(ObjectType.Config, [Buffer.from(JSON.stringify(config, null, 2))], sha256Authenticator);
}

export function openConfig(data: Buffer, location: string): StoreConfig {
  const what = `store config at ${location}`;
  const { body } = openObject(data, ObjectType.Config, sha256Authenticator, what);
  return decodeVersionedJson(body, CONFIG_FORMAT, what);
}
