import { createHash } from 'node:crypto';
import { z } from 'zod';

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
 * Splits a byte stream into content-defined chunks. Holds at most `max` bytes plus one input
 * piece. A piece that arrives while nothing is buffered is cut in place, without a copy (small
 * files: one read, no copy at all); bytes left over are copied into a buffer that grows only
 * as far as needed. Yielded chunks are never overwritten, so the consumer may keep them.
 */
export async function* chunkStream(cdc: FastCdc, source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const { max } = cdc.params;
  let buf: Buffer = Buffer.alloc(0);
  let owned = false;
  let start = 0;
  let end = 0;
  for await (const chunk of source) {
    const piece = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    if (start === end) {
      buf = piece;
      owned = false;
      start = 0;
      end = piece.length;
    } else {
      const held = end - start;
      if (!owned || end + piece.length > buf.length) {
        const next = Buffer.allocUnsafe(
          Math.max(held + piece.length, Math.min(2 * max, 2 * (held + piece.length))),
        );
        buf.copy(next, 0, start, end);
        buf = next;
        owned = true;
        start = 0;
        end = held;
      }
      piece.copy(buf, end);
      end += piece.length;
    }
    while (end - start >= max) {
      const n = cdc.cut(buf, start, end);
      yield owned ? Buffer.from(buf.subarray(start, start + n)) : buf.subarray(start, start + n);
      start += n;
    }
  }
  while (end > start) {
    const n = cdc.cut(buf, start, end);
    yield owned ? Buffer.from(buf.subarray(start, start + n)) : buf.subarray(start, start + n);
    start += n;
  }
}
