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

/** Bytes of decoded output `decodePayloadPieces` yields at a time. */
const DECODED_PIECE_BYTES = 1 << 20;

/**
 * `decodePayload` for a payload too large to hold twice (an index delta), given as `pieces` of
 * `payloadLength` bytes in all: the decoded length the payload declares (a raw one its own, zstd
 * its frame's content size; undefined when the frame does not say) and the decoded bytes as
 * fresh pieces of at most 1 MiB, each decompressed as it is asked for.
 */
export function decodePayloadPieces(
  pieces: Iterable<Buffer>,
  payloadLength: number,
  what: string,
): { size: number | undefined; pieces: Iterable<Buffer> } {
  const input = pieces[Symbol.iterator]();
  const first = input.next();
  const { codec, body } = splitPayload(first.done ? Buffer.alloc(0) : first.value, what);
  function* rest(): Generator<Buffer> {
    if (body.length > 0) yield body;
    for (let next = input.next(); !next.done; next = input.next()) yield next.value;
  }
  if (codec === Codec.None) return { size: payloadLength - 1, pieces: rest() };
  let size: number | null;
  try {
    size = zstdContexts.getFrameContentSize(body);
  } catch (err) {
    throw corrupt(`${what} does not decompress`, err);
  }
  return { size: size ?? undefined, pieces: zstdPieces(rest(), what) };
}

/** One zstd frame decompressed as its input comes, in pieces of `DECODED_PIECE_BYTES`. */
function* zstdPieces(input: Iterable<Buffer>, what: string): Generator<Buffer> {
  const dctx = new zstdContexts.DCtx();
  let out = Buffer.allocUnsafe(DECODED_PIECE_BYTES);
  let filled = 0;
  /** zstd's hint: 0 once the frame is decoded and flushed */
  let left = 1;
  const step = (src: Buffer): number => {
    try {
      const [hint, produced, consumed] = dctx.decompressStream(out.subarray(filled), src);
      left = hint;
      filled += produced;
      return consumed;
    } catch (err) {
      throw corrupt(`${what} does not decompress`, err);
    }
  };
  for (const piece of input) {
    for (let at = 0; at < piece.length;) {
      if (left === 0) throw corrupt(`${what} has data after its zstd frame`);
      at += step(piece.subarray(at));
      if (filled === out.length) {
        yield out;
        out = Buffer.allocUnsafe(DECODED_PIECE_BYTES);
        filled = 0;
      }
    }
  }
  // output zstd still holds when the last input filled the buffer
  while (left !== 0) {
    const before = filled;
    step(Buffer.alloc(0));
    if (filled === before) throw corrupt(`${what} is truncated (its zstd frame does not end)`);
    if (filled === out.length) {
      yield out;
      out = Buffer.allocUnsafe(DECODED_PIECE_BYTES);
      filled = 0;
    }
  }
  if (filled > 0) yield out.subarray(0, filled);
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
