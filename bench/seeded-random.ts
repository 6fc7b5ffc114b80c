import { createCipheriv, createHash } from 'node:crypto';

/**
 * Deterministic randomness for the corpus and the modification step: the same seed and purpose
 * give the same numbers and bytes on every machine and Node version. `Math.random` cannot be
 * seeded, and a JS byte loop is too slow for hundreds of megabytes, so choices come from
 * sfc32 and bulk bytes from an AES-256-CTR keystream over zeros (~GB/s).
 */
export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private readonly key: Buffer;
  private streamCounter = 0;

  constructor(seed: number | string, purpose: string) {
    this.key = createHash('sha256').update(`kloud-bench:${seed}:${purpose}`).digest();
    this.a = this.key.readUInt32LE(0);
    this.b = this.key.readUInt32LE(4);
    this.c = this.key.readUInt32LE(8);
    this.d = this.key.readUInt32LE(12);
    for (let i = 0; i < 16; i++) this.nextUint32();
  }

  /** sfc32: small, fast, and passes PractRand far beyond what a corpus needs. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Fisher–Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  /** `length` incompressible bytes; successive calls continue a fresh keystream each. */
  bytes(length: number): Buffer {
    const iv = Buffer.alloc(16);
    iv.writeUInt32BE(this.streamCounter++, 0);
    const cipher = createCipheriv('aes-256-ctr', this.key, iv);
    return cipher.update(Buffer.alloc(length));
  }
}
