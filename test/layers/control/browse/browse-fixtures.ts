/** Content for the browse tests: deterministic pseudo-random bytes, made on the fly (nothing big is committed). */
import { createCipheriv, createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';

const BLOCK = 1 << 20;

/** `bytes` of AES-CTR keystream keyed by `seed`: the same bytes for the same seed, incompressible. */
function* keystream(seed: string, bytes: number): Generator<Buffer> {
  const cipher = createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16));
  for (let left = bytes; left > 0; left -= BLOCK) yield cipher.update(Buffer.alloc(Math.min(BLOCK, left)));
}

/** Writes the file and answers its SHA-256 (hex). */
export async function writePseudoRandom(path: string, seed: string, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(function* () {
    for (const block of keystream(seed, bytes)) {
      hash.update(block);
      yield block;
    }
  }, createWriteStream(path));
  return hash.digest('hex');
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The SHA-256 of what a GET of `url` answers, and its status. */
export async function fetchDigest(url: string): Promise<{ status: number; digest: string; bytes: number }> {
  const res = await fetch(url);
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of res.body!) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { status: res.status, digest: hash.digest('hex'), bytes };
}
