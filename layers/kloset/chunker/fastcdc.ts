import { createHash } from 'node:crypto';
import { z } from 'zod';
import { SpareBuffers } from '../core/concurrency.js';

export const chunkingSchema = z
  .object({
    algorithm: z.literal('fastcdc'),
    min: z.number().int().positive(),
    avg: z.number().int().positive(),
    max: z.number().int().positive(),
    /** hex seed of the gear table; per store, so chunk boundaries do not fingerprint content */
    seed: z.string().regex(/^[0-9a-f]{32,64}$/),
  })
  .refine((c) => c.min < c.avg && c.avg < c.max, { message: 'chunk sizes must satisfy min < avg < max' });
export type ChunkingParams = z.infer<typeof chunkingSchema>;

export const DEFAULT_CHUNK_SIZES = { min: 512 * 1024, avg: 1024 * 1024, max: 8 * 1024 * 1024 } as const;

/** Gear table entry i = first 4 bytes (LE) of SHA-256(seed | u8 i). */
export function gearTable(seedHex: string): Int32Array {
  const seed = Buffer.from(seedHex, 'hex');
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    table[i] = createHash('sha256').update(seed).update(Buffer.of(i)).digest().readInt32LE(0);
  }
  return table;
}

/** A mask of the `bits` highest bits: after `h << 1` steps they depend on the last 32 bytes. */
function topMask(bits: number): number {
  return bits >= 32 ? -1 : ~((1 << (32 - bits)) - 1);
}

/**
 * FastCDC with normalized chunking (Xia et al., 2016/2020): cut points are skipped below `min`,
 * searched with a harder mask up to `avg` and an easier one up to `max`, which narrows the
 * chunk-size distribution around `avg`.
 */
export class FastCdc {
  private readonly gear: Int32Array;
  private readonly maskS: number;
  private readonly maskL: number;

  constructor(readonly params: ChunkingParams) {
    this.gear = gearTable(params.seed);
    const bits = Math.round(Math.log2(params.avg));
    this.maskS = topMask(bits + 2);
    this.maskL = topMask(bits - 2);
  }

  /**
   * Length of the chunk that starts at `start`, looking at `buf[start, end)`. The caller passes
   * at least `max` bytes unless the input ends there.
   */
  cut(buf: Uint8Array, start: number, end: number): number {
    const { min, avg, max } = this.params;
    const n = end - start;
    if (n <= min) return n;
    const gear = this.gear;
    const hardEnd = start + Math.min(n, max);
    const normalEnd = start + Math.min(n, avg);
    let h = 0;
    let i = start + min;
    const maskS = this.maskS;
    for (; i < normalEnd; i++) {
      h = ((h << 1) + gear[buf[i]!]!) | 0;
      if ((h & maskS) === 0) return i + 1 - start;
    }
    const maskL = this.maskL;
    for (; i < hardEnd; i++) {
      h = ((h << 1) + gear[buf[i]!]!) | 0;
      if ((h & maskL) === 0) return i + 1 - start;
    }
    return hardEnd - start;
  }
}

/**
 * Windows of finished streams, for the next ones (a window is larger than `max`): as many as a
 * backup streams files at once.
 */
const spareWindows = new SpareBuffers(4);

/**
 * Splits a byte stream into content-defined chunks. A yielded chunk is a view valid only until
 * the next one is asked for: the consumer copies what it keeps. Pieces are cut where they are
 * (small files: one read, no copy at all); only when bytes left after the last boundary meet
 * the next piece are both copied together, into a window of the stream's own that is reused
 * for the rest of the stream (and by a later stream once this one ends).
 */
export async function* chunkStream(cdc: FastCdc, source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const { max } = cdc.params;
  let window: Buffer | undefined;
  /** the bytes not yet cut: buf[start, end), in a piece of the source or in the window */
  let buf: Buffer = Buffer.alloc(0);
  let start = 0;
  let end = 0;
  try {
    for await (const chunk of source) {
      const piece = Buffer.isBuffer(chunk)
        ? chunk
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
      const held = end - start;
      if (held === 0) {
        buf = piece;
        start = 0;
        end = piece.length;
      } else {
        if (buf !== window || end + piece.length > window.length) {
          // bytes after the last boundary are fewer than `max`, so this size always has room
          if (!window || window.length < held + piece.length) window = spareWindows.take(max + piece.length);
          if (buf === window) window.copyWithin(0, start, end);
          else buf.copy(window, 0, start, end);
          buf = window;
          start = 0;
          end = held;
        }
        end += piece.copy(window, end);
      }
      for (;;) {
        const n = cdc.cut(buf, start, end);
        // a cut short of the data's end is a boundary more data cannot move; one at the end is
        // only the data running out, unless the chunk reached `max`
        if (n === end - start && n < max) break;
        yield buf.subarray(start, start + n);
        start += n;
      }
    }
    while (start < end) {
      const n = cdc.cut(buf, start, end);
      yield buf.subarray(start, start + n);
      start += n;
    }
  } finally {
    // the consumer is done with the last view once it stops asking for chunks
    if (window) spareWindows.give(window);
  }
}
