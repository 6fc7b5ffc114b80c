import { createHash } from 'node:crypto';
import { z } from 'zod';
import { BlobType } from '../format/blob.js';
import type { Repository } from '../repository/repository.js';

/**
 * Where a prune run keeps its mark between steps: bytes by name, somewhere the next step (maybe
 * another process) reads them back. The control plane gives a place in its staging bucket; the
 * engine knows nothing of it but these three calls.
 */
export interface PruneScratch {
  save(name: string, bytes: Buffer): Promise<void>;
  /** undefined when there is none by that name */
  load(name: string): Promise<Buffer | undefined>;
  /** done when there is none */
  remove(name: string): Promise<void>;
}

/** The scratch name of a run's mark state: one run at a time uses a scratch place. */
export const MARK_STATE_NAME = 'prune-mark';

/** A mark in progress: the deltas whose merge it is a bitmap of, and the bitmap. */
export interface MarkState {
  /** the index deltas the prune index was built from: the next step rebuilds the same one */
  readonly covered: readonly string[];
  readonly live: Uint8Array;
}

const Header = z.strictObject({
  v: z.literal(1),
  covered: z.array(z.string().regex(/^[0-9a-f]{64}$/)),
  bytes: z.number().int().nonnegative(),
});

/**
 * The blob's associated data: a state sealed for one run (its `startedAt`) does not open as
 * another's, nor as any other object of the store.
 */
function stateAad(startedAt: number): Buffer {
  return createHash('sha256').update(`kloud prune mark state ${startedAt}`).digest();
}

/**
 * Seals `state` with the store's keys (it says which blobs are live: it must not be read, nor
 * altered into deleting a live pack) and saves it; returns the SHA-256 of what was saved, which
 * the checkpoint keeps: only that very state is resumed.
 */
export async function saveMarkState(
  repo: Repository,
  scratch: PruneScratch,
  startedAt: number,
  state: MarkState,
): Promise<string> {
  const header = Buffer.from(JSON.stringify({ v: 1, covered: state.covered, bytes: state.live.length }));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  const live = Buffer.from(state.live.buffer, state.live.byteOffset, state.live.length);
  const sealed = Buffer.concat(
    repo.cipher.seal(BlobType.IndexDelta, stateAad(startedAt), [length, header, live]),
  );
  await scratch.save(MARK_STATE_NAME, sealed);
  return createHash('sha256').update(sealed).digest('hex');
}

/**
 * The state the checkpoint names (`digest`), or undefined when there is none, or another, or one
 * that does not open under the store's keys or does not parse: the mark then starts afresh, which
 * is always safe. Never trusted unchecked.
 */
export async function loadMarkState(
  repo: Repository,
  scratch: PruneScratch,
  startedAt: number,
  digest: string,
): Promise<MarkState | undefined> {
  const sealed = await scratch.load(MARK_STATE_NAME);
  if (!sealed || createHash('sha256').update(sealed).digest('hex') !== digest) return undefined;
  try {
    const plain = repo.cipher.open(BlobType.IndexDelta, stateAad(startedAt), sealed, 'prune mark state');
    const headerEnd = 4 + plain.readUInt32LE(0);
    const header = Header.parse(JSON.parse(plain.subarray(4, headerEnd).toString('utf8')));
    if (plain.length - headerEnd !== header.bytes) return undefined;
    return {
      covered: header.covered,
      live: new Uint8Array(plain.buffer, plain.byteOffset + headerEnd, header.bytes),
    };
  } catch {
    return undefined;
  }
}
