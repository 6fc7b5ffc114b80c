import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import {
  hostKeyWarning,
  parseSftpLocation,
} from '../../../../../layers/kloset/connectors/sftp/sftp-options.js';
import { failure } from '../../fixtures.js';
import { parseLocation, type SftpLocation } from '../../../../../layers/kloset/core/location.js';

describe('sftp locations and options', () => {
  test('user, host, port and absolute path; defaults are the current user, port 22 and ~/.ssh/known_hosts', () => {
    expect(
      parseSftpLocation(parseLocation('sftp://backup@files.example.com:2222/srv/backups/') as SftpLocation),
    ).toEqual({
      host: 'files.example.com',
      port: 2222,
      user: 'backup',
      path: '/srv/backups',
      location: 'sftp://backup@files.example.com:2222/srv/backups',
      knownHosts: join(homedir(), '.ssh/known_hosts'),
      insecureIgnoreHostKey: false,
    });
    const bare = parseSftpLocation(parseLocation('sftp://files.example.com') as SftpLocation);
    expect(bare).toMatchObject({ port: 22, user: userInfo().username, path: '/' });
    expect(parseSftpLocation(parseLocation('sftp://[::1]:2200/x') as SftpLocation)).toMatchObject({
      host: '::1',
      port: 2200,
      path: '/x',
    });
  });

  test('sftp://host/~/x is relative to the login directory', () => {
    expect(parseSftpLocation(parseLocation('sftp://h/~/backups/kloud') as SftpLocation).path).toBe(
      'backups/kloud',
    );
    expect(parseSftpLocation(parseLocation('sftp://h/~') as SftpLocation).path).toBe('.');
    expect(parseSftpLocation(parseLocation('sftp://h/with%20space') as SftpLocation).path).toBe(
      '/with space',
    );
  });

  test('options come from the query or explicitly (explicit wins); ~/ in file options is the home directory', () => {
    const s = parseSftpLocation(
      parseLocation('sftp://h/p?identity=~/.ssh/other&known_hosts=/etc/kh', {
        identity: '/keys/k',
        password: 'hunter2',
        identity_passphrase: 'pass',
      }) as SftpLocation,
    );
    expect(s).toMatchObject({
      identity: '/keys/k',
      password: 'hunter2',
      identityPassphrase: 'pass',
      knownHosts: '/etc/kh',
      location: 'sftp://h/p',
    });
    expect(
      parseSftpLocation(parseLocation('sftp://h/p?identity=~/.ssh/other') as SftpLocation).identity,
    ).toBe(join(homedir(), '.ssh/other'));
  });

  test('insecure_ignore_host_key=true turns verification off and comes with a warning', () => {
    const s = parseSftpLocation(
      parseLocation('sftp://h/p', { insecure_ignore_host_key: 'true' }) as SftpLocation,
    );
    expect(s.insecureIgnoreHostKey).toBe(true);
    expect(hostKeyWarning(s)).toMatch(/^the host key of h is not verified/);
    expect(hostKeyWarning(parseSftpLocation(parseLocation('sftp://h/p') as SftpLocation))).toBeUndefined();
  });

  test('unknown options are named, with the known ones; values are never echoed', () => {
    const err = failure(() =>
      parseSftpLocation(parseLocation('sftp://h/p', { identty: '/k', colour: 'blue' }) as SftpLocation),
    );
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe(
      'sftp option "identty", "colour" of sftp://h/p: unknown option (known: identity, identity_passphrase, password, known_hosts, insecure_ignore_host_key)',
    );
    const bad = failure(() => parseSftpLocation(parseLocation('sftp://h/p?password=', {}) as SftpLocation));
    expect(bad.message).toBe('sftp option "password" of sftp://h/p: must not be empty');
    const flag = failure(() =>
      parseSftpLocation(parseLocation('sftp://h/p', { insecure_ignore_host_key: 'sure' }) as SftpLocation),
    );
    expect(flag.message).toMatch(/"insecure_ignore_host_key" of sftp:\/\/h\/p: expected true or false/);
  });

  test('malformed locations are refused; a password in the URL is refused without repeating it', () => {
    for (const [location, message] of [
      ['sftp:/h/p', /not an sftp location/],
      ['sftp://h:99999/p', /bad SFTP address "h:99999" .*the port from 1 to 65535/],
    ] as const) {
      const err = failure(() => parseSftpLocation(parseLocation(location) as SftpLocation));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(message);
    }
    const err = failure(() => parseSftpLocation(parseLocation('sftp://me:s3cret@h/p') as SftpLocation));
    expect(err.message).toBe('an sftp location must not hold a password: give it as the password option');
    expect(err.message).not.toContain('s3cret');
  });
});
