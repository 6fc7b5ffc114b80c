import { createRequire } from 'node:module';
import { decompress as zstdDecompress } from '@mongodb-js/zstd';
import zstdNapi from 'zstd-napi';
import zstdContexts from 'zstd-napi/binding.js';
import { corrupt } from '../core/errors.js';

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

function compressWithContext(data: Buffer, level: number): Buffer {
  let c = compressors.get(level);
  if (!c) {
    c = new zstdNapi.Compressor();
    c.setParameters({ compressionLevel: level });
    compressors.set(level, c);
  }
  return c.compress(data);
}

/**
 * This thread's contexts and output buffer for `encodePayloadSync` and `decodePayloadSync`, all
 * reused: worker threads (de)compress gigabytes, and a fresh buffer per blob is a page fault per
 * 4 KiB and garbage for the collector.
 */
const scratchContexts = new Map<number, zstdContexts.CCtx>();
let scratchDecoder: zstdContexts.DCtx | undefined;
let scratch = Buffer.alloc(0);

function scratchOf(size: number): Buffer {
  if (scratch.length < size) scratch = Buffer.allocUnsafeSlow(size);
  return scratch;
}

function compressIntoScratch(data: Buffer, level: number): Buffer {
  let cctx = scratchContexts.get(level);
  if (!cctx) {
    cctx = new zstdContexts.CCtx();
    scratchContexts.set(level, cctx);
  }
  const out = scratchOf(zstdContexts.compressBound(data.length));
  return out.subarray(0, cctx.compress(out, data, level));
}

/** Below this size a blob is stored raw: compression buys back at most a few hundred bytes. */
const MIN_COMPRESSIBLE = 512;

function compressible(data: Buffer, algorithm: CompressionAlgorithm): boolean {
  return algorithm === 'zstd' && data.length >= MIN_COMPRESSIBLE;
}

/** The payload parts: the codec byte and the compressed form, or the data raw when that is not 2% smaller. */
function framePayload(data: Buffer, packed: Buffer | undefined): Buffer[] {
  if (packed && packed.length < data.length * 0.98) return [Buffer.of(Codec.Zstd), packed];
  return [Buffer.of(Codec.None), data];
}

/**
 * Compresses a blob and prefixes the codec byte; a blob whose compressed form is not at least
 * 2% smaller is stored raw.
 */
export async function encodePayload(
  data: Buffer,
  algorithm: CompressionAlgorithm,
  level: number,
): Promise<Buffer[]> {
  if (!compressible(data, algorithm)) return framePayload(data, undefined);
  const packed =
    data.length <= SYNC_MAX ? compressWithContext(data, level) : await zstdBinding.compress(data, level);
  return framePayload(data, packed);
}

/**
 * The same payload as `encodePayload`, compressed on the calling thread whatever the size: for
 * worker threads, where blocking is the point and the thread pool would only add a hop. The
 * compressed part lives in a buffer the thread reuses: it is valid until the next call.
 */
export function encodePayloadSync(data: Buffer, algorithm: CompressionAlgorithm, level: number): Buffer[] {
  return framePayload(data, compressible(data, algorithm) ? compressIntoScratch(data, level) : undefined);
}

/** The codec and the encoded bytes of a payload; throws when the codec is unknown. */
function splitPayload(payload: Buffer, what: string): { codec: Codec; body: Buffer } {
  if (payload.length === 0) throw corrupt(`${what} has an empty payload`);
  const codec = payload[0]!;
  if (codec !== Codec.None && codec !== Codec.Zstd) throw corrupt(`${what} uses unknown codec ${codec}`);
  return { codec, body: payload.subarray(1) };
}

export async function decodePayload(payload: Buffer, what: string): Promise<Buffer> {
  const { codec, body } = splitPayload(payload, what);
  if (codec === Codec.None) return body;
  try {
    if (body.length <= SYNC_MAX) return (decompressor ??= new zstdNapi.Decompressor()).decompress(body);
    return await zstdDecompress(body);
  } catch (err) {
    throw corrupt(`${what} does not decompress`, err);
  }
}

/**
 * `decodePayload` on the calling thread whatever the size, for worker threads, given the
 * plaintext's length (from the index). A decompressed blob lives in a buffer the thread reuses:
 * it is valid until the next call.
 */
export function decodePayloadSync(payload: Buffer, what: string, rawLength: number): Buffer {
  const { codec, body } = splitPayload(payload, what);
  if (codec === Codec.None) return body;
  try {
    const out = scratchOf(rawLength);
    return out.subarray(
      0,
      (scratchDecoder ??= new zstdContexts.DCtx()).decompress(out.subarray(0, rawLength), body),
    );
  } catch (err) {
    throw corrupt(`${what} does not decompress`, err);
  }
}
