import { describe, expect, test } from '@jest/globals';
import { parseStoreBucket } from '../../lib/store-buckets.js';

describe('parseStoreBucket', () => {
  test('reads a bucket, a bucket and prefix, or an s3:// URL, and ends a prefix with a slash', () => {
    expect(parseStoreBucket('backups')).toEqual({ bucket: 'backups', prefix: '' });
    expect(parseStoreBucket('backups/team/kloud')).toEqual({ bucket: 'backups', prefix: 'team/kloud/' });
    expect(parseStoreBucket('s3://backups/team/')).toEqual({ bucket: 'backups', prefix: 'team/' });
    expect(parseStoreBucket('s3://backups/')).toEqual({ bucket: 'backups', prefix: '' });
  });

  test('refuses what is not a bucket name', () => {
    expect(() => parseStoreBucket('')).toThrow('not a bucket name');
    expect(() => parseStoreBucket('Upper/x')).toThrow('not a bucket name');
    expect(() => parseStoreBucket('*')).toThrow('not a bucket name');
  });
});
