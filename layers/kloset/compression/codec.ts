import { createRequire } from 'node:module';
import { decompress as zstdDecompress } from '@mongodb-js/zstd';
import zstdNapi from 'zstd-napi';
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
 * Blobs up to this size are (de)compressed synchronously with a reused zstd context
 * (zstd-napi): a one-shot call through the asynchronous binding sets up a fresh context each
 * time, ~80 µs of CPU whatever the size, which dominated backups of many small files (measured:
 * 3000 small files, 287 ms one-shot against 95 ms with a reused context). Larger blobs go to
 * the asynchronous binding, which compresses on the thread pool in parallel with hashing and
 * encryption on the main thread.
 */
const SYNC_MAX = 128 * 1024;

const compressors = new Map<number, zstdNapi.Compressor>();
let decompressor: zstdNapi.Decompressor | undefined;

function compressSmall(data: Buffer, level: number): Buffer {
  let c = compressors.get(level);
  if (!c) {
    c = new zstdNapi.Compressor();
    c.setParameters({ compressionLevel: level });
    compressors.set(level, c);
  }
  return c.compress(data);
}

/** Below this size a blob is stored raw: compression buys back at most a few hundred bytes. */
const MIN_COMPRESSIBLE = 512;

/**
 * Compresses a blob and prefixes the codec byte; a blob whose compressed form is not at least
 * 2% smaller is stored raw.
 */
export async function encodePayload(
  data: Buffer,
  algorithm: CompressionAlgorithm,
  level: number,
): Promise<Buffer[]> {
  if (algorithm === 'zstd' && data.length >= MIN_COMPRESSIBLE) {
    const packed =
      data.length <= SYNC_MAX ? compressSmall(data, level) : await zstdBinding.compress(data, level);
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
        if (body.length <= SYNC_MAX) return (decompressor ??= new zstdNapi.Decompressor()).decompress(body);
        return await zstdDecompress(body);
      } catch (err) {
        throw corrupt(`${what} does not decompress`, err);
      }
    default:
      throw corrupt(`${what} uses unknown codec ${codec}`);
  }
}
