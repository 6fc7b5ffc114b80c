import {
  ListObjectsV2Command,
  type PutObjectCommandInput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { KlosetError } from '../../core/errors.js';
import { isAccessDenied, isNotFound, s3Failure } from './s3-errors.js';
import type { S3Settings } from './s3-options.js';

/** Runs one SDK request, turning its failure into the connector's one-line error. */
export async function s3Call<T>(s: S3Settings, action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw s3Failure(err, s, action);
  }
}

/** Whether any key starts with `prefix` (one listing of one key); a missing bucket is BUCKET_NOT_FOUND. */
export async function anyKeyUnder(client: S3Client, s: S3Settings, prefix: string): Promise<boolean> {
  const res = await s3Call(s, 'ListObjectsV2', () =>
    client.send(new ListObjectsV2Command({ Bucket: s.bucket, Prefix: prefix, MaxKeys: 1 })),
  );
  return (res.KeyCount ?? res.Contents?.length ?? 0) > 0;
}

/**
 * Whether a key-level read (GetObject, HeadObject) failed with `err` because `key` does not exist.
 * S3 answers a missing key with 404 only to a caller allowed to list the bucket; one whose
 * s3:ListBucket carries an s3:prefix condition (a store bucket given with a prefix,
 * lib/store-buckets.ts) gets 403 AccessDenied. A refusal is settled by listing that exact key,
 * which the condition allows (the first key from Prefix=key is the key itself, if it exists): no
 * such key, it is missing; the key exists (or the listing is refused too), the refusal is real; a
 * listing that fails otherwise (throttled past the SDK's retries) throws its own error.
 */
export async function isMissingKey(
  client: S3Client,
  s: S3Settings,
  key: string,
  err: unknown,
): Promise<boolean> {
  if (!(err instanceof KlosetError)) return false;
  if (isNotFound(err.cause)) return true;
  if (!isAccessDenied(err.cause)) return false;
  try {
    const res = await client.send(new ListObjectsV2Command({ Bucket: s.bucket, Prefix: key, MaxKeys: 1 }));
    return res.Contents?.[0]?.Key !== key;
  } catch (listErr) {
    // refused too: the caller reports the read's own AccessDenied; any other failure is its own
    if (isAccessDenied(listErr)) return false;
    throw s3Failure(listErr, s, 'ListObjectsV2');
  }
}

/** The server-side encryption a location asks for, as PutObject parameters. */
export function encryptionParams(
  s: S3Settings,
): Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId'> {
  const sse = s.sse;
  if (!sse) return {};
  if (sse.type === 'AES256') return { ServerSideEncryption: 'AES256' };
  return { ServerSideEncryption: 'aws:kms', ...(sse.keyId && { SSEKMSKeyId: sse.keyId }) };
}

export interface Multipart {
  /** bodies from this size on are multipart uploads (S3's smallest part is 5 MiB) */
  readonly threshold: number;
  readonly partSize: number;
  /** parts of one upload in flight */
  readonly queueSize: number;
}

/** One PutObject, or a multipart upload from `multipart.threshold` bytes on (a stream body needs one). */
export function putObject(
  client: S3Client,
  s: S3Settings,
  params: PutObjectCommandInput,
  size: number,
  multipart: Multipart,
): Promise<unknown> {
  return s3Call(s, 'PutObject', () =>
    size >= multipart.threshold
      ? new Upload({
          client,
          params,
          partSize: multipart.partSize,
          queueSize: multipart.queueSize,
          leavePartsOnError: false,
        }).done()
      : client.send(new PutObjectCommand({ ...params, ContentLength: size })),
  );
}
