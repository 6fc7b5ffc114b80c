import { isAccessDenied, s3Failure } from '../../../../../layers/kloset/connectors/s3/s3-errors.js';
import { parseS3Location } from '../../../../../layers/kloset/connectors/s3/s3-options.js';
import { parseLocation, type S3Location } from '../../../../../layers/kloset/core/location.js';

const settings = parseS3Location(
  parseLocation('s3://bucket-x/p', { endpoint: 'http://127.0.0.1:9' }) as S3Location,
);

/** An error as the SDK throws it once its retries are spent. */
const sdkError = (name: string, status: number | undefined, extra: object = {}) =>
  Object.assign(new Error(`${name} happened`), {
    name,
    $metadata: { httpStatusCode: status, attempts: 6 },
    ...extra,
  });

test.each([
  ['InternalError', 500, 'the service kept answering HTTP 500 (InternalError) after 5 retries'],
  ['SlowDown', 503, 'the service kept answering HTTP 503 (SlowDown) after 5 retries'],
  ['BadGateway', 502, 'the service kept answering HTTP 502 (BadGateway) after 5 retries'],
  [
    'TooManyRequestsException',
    429,
    'the service kept answering HTTP 429 (TooManyRequestsException) after 5 retries',
  ],
])('%s that outlasts the retries is UNAVAILABLE', (name, status, said) => {
  const err = s3Failure(sdkError(name, status), settings, 'GetObject');
  expect([err.name, (err as { code?: string }).code, err.message]).toEqual([
    'KlosetError',
    'UNAVAILABLE',
    `GetObject on s3://bucket-x/p: ${said}`,
  ]);
});

test('a connection that keeps breaking is UNAVAILABLE; one that cannot be made is IO', () => {
  const reset = s3Failure(sdkError('Error', undefined, { code: 'ECONNRESET' }), settings, 'PutObject');
  expect([(reset as { code?: string }).code, reset.message]).toEqual([
    'UNAVAILABLE',
    'PutObject on s3://bucket-x/p: the connection to http://127.0.0.1:9 kept breaking (ECONNRESET) after 5 retries',
  ]);
  const refused = s3Failure(sdkError('Error', undefined, { code: 'ECONNREFUSED' }), settings, 'PutObject');
  expect([(refused as { code?: string }).code, refused.message]).toEqual([
    'IO',
    'cannot reach http://127.0.0.1:9 (ECONNREFUSED)',
  ]);
});

test.each([
  ['AccessDenied', 403, 'IO'],
  ['SignatureDoesNotMatch', 403, 'IO'],
  ['NoSuchBucket', 404, 'BUCKET_NOT_FOUND'],
  ['InvalidArgument', 400, 'IO'],
])('%s is not transient', (name, status, code) => {
  expect((s3Failure(sdkError(name, status), settings, 'GetObject') as { code?: string }).code).toBe(code);
});

test("a HEAD's bodiless 403 is a refusal; an archived object's or a bad key's 403 is not", () => {
  expect(isAccessDenied(sdkError('AccessDenied', 403))).toBe(true);
  expect(isAccessDenied(sdkError('Unknown', 403))).toBe(true);
  expect(isAccessDenied(sdkError('InvalidObjectState', 403))).toBe(false);
  expect(isAccessDenied(sdkError('SignatureDoesNotMatch', 403))).toBe(false);
  expect(isAccessDenied(sdkError('NotFound', 404))).toBe(false);
  expect(s3Failure(sdkError('Unknown', 403), settings, 'HeadObject').message).toBe(
    'access denied to s3://bucket-x/p (HeadObject)',
  );
});
