import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import {
  hostKeyWarning,
  parseSftpLocation,
} from '../../../../../layers/kloset/connectors/sftp/sftp-options.js';
import { failure } from '../../fixtures.js';

describe('sftp locations and options', () => {
  test('user, host, port and absolute path; defaults are the current user, port 22 and ~/.ssh/known_hosts', () => {
    expect(parseSftpLocation('sftp://backup@files.example.com:2222/srv/backups/')).toEqual({
      host: 'files.example.com',
      port: 2222,
      user: 'backup',
      path: '/srv/backups',
      location: 'sftp://backup@files.example.com:2222/srv/backups/',
      knownHosts: join(homedir(), '.ssh/known_hosts'),
      insecureIgnoreHostKey: false,
    });
    const bare = parseSftpLocation('sftp://files.example.com');
    expect(bare).toMatchObject({ port: 22, user: userInfo().username, path: '/' });
    expect(parseSftpLocation('sftp://[::1]:2200/x')).toMatchObject({ host: '::1', port: 2200, path: '/x' });
  });

  test('sftp://host/~/x is relative to the login directory', () => {
    expect(parseSftpLocation('sftp://h/~/backups/kloud').path).toBe('backups/kloud');
    expect(parseSftpLocation('sftp://h/~').path).toBe('.');
    expect(parseSftpLocation('sftp://h/with%20space').path).toBe('/with space');
  });

  test('options come from the query or explicitly (explicit wins); ~/ in file options is the home directory', () => {
    const s = parseSftpLocation('sftp://h/p?identity=~/.ssh/other&known_hosts=/etc/kh', {
      identity: '/keys/k',
      password: 'hunter2',
      identity_passphrase: 'pass',
    });
    expect(s).toMatchObject({
      identity: '/keys/k',
      password: 'hunter2',
      identityPassphrase: 'pass',
      knownHosts: '/etc/kh',
      location: 'sftp://h/p',
    });
    expect(parseSftpLocation('sftp://h/p?identity=~/.ssh/other').identity).toBe(
      join(homedir(), '.ssh/other'),
    );
  });

  test('insecure_ignore_host_key=true turns verification off and comes with a warning', () => {
    const s = parseSftpLocation('sftp://h/p', { insecure_ignore_host_key: 'true' });
    expect(s.insecureIgnoreHostKey).toBe(true);
    expect(hostKeyWarning(s)).toMatch(/^the host key of h is not verified/);
    expect(hostKeyWarning(parseSftpLocation('sftp://h/p'))).toBeUndefined();
  });

  test('unknown options are named, with the known ones; values are never echoed', () => {
    const err = failure(() => parseSftpLocation('sftp://h/p', { identty: '/k', colour: 'blue' }));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe(
      'sftp option "identty", "colour" of sftp://h/p: unknown option (known: identity, identity_passphrase, password, known_hosts, insecure_ignore_host_key)',
    );
    const bad = failure(() => parseSftpLocation('sftp://h/p?password=', {}));
    expect(bad.message).toBe('sftp option "password" of sftp://h/p: must not be empty');
    const flag = failure(() => parseSftpLocation('sftp://h/p', { insecure_ignore_host_key: 'sure' }));
    expect(flag.message).toMatch(/"insecure_ignore_host_key" of sftp:\/\/h\/p: expected true or false/);
  });

  test('malformed locations are refused; a password in the URL is refused without repeating it', () => {
    for (const [location, message] of [
      ['sftp:/h/p', /not an sftp location/],
      ['sftp://h:99999/p', /port of sftp:\/\/h:99999\/p must be a number from 1 to 65535/],
      ['sftp://h/a/../b', /empty, "\." or "\.\." segment/],
      ['sftp://h/a//b', /empty, "\." or "\.\." segment/],
    ] as const) {
      const err = failure(() => parseSftpLocation(location));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(message);
    }
    const err = failure(() => parseSftpLocation('sftp://me:s3cret@h/p'));
    expect(err.message).toBe('an sftp location must not hold a password: give it as the password option');
    expect(err.message).not.toContain('s3cret');
  });
});
