import { applyOverride, locationText, parseLocation } from '../../../cli/places/location.js';

const ctx = { cwd: '/home/me/work', home: '/home/me' };
const parse = (text: string) => locationText(parseLocation(text, ctx));

describe('parseLocation', () => {
  test.each([
    ['/var/backups', '/var/backups'],
    ['/var/backups/', '/var/backups'],
    ['fs:/var/backups', '/var/backups'],
    ['fs:///var/backups', '/var/backups'],
    ['backups', '/home/me/work/backups'],
    ['fs:../backups', '/home/me/backups'],
    ['~/backups', '/home/me/backups'],
    ['s3://my-bucket', 's3://my-bucket'],
    ['s3://my-bucket/prefix/', 's3://my-bucket/prefix'],
    ['sftp://user@host:2222/srv/x', 'sftp://user@host:2222/srv/x'],
    ['sftp://localhost/tmp', 'sftp://localhost/tmp'],
    ['SFTP://localhost/tmp', 'sftp://localhost/tmp'],
    // the query is the connector's: an endpoint URL's `//` must reach it untouched
    [
      's3://my-bucket/a//b/?endpoint=http://127.0.0.1:9000&force_path_style=true',
      's3://my-bucket/a/b?endpoint=http://127.0.0.1:9000&force_path_style=true',
    ],
    ['s3://my-bucket?region=eu-west-1', 's3://my-bucket?region=eu-west-1'],
  ])('%s is %s', (text, expected) => {
    expect(parse(text)).toBe(expected);
  });

  test.each([
    ['', /empty location/],
    ['ftp://host/x', /unsupported location scheme "ftp"/],
    ['s3://x/y', /bad S3 bucket name "x"/],
    ['s3:///y', /bad S3 bucket name ""/],
    ['sftp://host:0/x', /bad SFTP address/],
    ['sftp:///x', /bad SFTP address ""/],
  ])('%j is refused as a usage error', (text, message) => {
    expect(() => parse(text)).toThrow(
      expect.objectContaining({ exitCode: 2, message: expect.stringMatching(message) }),
    );
  });
});

describe('@alias:path overrides', () => {
  test.each([
    ['sftp://localhost/tmp', 'etc', 'sftp://localhost/tmp/etc'],
    ['sftp://localhost/tmp', '/etc', 'sftp://localhost/etc'],
    ['sftp://me@localhost:2222/tmp', 'a/b/', 'sftp://me@localhost:2222/tmp/a/b'],
    ['s3://bucket/prefix', 'daily', 's3://bucket/prefix/daily'],
    ['s3://bucket/prefix', '/other', 's3://bucket/other'],
    ['s3://bucket', 'x', 's3://bucket/x'],
    ['s3://bucket/p?region=eu-west-1', 'x', 's3://bucket/p/x?region=eu-west-1'],
    ['/srv/backups', 'etc', '/srv/backups/etc'],
    ['/srv/backups', '/etc', '/etc'],
    ['/srv/backups', '', '/srv/backups'],
    ['/srv/backups', '../other', '/srv/other'],
  ])('%s with %j is %s', (root, override, expected) => {
    expect(locationText(applyOverride(parseLocation(root, ctx), override))).toBe(expected);
  });
});
