import { createHash, createHmac } from 'node:crypto';
import type { Authenticator } from '../format/object.js';

export const ID_SIZE = 32;

/** Trailer of objects readable before the keys are known (config, key slots). */
export const sha256Authenticator: Authenticator = (parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/**
 * Keyed MAC (HMAC-SHA256) of the store: blob IDs and object trailers. Keyed, so the store never
 * reveals plain content hashes that could confirm a guessed file.
 */
export class StoreMac {
  readonly authenticator: Authenticator;

  /** `key` is public for worker threads, which build their own StoreMac from it. */
  constructor(readonly key: Buffer) {
    this.authenticator = (parts) => {
      const h = createHmac('sha256', this.key);
      for (const p of parts) h.update(p);
      return h.digest();
    };
  }

  blobId(data: Uint8Array): Buffer {
    return createHmac('sha256', this.key).update(data).digest();
  }
}
