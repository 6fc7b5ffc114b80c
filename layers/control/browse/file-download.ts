/**
 * A file of a snapshot for the caller: small files in the answer itself, larger ones copied to
 * the staging bucket and answered with a presigned URL. A copy is named by the app, the snapshot
 * and the path (a snapshot never changes), so a repeated download finds it there and reuses it.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { nameToBytes } from '../../kloset/core/byte-names.js';
import type { EntryInfo } from '../../kloset/index.js';
import type { Store } from '../engine/kloset-adapter.js';
import { DOWNLOAD_URL_SECONDS, type StagingArea } from '../staging/staging-area.js';
import { Unprocessable } from '../errors.js';
import type { FileAnswer } from './browse-schemas.js';

/**
 * Files up to 1 MiB come inline: 1.4 MB once in base64, well inside Lambda's 6 MB answer and API
 * Gateway's 10 MB; anything larger goes through the staging bucket.
 */
export const INLINE_FILE_BYTES = 2 ** 20;

/**
 * The largest file copied to the staging bucket within one call: the copy must end inside the
 * function's 29 s (API Gateway's timeout), and a timeout would be a 504 that says nothing. 100 MB
 * was staged in 5.5-8.5 s here (docs/API.md): twice that keeps a margin; larger files are for a
 * restore task (an archive, or onto an app's resource).
 */
export const MAX_STAGED_FILE_BYTES = 200 * 2 ** 20;

/** `files/<app>/<snapshot>/<SHA-256 of the path's bytes>`: no name in the key, any bytes in the path. */
export function stagedKey(appId: string, snapshotId: string, path: string): string {
  const digest = createHash('sha256').update(nameToBytes(path)).digest('hex');
  return `files/${appId}/${snapshotId}/${digest}`;
}

export class FileDownloads {
  constructor(
    private readonly staging: StagingArea,
    private readonly maxStagedBytes = MAX_STAGED_FILE_BYTES,
  ) {}

  /** `entry` is a file of the snapshot `snapshotId` (a full ID) of the app's store. */
  async download(store: Store, appId: string, snapshotId: string, entry: EntryInfo): Promise<FileAnswer> {
    const { path, size } = entry;
    if (size <= INLINE_FILE_BYTES) {
      const chunks: Buffer[] = [];
      for await (const chunk of store.cat(snapshotId, path)) chunks.push(chunk);
      return { path, size, content: Buffer.concat(chunks).toString('base64') };
    }
    if (size > this.maxStagedBytes)
      throw new Unprocessable(
        `${path.toWellFormed()} has ${size} bytes, more than the ${this.maxStagedBytes} a download copies within one request: restore it instead (POST /store-apps/{appId}/restores with {"destination":{"archive":"tar"}})`,
        'FILE_TOO_LARGE',
      );
    const key = stagedKey(appId, snapshotId, path);
    if ((await this.staging.size(key)) !== size)
      await this.staging.upload(key, Readable.from(store.cat(snapshotId, path)));
    // taken before signing, so the URL works at least until then
    const expiresAt = new Date(Date.now() + DOWNLOAD_URL_SECONDS * 1000).toISOString();
    const url = await this.staging.downloadUrl(key, entry.name.toWellFormed(), DOWNLOAD_URL_SECONDS);
    return { path, size, url, expiresAt };
  }
}
