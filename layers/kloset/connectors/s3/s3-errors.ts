import { KlosetError } from '../../core/errors.js';
import type { S3Settings } from './s3-options.js';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
]);

/** Connections that were made and then broke: the endpoint is right, the service or the path to it is not well. */
const BROKEN_CONNECTION = new Set(['ECONNRESET', 'EPIPE']);

/** Answers that say "not now" rather than "not like this" (S3's and the SDK's throttling names). */
const TRANSIENT_NAMES = new Set([
  'InternalError',
  'ServiceUnavailable',
  'SlowDown',
  'RequestTimeout',
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

/** 403 answers that are not a refusal by policy: a key or token S3 rejects, an archived object, a clock. */
const OTHER_FORBIDDEN = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'InvalidObjectState',
  'RequestTimeTooSkewed',
]);

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

function asSdkError(err: unknown): SdkError {
  return typeof err === 'object' && err !== null ? (err as SdkError) : { message: String(err) };
}

/** The error's S3 name: HEAD answers have no body, so the SDK names them by status only. */
export function s3ErrorName(err: unknown): string | undefined {
  return asSdkError(err).name;
}

export function httpStatus(err: unknown): number | undefined {
  return asSdkError(err).$metadata?.httpStatusCode;
}

export function isNotFound(err: unknown): boolean {
  const name = s3ErrorName(err);
  return name === 'NoSuchKey' || name === 'NotFound' || (httpStatus(err) === 404 && name !== 'NoSuchBucket');
}

/**
 * Whether the policy refused the request: S3's AccessDenied, or a 403 with no other name (a HEAD's
 * answer has no body, so the SDK knows only its status).
 */
export function isAccessDenied(err: unknown): boolean {
  const name = s3ErrorName(err) ?? '';
  return name === 'AccessDenied' || (httpStatus(err) === 403 && !OTHER_FORBIDDEN.has(name));
}

/** Whether a conditional write lost against an existing object. */
export function isPreconditionFailed(err: unknown): boolean {
  const name = s3ErrorName(err);
  return name === 'PreconditionFailed' || httpStatus(err) === 412;
}

/**
 * The system error code of a failed connection. From the message too: where the socket error
 * comes from another realm (jest's VM modules), the SDK wraps it and only its text survives.
 */
function networkCode(e: SdkError): string | undefined {
  if (e.code && NETWORK_CODES.has(e.code)) return e.code;
  if (e.name === 'TimeoutError') return 'timed out';
  const fromText = /\b(E[A-Z_]+)\b/.exec(e.message ?? '')?.[1];
  return fromText && NETWORK_CODES.has(fromText) ? fromText : undefined;
}

function isTransient(name: string, status: number | undefined): boolean {
  return TRANSIENT_NAMES.has(name) || status === 429 || (status !== undefined && status >= 500);
}

/** "after 5 retries": the SDK counts attempts on the error it gives up with. */
function afterRetries(e: SdkError): string {
  const attempts = e.$metadata?.attempts;
  return attempts === undefined ? 'after its retries' : `after ${attempts - 1} retries`;
}

function endpointOf(s: S3Settings): string {
  return s.endpoint ?? `S3 (${s.region ?? 'default region'})`;
}

/**
 * One-line KlosetErrors for what the user can fix: a missing bucket, refused credentials, an
 * unreachable endpoint; and UNAVAILABLE for a service that kept failing through every retry,
 * which only waiting fixes. Messages never carry credentials (the SDK's do not either).
 */
export function s3Failure(err: unknown, s: S3Settings, action: string): Error {
  if (err instanceof KlosetError) return err;
  const e = asSdkError(err);
  const name = e.name ?? '';
  const status = httpStatus(err);
  const opts = { cause: err };
  if (name === 'NoSuchBucket')
    return new KlosetError('BUCKET_NOT_FOUND', `bucket ${s.bucket} does not exist`, opts);
  if (name === 'InvalidAccessKeyId')
    return new KlosetError(
      'IO',
      `${endpointOf(s)} does not know the access key given for ${s.location}`,
      opts,
    );
  if (name === 'SignatureDoesNotMatch')
    return new KlosetError('IO', `the secret access key for ${s.location} is wrong`, opts);
  if (name === 'ExpiredToken' || name === 'InvalidToken' || name === 'TokenRefreshRequired')
    return new KlosetError('IO', `the session token for ${s.location} is invalid or expired`, opts);
  if (isAccessDenied(err)) return new KlosetError('IO', `access denied to ${s.location} (${action})`, opts);
  if (name === 'CredentialsProviderError')
    return new KlosetError(
      'IO',
      `no AWS credentials for ${s.location}: set access_key and secret_access_key, or configure the AWS default chain`,
      opts,
    );
  const network = networkCode(e);
  if (network && BROKEN_CONNECTION.has(network))
    return new KlosetError(
      'UNAVAILABLE',
      `${action} on ${s.location}: the connection to ${endpointOf(s)} kept breaking (${network}) ${afterRetries(e)}`,
      opts,
    );
  if (network) return new KlosetError('IO', `cannot reach ${endpointOf(s)} (${network})`, opts);
  if (isTransient(name, status))
    return new KlosetError(
      'UNAVAILABLE',
      `${action} on ${s.location}: the service kept answering ${status ? `HTTP ${status}` : name}${status && name ? ` (${name})` : ''} ${afterRetries(e)}`,
      opts,
    );
  const detail = (e.message ?? '').split('\n')[0]!.slice(0, 200);
  return new KlosetError(
    'IO',
    `${action} on ${s.location} failed: ${name || 'error'}${status ? ` (HTTP ${status})` : ''}${detail && detail !== name ? `: ${detail}` : ''}`,
    opts,
  );
}
