import { openLocation } from '../../../../../layers/kloset/connectors/open-location.js';
import { parseS3Location } from '../../../../../layers/kloset/connectors/s3/s3-options.js';
import { failure, failureOf } from '../../fixtures.js';
import { parseLocation, type S3Location } from '../../../../../layers/kloset/core/location.js';

describe('S3 location and options', () => {
  test('bucket and prefix come from the URL, options from the query and explicit options', () => {
    const s = parseS3Location(
      parseLocation('s3://my-bucket/a/b/?endpoint=127.0.0.1:9000&force_path_style=true', {
        use_tls: 'false',
        region: 'eu-west-1',
      }) as S3Location,
    );
    expect(s).toMatchObject({
      bucket: 'my-bucket',
      prefix: 'a/b',
      location: 's3://my-bucket/a/b',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      region: 'eu-west-1',
    });
    expect(parseS3Location(parseLocation('s3://my-bucket') as S3Location).prefix).toBe('');
  });

  test('explicit options win over the query', () => {
    const s = parseS3Location(
      parseLocation('s3://b1b/p?region=us-east-1', { region: 'eu-central-1' }) as S3Location,
    );
    expect(s.region).toBe('eu-central-1');
  });

  test('credentials, session token, storage class and server-side encryption', () => {
    const s = parseS3Location(
      parseLocation('s3://b1b/p', {
        access_key: 'AK',
        secret_access_key: 'SK',
        session_token: 'TOK',
        storage_class: 'STANDARD_IA',
        sse: 'aws:kms:arn:aws:kms:eu-west-1:123:key/abc',
      }) as S3Location,
    );
    expect(s.credentials).toEqual({ accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'TOK' });
    expect(s.storageClass).toBe('STANDARD_IA');
    expect(s.sse).toEqual({ type: 'aws:kms', keyId: 'arn:aws:kms:eu-west-1:123:key/abc' });
    expect(
      parseS3Location(parseLocation('s3://b1b', { sse: 'aws:kms', sse_kms_key_id: 'k1' }) as S3Location).sse,
    ).toEqual({
      type: 'aws:kms',
      keyId: 'k1',
    });
    expect(parseS3Location(parseLocation('s3://b1b', { sse: 'AES256' }) as S3Location).sse).toEqual({
      type: 'AES256',
    });
  });

  test.each([
    ['s3://B_ad/p', {}, /bad S3 bucket name "B_ad"/],
    ['s3://bucket/p', { colour: 'blue' }, /S3 option "colour" .*unknown option \(known: region, endpoint/],
    ['s3://bucket/p', { storage_class: 'COLD' }, /"storage_class" .*expected one of STANDARD/],
    ['s3://bucket/p', { force_path_style: 'maybe' }, /"force_path_style" .*expected true or false/],
    ['s3://bucket/p', { sse: 'rot13' }, /"sse" .*expected AES256, aws:kms/],
    ['s3://bucket/p', { access_key: 'AK' }, /access_key and secret_access_key go together/],
    ['s3://bucket/p', { session_token: 'T' }, /session_token needs access_key/],
    ['s3://bucket/p', { endpoint: 'https://h:1', use_tls: 'false' }, /use_tls contradicts/],
    ['s3://bucket/p', { use_tls: 'false' }, /use_tls=false needs an endpoint/],
    ['s3://bucket/p', { endpoint: 'http://h/path?x' }, /"endpoint" .*expected host\[:port\]/],
    ['s3://bucket/p', { sse: 'AES256', sse_kms_key_id: 'k' }, /sse_kms_key_id needs sse=aws:kms/],
  ])('%s with %j is refused as INVALID_ARGUMENT', (location, options, message) => {
    const err = failure(() =>
      parseS3Location(parseLocation(location, options as Record<string, string>) as S3Location),
    );
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(message);
    expect(err.message.split('\n')).toHaveLength(1);
  });

  test('messages and the printable location never carry secrets', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const s = parseS3Location(
      parseLocation(
        `s3://bucket/p?secret_access_key=${encodeURIComponent(secret)}&access_key=AK`,
      ) as S3Location,
    );
    expect(s.location).toBe('s3://bucket/p');
    const err = failure(() =>
      parseS3Location(parseLocation('s3://bucket/p', { secret_access_key: secret }) as S3Location),
    );
    expect(err.message).not.toContain(secret);
  });

  test('archive storage classes are accepted (cold-storage.test.ts covers their retrieval)', () => {
    for (const storage_class of ['GLACIER', 'DEEP_ARCHIVE'])
      expect(
        parseS3Location(parseLocation('s3://bucket/p', { storage_class }) as S3Location).storageClass,
      ).toBe(storage_class);
  });

  test('local stores take no connector options', async () => {
    expect((await failureOf(openLocation(parseLocation('/tmp/store', { region: 'x' })))).code).toBe(
      'INVALID_ARGUMENT',
    );
    expect((await openLocation('s3://bucket/p')).location).toBe('s3://bucket/p');
  });
});
