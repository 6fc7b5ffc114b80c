/** The `s3` and `s3-compatible` protocols: configuration, credentials and the engine's S3 options. */
import { z } from 'zod';
import { Forbidden } from '../../errors.js';
import type { StoreBucket } from '../../runtime/settings.js';
import type { ConnectorTarget } from '../../engine/connector-target.js';
// the location grammar alone, imported directly: this function's bundle carries no engine
import { formatLocation, parseLocation } from '../../../kloset/core/location.js';
import { isPlainRelativePath, PLAIN_RELATIVE_PATH } from './relative-path.js';
// the connector's own list, imported directly: this function's bundle carries no engine
import { STORAGE_CLASSES } from '../../../kloset/connectors/s3/s3-options.js';

const Prefix = z
  .string()
  .max(900)
  .refine(
    (p) => p === '' || (isPlainRelativePath(p) && !/[?#]/.test(p)),
    `expected a key prefix such as backups/laptop: ${PLAIN_RELATIVE_PATH}, no ? or #`,
  )
  .meta({ description: 'key prefix of the store inside the bucket (default: the bucket root)' });

const Common = {
  prefix: Prefix.optional(),
  region: z
    .string()
    .regex(/^[a-z0-9-]+$/, 'expected a region name such as eu-west-1')
    .optional(),
  storageClass: z.enum(STORAGE_CLASSES).optional().meta({ description: 'of pack objects' }),
};

export const S3Configuration = z
  .strictObject({
    ...Common,
    sse: z
      .string()
      .regex(/^(AES256|aws:kms(:.+)?)$/, 'expected AES256, aws:kms or aws:kms:KEY_ID')
      .optional(),
  })
  .meta({ id: 'S3Configuration' });

export const S3CompatibleConfiguration = z
  .strictObject({
    ...Common,
    endpoint: z.string().regex(/^https?:\/\/[^\s/?#]+(:\d+)?\/?$/i, 'expected http(s)://host[:port]'),
    forcePathStyle: z.boolean().optional().meta({ description: 'for services without virtual-host buckets' }),
  })
  .meta({ id: 'S3CompatibleConfiguration' });

export const S3Credentials = z
  .strictObject({
    accessKeyId: z.string().min(1).max(256),
    secretAccessKey: z.string().min(1).max(256),
    sessionToken: z.string().min(1).max(4096).optional(),
  })
  .meta({
    id: 'S3Credentials',
    description:
      's3: optional, without them the function role is used; s3-compatible: required (the role is never sent to a foreign endpoint)',
  });

type Config = z.infer<typeof S3Configuration> & Partial<z.infer<typeof S3CompatibleConfiguration>>;

/**
 * Refuses a location outside the deployment's store buckets. It checks the location as the engine
 * reads it (decoded and normalized), and prefixes on segment boundaries (`team/` is not `team-x/`).
 */
export function checkAllowed(location: string, allowed: readonly StoreBucket[]): void {
  const parsed = parseLocation(location);
  const bucket = parsed.scheme === 's3' ? parsed.bucket : '';
  const prefix = parsed.path.replace(/^\/+|\/+$/g, '');
  const key = prefix === '' ? '' : `${prefix}/`;
  if (allowed.some((a) => a.bucket === bucket && key.startsWith(a.prefix))) return;
  const list = allowed.map((a) => `s3://${a.bucket}/${a.prefix}`).join(', ') || 'none';
  throw new Forbidden(
    `s3://${bucket}/${prefix} is outside the store locations this deployment may use (${list}): choose one of them, or add it to the stack's store buckets`,
    'LOCATION_NOT_ALLOWED',
  );
}

export function s3Target(
  bucket: string,
  config: Config,
  credentials: z.infer<typeof S3Credentials> | undefined,
): ConnectorTarget {
  const prefix = config.prefix?.replace(/\/+$/, '') ?? '';
  const printable = formatLocation({ scheme: 's3', bucket, path: `/${prefix}`, options: {} });
  const options: Record<string, string> = {};
  const set = (name: string, value: string | undefined) => value !== undefined && (options[name] = value);
  set('region', config.region);
  set('storage_class', config.storageClass);
  set('sse', config.sse);
  set('endpoint', config.endpoint);
  set('force_path_style', config.forcePathStyle?.toString());
  set('access_key', credentials?.accessKeyId);
  set('secret_access_key', credentials?.secretAccessKey);
  set('session_token', credentials?.sessionToken);
  return { location: printable, printable, options, files: {} };
}
