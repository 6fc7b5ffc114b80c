import {
  type LocationUse,
  checkLocation,
  openDestination,
  openSources,
  openStore,
  parseLocation,
} from '../../../../layers/kloset/index.js';
import { failure, failureOf } from '../fixtures.js';

/** What using the location would throw: the check must say the same. */
const USE: Record<LocationUse, (location: string, options: Record<string, string>) => Promise<unknown>> = {
  store: (location, options) => openStore(parseLocation(location, options)),
  source: (location, options) => openSources([parseLocation(location, options)]),
  destination: (location, options) => openDestination(parseLocation(location, options)),
};

const BAD: [string, string, Record<string, string>][] = [
  ['an unknown S3 option', 's3://bucket-x/p', { foo: 'bar' }],
  ['an endpoint with a space', 's3://bucket-x/p', { endpoint: 'http://a b' }],
  ['an endpoint of another scheme', 's3://bucket-x/p', { endpoint: 'ftp://host' }],
  ['a boolean that is not one', 's3://bucket-x/p', { force_path_style: 'maybe' }],
  ['half a key pair', 's3://bucket-x/p', { access_key: 'AKIA1' }],
  ['an unknown SFTP option', 'sftp://me@host/x', { region: 'eu-west-1' }],
  ['S3 options on a local path', '/srv/x', { region: 'eu-west-1' }],
];

describe.each(['store', 'source', 'destination'] as const)('checkLocation as a %s', (use) => {
  test.each(BAD)('refuses %s with the error using it would give', async (_name, location, options) => {
    const checked = failure(() => checkLocation(use, parseLocation(location, options)));
    const used = await failureOf(USE[use](location, options));
    expect([checked.code, checked.message]).toEqual([used.code, used.message]);
    expect(checked.code).toBe('INVALID_ARGUMENT');
  });

  test('accepts what its connector takes', () => {
    expect(() =>
      checkLocation(use, parseLocation('s3://bucket-x/p', { region: 'eu-west-1', force_path_style: 'true' })),
    ).not.toThrow();
    expect(() =>
      checkLocation(use, parseLocation('sftp://me@host:2222/x', { identity: '~/.ssh/id' })),
    ).not.toThrow();
    expect(() => checkLocation(use, '/srv/x')).not.toThrow();
  });
});
