import { open } from 'node:fs/promises';
import { SeededRandom } from './seeded-random.js';

/**
 * The synthetic part of the corpus: what /usr does not have. Real system files are small and
 * mostly compressible; backups also meet large files that mix incompressible and compressible
 * regions (archives, media with text metadata, databases), and disk images full of zeros and
 * repeated extents, where content-defined chunking and dedup earn their keep.
 */

const KiB = 1024;
const SECTOR = 4 * KiB;

/** Text-like bytes (words, spaces, newlines): compresses about 3× with zstd. */
export function textLike(rng: SeededRandom, length: number): Buffer {
  const vocabulary: Buffer[] = [];
  for (let i = 0; i < 1024; i++) {
    const word = Buffer.allocUnsafe(rng.int(2, 11));
    for (let j = 0; j < word.length; j++) word[j] = 97 + (rng.nextUint32() % 26);
    vocabulary.push(word);
  }
  const out = Buffer.allocUnsafe(length);
  let pos = 0;
  while (pos < length) {
    // Zipf-like: low indexes are much more frequent, as in natural text.
    const r = rng.next();
    const word = vocabulary[Math.floor(r * r * r * vocabulary.length)] as Buffer;
    pos += word.copy(out, pos);
    if (pos < length) out[pos++] = rng.nextUint32() % 12 === 0 ? 10 : 32;
  }
  return out;
}

/** Fixed-size records with counters and a few random fields, like a database or a log. */
function recordsLike(rng: SeededRandom, length: number): Buffer {
  const out = Buffer.alloc(length);
  const noise = rng.bytes(Math.ceil(length / 64) * 8);
  for (let off = 0, i = 0; off + 64 <= length; off += 64, i++) {
    out.writeUInt32LE(i, off);
    out.writeUInt32LE(0x4b4c4f55, off + 4);
    noise.copy(out, off + 8, i * 8, i * 8 + 8);
    out.write(`row-${i % 1000}`, off + 16, 'latin1');
  }
  return out;
}

/** Writes a file from successive buffers produced by `next` until `size` bytes are written. */
async function writeFileFrom(path: string, size: number, next: (remaining: number) => Buffer): Promise<void> {
  const fh = await open(path, 'w', 0o644);
  try {
    let written = 0;
    while (written < size) {
      const part = next(size - written);
      const slice = part.length > size - written ? part.subarray(0, size - written) : part;
      await fh.write(slice, 0, slice.length, written);
      written += slice.length;
    }
  } finally {
    await fh.close();
  }
}

/** A large file of segments (64 KiB–1 MiB) that alternate random, text, records and zeros. */
export async function writeMixedEntropyFile(path: string, size: number, rng: SeededRandom): Promise<void> {
  await writeFileFrom(path, size, (remaining) => {
    const length = Math.min(remaining, rng.int(64, 1024) * KiB);
    const kind = rng.next();
    if (kind < 0.4) return rng.bytes(length);
    if (kind < 0.7) return textLike(rng, length);
    if (kind < 0.9) return recordsLike(rng, length);
    return Buffer.alloc(length);
  });
}

/**
 * A VM-disk-like image: extents of 256 KiB–4 MiB that are zeros (unallocated), copies of an
 * earlier extent (the same files installed twice), sectors drawn from a small pool (filesystem
 * metadata), or fresh content. Extents are sector-aligned, as a filesystem would place them.
 */
export async function writeVmImage(path: string, size: number, rng: SeededRandom): Promise<void> {
  const sectorPool = Array.from({ length: 64 }, () => rng.bytes(SECTOR));
  const written: Buffer[] = [];
  await writeFileFrom(path, size, (remaining) => {
    const length = Math.min(remaining, rng.int(64, 1024) * SECTOR);
    const kind = rng.next();
    let extent: Buffer;
    if (kind < 0.25) extent = Buffer.alloc(length);
    else if (kind < 0.5 && written.length > 0) extent = rng.pick(written);
    else if (kind < 0.65) {
      extent = Buffer.allocUnsafe(length);
      for (let off = 0; off < length; off += SECTOR) rng.pick(sectorPool).copy(extent, off);
    } else if (kind < 0.85) extent = rng.bytes(length);
    else extent = textLike(rng, length);
    // Keeping every extent would hold the whole image in memory; a window is enough to repeat.
    written.push(extent);
    if (written.length > 16) written.shift();
    return extent;
  });
}
