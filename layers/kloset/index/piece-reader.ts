import { constants } from 'node:buffer';
import { corrupt } from '../core/errors.js';

const MAX_LENGTH = constants.MAX_LENGTH;

/**
 * Reads little-endian fields from bytes that come in pieces (a delta as it is decrypted and
 * decompressed), as `BinaryReader` does from one buffer: a field within a piece is a view of it,
 * one that spans pieces (the blob records) is gathered into a buffer of its own, so the decoded
 * bytes are never held whole beside what is kept. `expectEnd` runs the pieces to their end, where
 * the cipher checks its tag: nothing read may be trusted before it returns.
 */
export class PieceReader {
  private readonly pieces: Iterator<Buffer>;
  private piece: Buffer = Buffer.alloc(0);
  private at = 0;
  /** bytes read so far */
  private pos = 0;

  constructor(
    pieces: Iterable<Buffer>,
    /** the decoded length the payload declares (Infinity: unknown): nothing is read, nor allocated, past it */
    private readonly limit: number,
    private readonly what: string,
  ) {
    this.pieces = pieces[Symbol.iterator]();
  }

  u8(): number {
    return this.bytes(1)[0]!;
  }

  u32(): number {
    return this.bytes(4).readUInt32LE(0);
  }

  u64(): number {
    const v = this.bytes(8).readBigUInt64LE(0);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`${this.what} holds an impossible size`);
    return Number(v);
  }

  bytes(n: number): Buffer {
    if (this.pos + n > this.limit || n > MAX_LENGTH) throw corrupt(`${this.what} is truncated`);
    this.pos += n;
    if (this.at + n <= this.piece.length) {
      this.at += n;
      return this.piece.subarray(this.at - n, this.at);
    }
    const out = Buffer.allocUnsafe(n);
    for (let o = 0; o < n;) {
      if (this.at === this.piece.length && !this.nextPiece()) throw corrupt(`${this.what} is truncated`);
      const copied = this.piece.copy(out, o, this.at, Math.min(this.piece.length, this.at + n - o));
      this.at += copied;
      o += copied;
    }
    return out;
  }

  expectEnd(): void {
    let extra = this.piece.length - this.at;
    while (this.nextPiece()) extra += this.piece.length;
    if (extra !== 0) throw corrupt(`${this.what} has ${extra} unexpected trailing bytes`);
    if (Number.isFinite(this.limit) && this.pos !== this.limit)
      throw corrupt(`${this.what} is shorter than it declares`);
  }

  private nextPiece(): boolean {
    const next = this.pieces.next();
    if (next.done) return false;
    this.piece = next.value;
    this.at = 0;
    return true;
  }
}
