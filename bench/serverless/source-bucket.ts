import { createHash } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mapLimit } from '../../layers/kloset/core/concurrency.js';
import { S3RVER_KEY } from '../../local/s3rver.js';
import { SeededRandom } from '../seeded-random.js';
import { textLike } from '../synthetic-files.js';

/**
 * The source bucket of the serverless benchmark: many objects of mixed sizes under a tree of
 * prefixes, as a data lake or a document store holds them. Every object's bytes are a function
 * of the seed and its index alone, so a version can be regenerated (and checked) without
 * keeping it, and the modification picks the same objects on every machine.
 *
 * Sizes: 80 % small (256 B–16 KiB), 19.75 % medium (16–128 KiB), 0.25 % of a few MiB, and a
 * few objects of 2.5 batches (each becomes ranges read by separate workers). Content: 60 %
 * text-like (compresses ~3×), 30 % random, 10 % a copy of an earlier object (deduplicated).
 */

const KiB = 1024;
const MiB = 1024 * KiB;
/** parallel PUTs while filling the bucket: s3rver's throughput flattens beyond this */
const UPLOADS = 16;

export interface SourceBucketSpec {
  readonly bucket: string;
  /** key prefix of every object (no trailing `/`) */
  readonly prefix: string;
  readonly objects: number;
  readonly seed: number;
  /** the plan's batch budget: the largest objects are 2.5 times it */
  readonly maxBatchBytes: number;
}

export interface SourceObject {
  readonly key: string;
  readonly size: number;
  /** hex SHA-256 of the current content */
  readonly sha256: string;
}

/** A client for s3rver at `endpoint`, as the generator and the checks use it (no counter). */
export function s3rverClient(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
  });
}

/** How many objects are larger than a batch: one per 10,000, at least one. */
function largeCount(objects: number): number {
  return Math.max(1, Math.round(objects / 10_000));
}

function keyOf(index: number): string {
  const dept = index % 20;
  const project = Math.floor(index / 20) % 10;
  return `d${String(dept).padStart(2, '0')}/p${String(project).padStart(2, '0')}/f${String(index).padStart(6, '0')}.dat`;
}

function sizeOf(spec: SourceBucketSpec, index: number, rng: SeededRandom): number {
  if (index >= spec.objects - largeCount(spec.objects)) return Math.floor(2.5 * spec.maxBatchBytes);
  const r = rng.next();
  if (r < 0.8) return rng.int(256, 16 * KiB);
  if (r < 0.9975) return rng.int(16 * KiB, 128 * KiB);
  return rng.int(1 * MiB, 4 * MiB);
}

/** `size` bytes alternating text-like and random segments of up to 1 MiB. */
function mixed(rng: SeededRandom, size: number, textShare: number): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < size;) {
    const length = Math.min(size - at, rng.int(64 * KiB, MiB));
    parts.push(rng.next() < textShare ? textLike(rng, length) : rng.bytes(length));
    at += length;
  }
  return Buffer.concat(parts, size);
}

/**
 * The bytes of object `index` in `version` (0: as generated, 1 and on: after a modification).
 * A copy is the whole first version of an earlier object (its size drawn is then ignored).
 */
function contentOf(spec: SourceBucketSpec, index: number, version: number): Buffer {
  const shape = new SeededRandom(spec.seed, `serverless-object:${index}`);
  const size = sizeOf(spec, index, shape);
  const kind = shape.next();
  const rng = new SeededRandom(spec.seed, `serverless-object:${index}:v${version}`);
  if (kind >= 0.9 && index > 0 && version === 0 && size < MiB)
    return contentOf(spec, shape.int(0, index - 1), 0);
  return mixed(rng, size, kind < 0.6 ? 1 : kind < 0.9 ? 0 : 0.5);
}

async function put(
  client: S3Client,
  spec: SourceBucketSpec,
  index: number,
  body: Buffer,
): Promise<SourceObject> {
  const key = keyOf(index);
  await client.send(new PutObjectCommand({ Bucket: spec.bucket, Key: `${spec.prefix}/${key}`, Body: body }));
  return { key, size: body.length, sha256: createHash('sha256').update(body).digest('hex') };
}

/** Fills the bucket with the first version of every object; the objects, in index order. */
export async function generateSourceBucket(
  client: S3Client,
  spec: SourceBucketSpec,
): Promise<SourceObject[]> {
  const indexes = Array.from({ length: spec.objects }, (_, i) => i);
  return mapLimit(indexes, UPLOADS, (i) => put(client, spec, i, contentOf(spec, i, 0)));
}

/**
 * Rewrites a seeded `percent` of the objects (at least one) with new content of the same size
 * class, as a day of changes would; the objects after it and the keys changed.
 */
export async function modifySourceBucket(
  client: S3Client,
  spec: SourceBucketSpec,
  objects: readonly SourceObject[],
  percent: number,
  round: number,
): Promise<{ objects: SourceObject[]; changed: string[] }> {
  const rng = new SeededRandom(spec.seed, `serverless-modification:${round}`);
  const count = Math.max(1, Math.round((objects.length * percent) / 100));
  const picked = rng.shuffle(objects.map((_, i) => i)).slice(0, count);
  const rewritten = await mapLimit(picked, UPLOADS, (i) => put(client, spec, i, contentOf(spec, i, round)));
  const next = [...objects];
  picked.forEach((index, n) => (next[index] = rewritten[n]!));
  return { objects: next, changed: rewritten.map((o) => o.key).sort() };
}
