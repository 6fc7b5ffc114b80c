import { formatLocation, locationBelow, parseLocation } from '../../../../layers/kloset/core/location.js';
import { failure } from '../fixtures.js';

describe('parseLocation', () => {
  test.each([
    ['/var/backups/', { scheme: 'fs', path: '/var/backups', options: {} }],
    ['backups', { scheme: 'fs', path: 'backups', options: {} }],
    ['fs:/var/backups', { scheme: 'fs', path: '/var/backups', options: {} }],
    ['file:///var/backups', { scheme: 'fs', path: '/var/backups', options: {} }],
    ['FILE:/var/backups', { scheme: 'fs', path: '/var/backups', options: {} }],
    ['s3://my-bucket', { scheme: 's3', bucket: 'my-bucket', path: '/', options: {} }],
    ['s3://my-bucket/a//b/./c/', { scheme: 's3', bucket: 'my-bucket', path: '/a/b/c', options: {} }],
    ['s3://my-bucket/with%20space', { scheme: 's3', bucket: 'my-bucket', path: '/with space', options: {} }],
    [
      'sftp://backup@files.example.com:2222/srv/backups/',
      {
        scheme: 'sftp',
        host: 'files.example.com',
        port: 2222,
        user: 'backup',
        path: '/srv/backups',
        options: {},
      },
    ],
    ['SFTP://h', { scheme: 'sftp', host: 'h', path: '/', options: {} }],
    ['sftp://[::1]:2200/~/x', { scheme: 'sftp', host: '::1', port: 2200, path: '/~/x', options: {} }],
    ['sftp://h/a/../b', { scheme: 'sftp', host: 'h', path: '/b', options: {} }],
  ])('%s', (text, expected) => {
    expect(parseLocation(text)).toEqual(expected);
  });

  test("a URL's query holds the connector's settings; settings given to the parser win", () => {
    const location = parseLocation('s3://b1b/p?endpoint=http://127.0.0.1:9000&region=us-east-1', {
      region: 'eu-west-1',
    });
    expect(location.options).toEqual({ endpoint: 'http://127.0.0.1:9000', region: 'eu-west-1' });
  });

  test.each([
    ['', /empty location/],
    ['ftp://host/x', /unsupported location scheme "ftp" in ftp:\/\/host\/x/],
    ['s3://x/y', /bad S3 bucket name "x" in s3:\/\/x\/y: bucket names are 3-63/],
    ['s3:///y', /bad S3 bucket name ""/],
    ['s3:bucket/x', /not an s3 location/],
    ['sftp:/h/p', /not an sftp location/],
    ['sftp://host:0/x', /bad SFTP address "host:0"/],
    ['sftp:///x', /bad SFTP address ""/],
    ['fs:', /no path in fs:/],
  ])('%j is refused as INVALID_ARGUMENT', (text, message) => {
    const err = failure(() => parseLocation(text));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(message);
  });

  test('a password in an sftp URL is refused without repeating it', () => {
    const err = failure(() => parseLocation('sftp://me:s3cret@h/p'));
    expect(err.message).toBe('an sftp location must not hold a password: give it as the password option');
  });

  test('messages never repeat the query (it may hold secrets)', () => {
    const err = failure(() => parseLocation('s3://x/p?secret_access_key=hunter2'));
    expect(err.message).not.toContain('hunter2');
  });
});

describe('formatLocation', () => {
  test.each([
    '/var/backups',
    's3://my-bucket',
    's3://my-bucket/a/b',
    's3://my-bucket/with%20space%3F',
    'sftp://h/~',
    'sftp://me@h:2222/srv/x',
    'sftp://[::1]:2200/x',
  ])('%s reads back to the same text', (text) => {
    expect(formatLocation(parseLocation(text))).toBe(text);
  });

  test('settings are left out unless asked for; with them, the text parses back to the same Location', () => {
    const location = parseLocation('s3://b1b/p?endpoint=http://127.0.0.1:9000', {
      secret_access_key: 'a+b/c=&d',
    });
    expect(formatLocation(location)).toBe('s3://b1b/p');
    const text = formatLocation(location, { withOptions: true });
    expect(text).toBe('s3://b1b/p?endpoint=http://127.0.0.1:9000&secret_access_key=a%2Bb/c=%26d');
    expect(parseLocation(text)).toEqual(location);
  });
});

describe('locationBelow', () => {
  test.each([
    ['sftp://h/tmp', 'etc', 'sftp://h/tmp/etc'],
    ['sftp://h/tmp', '/etc', 'sftp://h/etc'],
    ['s3://bucket', 'x/', 's3://bucket/x'],
    ['s3://bucket/p', '../../..', 's3://bucket'],
    ['/srv/backups', '../other', '/srv/other'],
  ])('%s below %j is %s', (root, override, expected) => {
    expect(formatLocation(locationBelow(parseLocation(root), override))).toBe(expected);
  });
});
