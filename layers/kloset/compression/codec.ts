import { createRequire } from 'node:module';
import { decompress as zstdDecompress } from '@mongodb-js/zstd';
import { corrupt } from '../errors.js';

/**
 * The native binding itself: the package's `compress` wrapper drops the level argument
 * (@mongodb-js/zstd 1.2.x), so it would always compress at zstd's default.
 */
const zstdBinding = createRequire(import.meta.url)('@mongodb-js/zstd/bindings') as {
  compress(data: Buffer, level: number): Promise<Buffer>;
};

/** First byte of every blob's plaintext payload: how the rest is encoded. */
export enum Codec {
  None = 0,
  Zstd = 1,
}

export type CompressionAlgorithm = 'zstd' | 'none';

/**
 * Below this size a blob is stored raw: zstd's per-call cost (~80 µs of context set-up here,
 * whatever the input size) buys back at most a few hundred bytes.
 */
const MIN_COMPRESSIBLE = 512;

/**
 * Compresses a blob and prefixes the codec byte. zstd runs on libuv's thread pool, so several
 * blobs compress in parallel with the hashing and encryption on the main thread. A blob whose
 * compressed form is not at least 2% smaller is stored raw.
 */
export async function encodePayload(
  data: Buffer,
  algorithm: CompressionAlgorithm,
  level: number,
): Promise<Buffer[]> {
  if (algorithm === 'zstd' && data.length >= MIN_COMPRESSIBLE) {
    const packed = await zstdBinding.compress(data, level);
    if (packed.length < data.length * 0.98) return [Buffer.of(Codec.Zstd), packed];
  }
  return [Buffer.of(Codec.None), data];
}

export async function decodePayload(payload: Buffer, what: string): Promise<Buffer> {
  if (payload.length === 0) throw corrupt(`${what} has an empty payload`);
  const codec = payload[0];
  const body = payload.subarray(1);
  switch (codec) {
    case Codec.None:
      return body;
    case Codec.Zstd:
      try {
        return await zstdDecompress(body);
      } catch (err) {
        throw corrupt(`${what} does not decompress`, err);
      }
    default:
      throw corrupt(`${what} uses unknown codec ${codec}`);
  }
}
