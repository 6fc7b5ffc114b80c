import type { ArchiveTerms, RetrievalTier, ThawState } from '../../core/store-backend.js';
import type { StorageClass } from './s3-options.js';

/**
 * S3's archive classes: an object in one is listed and HEADed as usual, but a GET answers
 * InvalidObjectState until a RestoreObject made a temporary copy readable.
 *
 * AWS list prices, us-east-1, 2024 (S3 pricing page and "Understanding archive retrieval
 * options" in the S3 user guide); estimate only. Bulk retrievals from GLACIER are free; DEEP_ARCHIVE
 * offers no expedited tier, and AWS gives its times only as "within" (so min = max). Storage
 * prices and minimum durations: the S3 pricing page, "Storage pricing".
 */
const ARCHIVES: Partial<Record<StorageClass, ArchiveTerms>> = {
  GLACIER: {
    name: 'GLACIER',
    minimumStorageDays: 90,
    usdPerGiBMonth: 0.0036,
    tiers: {
      expedited: { hours: [1 / 60, 5 / 60], usdPerGiB: 0.03, usdPer1000Requests: 10 },
      standard: { hours: [3, 5], usdPerGiB: 0.01, usdPer1000Requests: 0.05 },
      bulk: { hours: [5, 12], usdPerGiB: 0, usdPer1000Requests: 0 },
    },
  },
  DEEP_ARCHIVE: {
    name: 'DEEP_ARCHIVE',
    minimumStorageDays: 180,
    usdPerGiBMonth: 0.00099,
    tiers: {
      standard: { hours: [12, 12], usdPerGiB: 0.02, usdPer1000Requests: 0.1 },
      bulk: { hours: [48, 48], usdPerGiB: 0.0025, usdPer1000Requests: 0.025 },
    },
  },
};

/** The terms of an archive class, or undefined for a class that is readable at once. */
export function archiveTerms(storageClass: string | undefined): ArchiveTerms | undefined {
  return storageClass ? ARCHIVES[storageClass as StorageClass] : undefined;
}

/** RestoreObject's spelling of a tier. */
export const S3_TIER: Record<RetrievalTier, 'Expedited' | 'Standard' | 'Bulk'> = {
  expedited: 'Expedited',
  standard: 'Standard',
  bulk: 'Bulk',
};

/**
 * The state of an object from its HEAD: its storage class and the `x-amz-restore` header, which
 * is absent until a restore was requested, then `ongoing-request="true"`, then
 * `ongoing-request="false", expiry-date="..."` while the copy is readable.
 */
export function thawStateOf(storageClass: string | undefined, restore: string | undefined): ThawState {
  const archive = archiveTerms(storageClass);
  if (!archive) return { state: 'ready' };
  const ongoing = /ongoing-request="(true|false)"/.exec(restore ?? '')?.[1];
  if (ongoing === 'false') return { state: 'ready', archive };
  return { state: ongoing === 'true' ? 'pending' : 'frozen', archive };
}
