import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { Sandbox } from './sandbox.js';

let sandbox: Sandbox;
beforeEach(async () => {
  sandbox = await Sandbox.create();
});
afterEach(() => sandbox.dispose());

describe.each(['store', 'source', 'destination'])('kloud %s aliases', (role) => {
  test('add, ls, show, set, unset, default and rm round-trip through the config file', async () => {
    await sandbox.ok([role, 'add', 'one', '/srv/one', 'region=eu-west-1', 'secret_access_key=s3cr3t']);
    await sandbox.ok([role, 'add', 'two', 'sftp://me@host:2222/data']);
    await sandbox.ok([role, 'default', 'two']);

    const ls = await sandbox.ok([role, 'ls']);
    expect(ls.stdout).toBe('  one  /srv/one\n* two  sftp://me@host:2222/data\n');

    const show = await sandbox.ok([role, 'show', 'one']);
    expect(show.stdout).toBe(
      'one\n  location: /srv/one\n  region: eu-west-1\n  secret_access_key: ********\n',
    );
    const secrets = await sandbox.ok([role, 'show', 'one', '--secrets']);
    expect(secrets.stdout).toContain('secret_access_key: s3cr3t');

    await sandbox.ok([role, 'set', 'one', 'region=us-east-1', 'location=/srv/uno']);
    await sandbox.ok([role, 'unset', 'one', 'secret_access_key']);
    expect(parse(await sandbox.readConfig())).toEqual({
      [`${role}s`]: {
        one: { location: '/srv/uno', region: 'us-east-1' },
        two: { location: 'sftp://me@host:2222/data' },
      },
      defaults: { [role]: 'two' },
    });

    await sandbox.ok([role, 'rm', 'two']);
    expect(parse(await sandbox.readConfig())).toEqual({
      [`${role}s`]: { one: { location: '/srv/uno', region: 'us-east-1' } },
      defaults: {},
    });
  });

  test('--json prints one JSON document and nothing else', async () => {
    await sandbox.ok([role, 'add', 'one', '/srv/one', 'password=pw']);
    const add = await sandbox.ok(['--json', role, 'add', 'two', 's3://bucket-two/prefix']);
    expect(JSON.parse(add.stdout)).toEqual({
      name: 'two',
      location: 's3://bucket-two/prefix',
      default: false,
      options: {},
    });
    const ls = await sandbox.ok([role, 'ls', '--json']);
    expect(JSON.parse(ls.stdout)).toEqual([
      { name: 'one', location: '/srv/one', default: false, options: { password: '********' } },
      { name: 'two', location: 's3://bucket-two/prefix', default: false, options: {} },
    ]);
    const show = await sandbox.ok([role, 'show', '--json', '--secrets']);
    expect(JSON.parse(show.stdout)[0].options).toEqual({ password: 'pw' });
  });
});

test('a relative store location is saved as an absolute path', async () => {
  await sandbox.ok(['store', 'add', 'here', 'backups/kloud']);
  await sandbox.ok(['store', 'add', 'fs', 'fs:/srv/x/']);
  const ls = await sandbox.ok(['store', 'ls', '--json']);
  expect(JSON.parse(ls.stdout).map((a: { location: string }) => a.location)).toEqual([
    join(sandbox.work, 'backups/kloud'),
    '/srv/x',
  ]);
});

test('setting a passphrase says that only the config changes', async () => {
  await sandbox.ok(['store', 'add', 'home', '/srv/backups']);
  const set = await sandbox.ok(['store', 'set', 'home', 'passphrase=new one']);
  expect(set.stderr).toMatch(/only changes the config.*kloud at @home passwd/);
  expect(parse(await sandbox.readConfig()).stores.home.passphrase).toBe('new one');
});

test('the config file is private and written without leftovers', async () => {
  await sandbox.ok(['store', 'add', 'home', '/srv/backups', 'passphrase=x']);
  await sandbox.ok(['store', 'set', 'home', 'passphrase=y']);
  expect((await stat(sandbox.configPath)).mode & 0o777).toBe(0o600);
  expect((await stat(dirname(sandbox.configPath))).mode & 0o777).toBe(0o700);
  expect(await readdir(dirname(sandbox.configPath))).toEqual(['config.yaml']);
});

test('comments and unrelated entries in a hand-written config survive a change', async () => {
  await sandbox.writeConfig('# my stores\nstores:\n  home:\n    location: /srv/home # the NAS\n');
  await sandbox.ok(['store', 'set', 'home', 'passphrase_cmd=pass show kloud']);
  expect(await sandbox.readConfig()).toBe(
    '# my stores\nstores:\n  home:\n    location: /srv/home # the NAS\n    passphrase_cmd: pass show kloud\n',
  );
});

test('the config lives under ~/.config when XDG_CONFIG_HOME is not set', async () => {
  await sandbox.ok(['store', 'add', 'home', '/srv/backups'], { env: { XDG_CONFIG_HOME: '' } });
  expect(
    parse(
      await import('node:fs/promises').then((fs) =>
        fs.readFile(join(sandbox.home, '.config/kloud/config.yaml'), 'utf8'),
      ),
    ),
  ).toEqual({ stores: { home: { location: '/srv/backups' } } });
});

describe('bad alias commands change nothing on disk', () => {
  const cases: [string, string[], number, RegExp][] = [
    [
      'malformed key=value',
      ['store', 'add', 'x', '/srv/x', 'region'],
      2,
      /malformed option "region" — write key=value/,
    ],
    ['uppercase key', ['store', 'set', 'home', 'Region=x'], 2, /malformed option "Region=x"/],
    ['unknown alias', ['store', 'set', 'nope', 'a=b'], 1, /unknown store alias "nope" — known stores: home/],
    ['duplicate alias', ['store', 'add', 'home', '/srv/other'], 1, /store alias "home" already exists/],
    ['bad alias name', ['store', 'add', 'a:b', '/srv/x'], 2, /bad alias name "a:b"/],
    ['alias to alias', ['store', 'add', 'x', '@home'], 2, /cannot point to another alias/],
    ['unknown scheme', ['store', 'add', 'x', 'ftp://host/x'], 2, /unsupported location scheme "ftp"/],
    ['bad bucket', ['store', 'add', 'x', 's3://B/x'], 2, /bad S3 bucket name "B"/],
    ['bad sftp port', ['store', 'add', 'x', 'sftp://host:99999/x'], 2, /bad SFTP address "host:99999"/],
    [
      'passphrase on a source',
      ['source', 'add', 'x', '/etc', 'passphrase=p'],
      2,
      /"passphrase" applies to stores only/,
    ],
    [
      'unset of a missing key',
      ['store', 'unset', 'home', 'region'],
      1,
      /store "home" has no option "region"/,
    ],
    ['unset of the location', ['store', 'unset', 'home', 'location'], 2, /cannot unset the location/],
    [
      'default of an unknown alias',
      ['destination', 'default', 'home'],
      1,
      /unknown destination alias "home" — none/,
    ],
    [
      'at before an alias command',
      ['at', '/srv', 'store', 'ls'],
      2,
      /'at \/srv' does not apply to 'store' commands/,
    ],
  ];
  test.each(cases)('%s', async (_name, args, code, message) => {
    await sandbox.writeConfig('stores:\n  home:\n    location: /srv/home\n');
    const before = await sandbox.readConfig();
    const run = await sandbox.run(args);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stdout).toBe('');
    expect(await sandbox.readConfig()).toBe(before);
  });
});
