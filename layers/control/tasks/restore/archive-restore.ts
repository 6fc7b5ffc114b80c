/**
 * A restore into a tar archive in the staging bucket, answered with a short-lived download URL.
 *
 * The archive is written in one slice: the tar stream goes straight into a multipart upload, and
 * an upload cannot outlive the invocation that streams it. So the archive is bounded instead:
 * past MAX_ARCHIVE_BYTES of content the upload is abandoned and the restore refused, pointing to
 * a restore into a store app's location, which continues across invocations. (Continuing an
 * archive would mean keeping the multipart upload's ID, its parts and the tail under the 5 MiB
 * part minimum between slices.)
 */
import { Unprocessable } from '../../errors.js';
import { type Store, TarDestination } from '../../engine/kloset-adapter.js';
import { DOWNLOAD_URL_SECONDS, type StagingArea } from '../../staging/staging-area.js';
import { RestoreCounts } from './restore-counts.js';

const MIB = 1024 ** 2;
/** Content one archive may hold: written in one invocation at ~50 MB/s or more, well inside Lambda's 15 minutes. */
export const MAX_ARCHIVE_BYTES = 4096 * MIB;

export interface ArchiveRequest {
  readonly taskId: string;
  readonly snapshot: string;
  readonly paths: readonly string[];
  readonly signal: AbortSignal;
  /** content beyond which the archive is refused (default MAX_ARCHIVE_BYTES) */
  readonly maxBytes?: number;
  /** files and bytes written so far */
  readonly onProgress: (files: number, bytes: number) => void;
}

export interface StagedArchive {
  readonly counts: RestoreCounts;
  readonly destination: string;
  readonly downloadUrl: string;
  readonly expiresAt: string;
}

/** The archive, staged; undefined when the task was cancelled (nothing is kept). */
export async function restoreToArchive(
  store: Store,
  staging: StagingArea,
  request: ArchiveRequest,
): Promise<StagedArchive | undefined> {
  const filename = `kloud-restore-${request.snapshot.slice(0, 8)}.tar`;
  const key = `restores/${request.taskId}/${filename}`;
  const tar = new TarDestination(filename);
  const uploading = staging.upload(key, tar.archive, 'application/x-tar');
  // an upload that fails stops the writes waiting for it
  uploading.catch((err: Error) => tar.abort(err));
  const counts = new RestoreCounts();
  let bytesNow = 0;
  const maxBytes = request.maxBytes ?? MAX_ARCHIVE_BYTES;
  const tooLarge = () => bytesNow > maxBytes;
  try {
    for (const path of request.paths) {
      const result = await store.restore(request.snapshot, path, {
        destination: tar,
        stopBefore: () => request.signal.aborted || tooLarge(),
        onProgress: (p) => {
          bytesNow = counts.bytes + p.bytes;
          request.onProgress(counts.files + p.files, bytesNow);
        },
      });
      counts.add(result);
      bytesNow = counts.bytes;
      if (result.resumeAt) break;
    }
  } catch (err) {
    tar.abort(err as Error);
    throw err;
  }
  if (request.signal.aborted || tooLarge()) {
    tar.abort(new Error('the archive was abandoned'));
    await uploading.catch(() => undefined);
    if (request.signal.aborted) return undefined;
    throw new Unprocessable(
      `the selection holds more than ${Math.round(maxBytes / MIB)} MiB, more than one archive may: restore it into a store app's location (it continues across invocations), or select less`,
      'ARCHIVE_TOO_LARGE',
    );
  }
  await tar.close();
  await uploading;
  return {
    counts,
    destination: `archive ${filename}`,
    downloadUrl: await staging.downloadUrl(key, filename),
    expiresAt: new Date(Date.now() + DOWNLOAD_URL_SECONDS * 1000).toISOString(),
  };
}
