/**
 * A Bloom filter over blob IDs. IDs are keyed MACs, uniformly random, so the filter takes its
 * hashes from the ID's own bytes (double hashing on two 32-bit words) instead of hashing again.
 * It answers "certainly absent" without touching the disk: the common answer of `has()` in a
 * first backup.
 */
export class BloomFilter {
  private readonly bits: Uint32Array;
  private readonly size: number;
  private readonly hashes: number;

  /** A filter of `bytes` bytes (at least 8) for about `expected` IDs. */
  constructor(bytes: number, expected: number) {
    const words = Math.max(2, Math.floor(bytes / 4));
    this.bits = new Uint32Array(words);
    this.size = words * 32;
    // k = (m/n) ln 2 minimises false positives; beyond 8 the extra probes cost more than they save
    const perId = this.size / Math.max(1, expected);
    this.hashes = Math.max(1, Math.min(8, Math.round(perId * Math.LN2)));
  }

  get byteLength(): number {
    return this.bits.byteLength;
  }

  add(id: Buffer, at = 0): void {
    const h1 = id.readUInt32LE(at + 24);
    const h2 = (id.readUInt32LE(at + 28) | 1) >>> 0;
    for (let i = 0; i < this.hashes; i++) {
      const bit = (h1 + i * h2) % this.size;
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
  }

  mayHave(id: Buffer, at = 0): boolean {
    const h1 = id.readUInt32LE(at + 24);
    const h2 = (id.readUInt32LE(at + 28) | 1) >>> 0;
    for (let i = 0; i < this.hashes; i++) {
      const bit = (h1 + i * h2) % this.size;
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}
