import { Aws } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';

/** An S3 bucket, or a prefix of one, that the control plane may use as a store location. */
export interface StoreBucket {
  readonly bucket: string;
  /** the key prefix store locations must lie under (`''`: the whole bucket; otherwise ends with `/`) */
  readonly prefix: string;
}

/**
 * The least privilege over the store buckets: object read/write under each prefix
 * (`arn:aws:s3:::bucket/prefix*`) and listing with an `s3:prefix` condition, so a function can
 * neither read nor list beyond the prefixes it was given. `read`: no writes (browsing a store
 * reads it); `write`: no delete either (stores are write-once, a backup or a restore only adds);
 * `maintain`: delete too, for the task worker alone (a maintenance's prune removes packs, plans
 * and the index deltas it consolidated).
 * Under a prefix, S3 answers a GET or HEAD of a missing key with 403, not 404 (404 is only for a
 * caller with ListBucket on the whole bucket); the engine's S3 connector then lists that exact key
 * (allowed by the condition) to tell a missing object from a real refusal (s3-requests.ts,
 * `isMissingKey`), so no wider listing right is needed.
 */
export function storeBucketStatements(
  buckets: readonly StoreBucket[],
  access: 'read' | 'write' | 'maintain' = 'write',
): PolicyStatement[] {
  const objectActions = {
    read: ['s3:GetObject'],
    write: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
    maintain: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'],
  }[access];
  return buckets.flatMap(({ bucket, prefix }) => [
    new PolicyStatement({
      actions: objectActions,
      resources: [`arn:${Aws.PARTITION}:s3:::${bucket}/${prefix}*`],
    }),
    new PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [`arn:${Aws.PARTITION}:s3:::${bucket}`],
      ...(prefix === '' ? {} : { conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } } }),
    }),
  ]);
}

/**
 * The data packs' keys under each store bucket's prefix, wherever a store lies below it: a
 * store's packs are `<store>/packs/<xx>/<name>` (docs/FORMAT.md), at the prefix itself or deeper.
 */
export function storePackResources(buckets: readonly StoreBucket[]): string[] {
  return buckets.flatMap(({ bucket, prefix }) => [
    `arn:${Aws.PARTITION}:s3:::${bucket}/${prefix}packs/*`,
    `arn:${Aws.PARTITION}:s3:::${bucket}/${prefix}*/packs/*`,
  ]);
}

/**
 * Asking for a readable copy of an archived object (S3 Glacier, Deep Archive): only on the
 * stores' packs, the only objects a store keeps in archive storage.
 */
export function storeRetrievalStatement(buckets: readonly StoreBucket[]): PolicyStatement {
  return new PolicyStatement({ actions: ['s3:RestoreObject'], resources: storePackResources(buckets) });
}

/**
 * A store bucket from its written form: `bucket`, `bucket/prefix` or `s3://bucket/prefix`; the
 * prefix gets its trailing `/` so that `logs` does not also grant `logs-old/`.
 */
export function parseStoreBucket(text: string): StoreBucket {
  const [bucket = '', ...rest] = text.replace(/^s3:\/\//, '').split('/');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new Error(`not a bucket name: ${text}`);
  const prefix = rest.filter((part) => part !== '').join('/');
  return { bucket, prefix: prefix === '' ? '' : `${prefix}/` };
}
