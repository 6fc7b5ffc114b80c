import { S3Client } from '@aws-sdk/client-s3';
import type { S3Settings } from './s3-options.js';

/**
 * Attempts per request. The SDK's standard strategy retries throttling, 5xx, timeouts and
 * connection errors with exponential backoff and full jitter (100 ms base, 20 s cap).
 */
const MAX_ATTEMPTS = 6;

/** Sockets per client: above the store's own request bound, so requests never queue twice. */
const MAX_SOCKETS = 64;

/** Builds the SDK client for a parsed location: explicit credentials, else the default chain. */
export function createS3Client(s: S3Settings): S3Client {
  // kloud supports Node 20 (package.json engines); the SDK's notice that its future releases will
  // not is for kloud's maintainers, not for someone running a backup
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    // the SDK needs a region to sign; an S3-compatible endpoint rarely cares which
    region: s.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    // a bucket in another region than the one configured still works (one redirect)
    followRegionRedirects: true,
    ...(s.endpoint && { endpoint: s.endpoint }),
    ...(s.credentials && { credentials: s.credentials }),
    forcePathStyle: s.forcePathStyle,
    maxAttempts: MAX_ATTEMPTS,
    retryMode: 'standard',
    // S3-compatible services (and s3rver) do not all know the newer flexible checksums; the
    // store's objects carry their own MACs, so integrity does not depend on them
    ...(s.endpoint && {
      requestChecksumCalculation: 'WHEN_REQUIRED' as const,
      responseChecksumValidation: 'WHEN_REQUIRED' as const,
    }),
    requestHandler: {
      connectionTimeout: 10_000,
      requestTimeout: 120_000,
      httpAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
      httpsAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
    },
  });
}
