import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { FastCdc, chunkStream } from '../../../../layers/kloset/chunker/fastcdc.js';

const params = { algorithm: 'fastcdc' as const, min: 2048, avg: 8192, max: 65536, seed: 'ab'.repeat(16) };

function cuts(cdc: FastCdc, data: Buffer): number[] {
  const lengths: number[] = [];
  for (let start = 0; start < data.length;) {
    const n = cdc.cut(data, start, data.length);
    lengths.push(n);
    start += n;
  }
  return lengths;
}

/** The chunks of a streamed input, copied as they come: a chunk is valid until the next one. */
async function streamed(cdc: FastCdc, data: Buffer, pieces: number[]): Promise<Buffer[]> {
  async function* source() {
    let at = 0;
    for (const p of pieces) {
      if (at >= data.length) break;
      yield data.subarray(at, at + p);
      at += p;
    }
    if (at < data.length) yield data.subarray(at);
  }
  const out: Buffer[] = [];
  for await (const c of chunkStream(cdc, source())) out.push(Buffer.from(c));
  return out;
}

describe('FastCDC chunker', () => {
  const cdc = new FastCdc(params);
  const data = randomBytes(2 * 1024 * 1024);

  test('chunks respect min and max and cover the input', () => {
    const lengths = cuts(cdc, data);
    expect(lengths.reduce((a, b) => a + b, 0)).toBe(data.length);
    for (const n of lengths.slice(0, -1)) {
      expect(n).toBeGreaterThan(params.min);
      expect(n).toBeLessThanOrEqual(params.max);
    }
    const mean = data.length / lengths.length;
    expect(mean).toBeGreaterThan(params.avg / 2);
    expect(mean).toBeLessThan(params.avg * 2);
  });

  test('an insertion near the start changes only the chunks around it', () => {
    const shifted = Buffer.concat([
      data.subarray(0, 5000),
      Buffer.from('inserted bytes'),
      data.subarray(5000),
    ]);
    const a = new Set(cuts(cdc, data).map((_, i, all) => all.slice(0, i + 1).reduce((x, y) => x + y, 0)));
    const b = cuts(cdc, shifted).map((_, i, all) => all.slice(0, i + 1).reduce((x, y) => x + y, 0) - 14);
    const shared = b.filter((end) => a.has(end)).length;
    expect(shared).toBeGreaterThan(b.length - 3);
  });

  test('the gear seed decides the boundaries', () => {
    const other = new FastCdc({ ...params, seed: 'cd'.repeat(16) });
    expect(cuts(other, data)).not.toEqual(cuts(cdc, data));
  });

  test('streaming gives the same chunks, byte for byte, whatever the input pieces', async () => {
    const small = data.subarray(0, 300_000);
    const expected = cuts(cdc, small);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 200_000 }), { minLength: 1, maxLength: 20 }),
        async (pieces) => {
          const chunks = await streamed(cdc, small, pieces);
          expect(chunks.map((c) => c.length)).toEqual(expected);
          expect(Buffer.concat(chunks).equals(small)).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });

  test('streams at once, and streams abandoned half-way, never share a window', async () => {
    // windows outlive their stream for the next ones: interleaved streams must each hold their own
    const inputs = Array.from({ length: 6 }, () => randomBytes(400_000));
    async function* slowly(bytes: Buffer) {
      for (let at = 0; at < bytes.length; at += 30_000) {
        await new Promise((resolve) => setImmediate(resolve));
        yield bytes.subarray(at, at + 30_000);
      }
    }
    const abandoned = await Promise.all(
      inputs.slice(0, 3).map(async (bytes) => {
        for await (const chunk of chunkStream(cdc, slowly(bytes))) return Buffer.from(chunk);
      }),
    );
    abandoned.forEach((first, i) => expect(first?.length).toBe(cuts(cdc, inputs[i]!)[0]));
    const whole = await Promise.all(
      inputs.map(async (bytes) => {
        const out: Buffer[] = [];
        for await (const chunk of chunkStream(cdc, slowly(bytes))) out.push(Buffer.from(chunk));
        return out;
      }),
    );
    whole.forEach((chunks, i) => {
      expect(chunks.map((c) => c.length)).toEqual(cuts(cdc, inputs[i]!));
      expect(Buffer.concat(chunks).equals(inputs[i]!)).toBe(true);
    });
  });

  test('an input smaller than min is one chunk, an empty input none', async () => {
    expect(await streamed(cdc, Buffer.from('tiny'), [4])).toEqual([Buffer.from('tiny')]);
    expect(await streamed(cdc, Buffer.alloc(0), [])).toEqual([]);
  });
});
