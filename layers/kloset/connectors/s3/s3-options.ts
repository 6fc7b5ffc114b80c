import { z } from 'zod';
import { KlosetError } from '../../core/errors.js';
import { type S3Location, formatLocation } from '../../core/location.js';

/** The classes a store can be written in; with GLACIER or DEEP_ARCHIVE only data packs go there. */
export const STORAGE_CLASSES = [
  'STANDARD',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER_IR',
  'GLACIER',
  'DEEP_ARCHIVE',
] as const;
export type StorageClass = (typeof STORAGE_CLASSES)[number];

export type ServerSideEncryption = { type: 'AES256' } | { type: 'aws:kms'; keyId?: string };

/** Everything the S3 connector needs, from an `s3://bucket/prefix` location and its settings. */
export interface S3Settings {
  readonly bucket: string;
  /** '' (bucket root) or a path without leading or trailing slash */
  readonly prefix: string;
  /** `s3://bucket/prefix` without the query: safe to print */
  readonly location: string;
  readonly region?: string;
  /** a full URL (scheme decided by use_tls when the option gave none) */
  readonly endpoint?: string;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  readonly forcePathStyle: boolean;
  readonly storageClass?: StorageClass;
  readonly sse?: ServerSideEncryption;
}

const BOOL = z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' });
const isTrue = (v: string | undefined): boolean | undefined =>
  v === undefined ? undefined : ['true', '1', 'yes'].includes(v);

const OptionsSchema = z.strictObject(
  {
    region: z
      .string()
      .regex(/^[a-z0-9-]+$/, 'expected a region name such as eu-west-1')
      .optional(),
    endpoint: z
      .string()
      .regex(/^(https?:\/\/)?[^\s/?#]+(:\d+)?\/?$/i, 'expected host[:port] or http(s)://host[:port]')
      .optional(),
    access_key: z.string().min(1, 'must not be empty').optional(),
    secret_access_key: z.string().min(1, 'must not be empty').optional(),
    session_token: z.string().min(1, 'must not be empty').optional(),
    force_path_style: BOOL.optional(),
    use_tls: BOOL.optional(),
    storage_class: z
      .enum(STORAGE_CLASSES, { error: `expected one of ${STORAGE_CLASSES.join(', ')}` })
      .optional(),
    sse: z
      .string()
      .regex(/^(AES256|aws:kms(:.+)?)$/, 'expected AES256, aws:kms or aws:kms:KEY_ID')
      .optional(),
    sse_kms_key_id: z.string().min(1, 'must not be empty').optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown option` : undefined) },
);

export const S3_OPTION_NAMES = Object.keys(OptionsSchema.shape);

function invalid(message: string): KlosetError {
  return new KlosetError('INVALID_ARGUMENT', message);
}

/** Validates an S3 location's settings. Messages name the option, never its value (it may be a secret). */
export function parseS3Location(location: S3Location): S3Settings {
  const { bucket } = location;
  const prefix = location.path.slice(1);
  const printable = formatLocation(location);
  const parsed = OptionsSchema.safeParse(location.options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path.join('.');
    const known = issue.code === 'unrecognized_keys' ? ` (known: ${S3_OPTION_NAMES.join(', ')})` : '';
    throw invalid(`S3 option "${name}" of ${printable}: ${issue.message}${known}`);
  }
  const o = parsed.data;
  if ((o.access_key === undefined) !== (o.secret_access_key === undefined))
    throw invalid(`S3 options of ${printable}: access_key and secret_access_key go together`);
  if (o.session_token !== undefined && o.access_key === undefined)
    throw invalid(`S3 options of ${printable}: session_token needs access_key and secret_access_key`);
  const useTls = isTrue(o.use_tls);
  let endpoint = o.endpoint?.replace(/\/$/, '');
  if (endpoint !== undefined) {
    const scheme = /^(https?):\/\//i.exec(endpoint)?.[1]?.toLowerCase();
    if (scheme === undefined) endpoint = `${useTls === false ? 'http' : 'https'}://${endpoint}`;
    else if (useTls !== undefined && useTls !== (scheme === 'https'))
      throw invalid(`S3 options of ${printable}: use_tls contradicts the endpoint's ${scheme}://`);
  } else if (useTls === false) {
    throw invalid(`S3 options of ${printable}: use_tls=false needs an endpoint (AWS requires TLS)`);
  }
  let sse: ServerSideEncryption | undefined;
  if (o.sse === 'AES256') {
    if (o.sse_kms_key_id) throw invalid(`S3 options of ${printable}: sse_kms_key_id needs sse=aws:kms`);
    sse = { type: 'AES256' };
  } else if (o.sse !== undefined) {
    const keyId = o.sse.slice('aws:kms:'.length) || o.sse_kms_key_id;
    sse = { type: 'aws:kms', ...(keyId && { keyId }) };
  } else if (o.sse_kms_key_id) {
    throw invalid(`S3 options of ${printable}: sse_kms_key_id needs sse=aws:kms`);
  }
  return {
    bucket,
    prefix,
    location: printable,
    ...(o.region && { region: o.region }),
    ...(endpoint && { endpoint }),
    ...(o.access_key &&
      o.secret_access_key && {
        credentials: {
          accessKeyId: o.access_key,
          secretAccessKey: o.secret_access_key,
          ...(o.session_token && { sessionToken: o.session_token }),
        },
      }),
    forcePathStyle: isTrue(o.force_path_style) ?? false,
    ...(o.storage_class && { storageClass: o.storage_class }),
    ...(sse && { sse }),
  };
}
