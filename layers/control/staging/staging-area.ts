/**
 * The staging bucket: where the control plane puts files a caller downloads (a file assembled
 * from a snapshot, a restore's archive) and answers a short-lived presigned URL to them. The
 * bucket expires its objects (lib/staging-bucket.ts); keys are `<kind>/<id>/<name>`.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Readable } from 'node:stream';

/** How long a download link works: long enough to start a large download, short enough to leak little. */
export const DOWNLOAD_URL_SECONDS = 15 * 60;

export interface StagedFile {
  readonly key: string;
  readonly bytes: number;
}

export class StagingArea {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  /** Streams `body` to `key` (multipart when large) and answers its size. */
  async upload(
    key: string,
    body: Readable | Uint8Array,
    contentType = 'application/octet-stream',
  ): Promise<StagedFile> {
    await new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: contentType },
      queueSize: 2,
      partSize: 8 * 2 ** 20,
    }).done();
    return { key, bytes: (await this.size(key)) ?? 0 };
  }

  /** Writes a small JSON object (a backup's batch, its plan cursor, a worker's result). */
  async putJson(key: string, value: unknown): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: JSON.stringify(value),
        ContentType: 'application/json',
      }),
    );
  }

  /** The JSON object at `key`, or undefined when there is none. */
  async getJson(key: string): Promise<unknown> {
    try {
      const got = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return JSON.parse(await got.Body!.transformToString()) as unknown;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** The bytes of the object at `key`, or undefined when there is none. */
  async getBytes(key: string): Promise<Buffer | undefined> {
    try {
      const got = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return Buffer.from(await got.Body!.transformToByteArray());
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Removes the object at `key` (done when there is none). */
  async remove(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  /** The size of the object at `key`, or undefined when there is none (a HEAD). */
  async size(key: string): Promise<number | undefined> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return head.ContentLength;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** A GET URL for `key` that works for `seconds`; the browser saves it as `filename`. */
  downloadUrl(key: string, filename: string, seconds = DOWNLOAD_URL_SECONDS): Promise<string> {
    const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
    return getSignedUrl(
      this.s3,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ResponseContentDisposition: `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`,
      }),
      { expiresIn: seconds },
    );
  }
}

function isNotFound(err: unknown): boolean {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404;
}
