/**
 * Alias commands read and write the config file alone: the many runs that check their answers run
 * the CLI in this process (Sandbox.runHere); the config file on disk and aliases used with a store
 * are checked with the built CLI, as a user runs it.
 */
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
    const keys = ['access_key=AKIA1', 'secret_access_key=s3cr3t'];
    await sandbox.okHere([role, 'add', 'one', 's3://bucket-one/p', 'region=eu-west-1', ...keys]);
    await sandbox.okHere([role, 'add', 'two', 'sftp://me@host:2222/data']);
    await sandbox.okHere([role, 'default', 'two']);

    const ls = await sandbox.okHere([role, 'ls']);
    expect(ls.stdout).toBe('  one  s3://bucket-one/p\n* two  sftp://me@host:2222/data\n');

    const show = await sandbox.okHere([role, 'show', 'one']);
    expect(show.stdout).toBe(
      'one\n  location: s3://bucket-one/p\n  region: eu-west-1\n  access_key: AKIA1\n  secret_access_key: ********\n',
    );
    const secrets = await sandbox.okHere([role, 'show', 'one', '--secrets']);
    expect(secrets.stdout).toContain('secret_access_key: s3cr3t');

    await sandbox.okHere([role, 'set', 'one', 'region=us-east-1', 'location=s3://bucket-uno/p']);
    await sandbox.okHere([role, 'unset', 'one', 'access_key', 'secret_access_key']);
    expect(parse(await sandbox.readConfig())).toEqual({
      [`${role}s`]: {
        one: { location: 's3://bucket-uno/p', region: 'us-east-1' },
        two: { location: 'sftp://me@host:2222/data' },
      },
      defaults: { [role]: 'two' },
    });

    await sandbox.okHere([role, 'rm', 'two']);
    expect(parse(await sandbox.readConfig())).toEqual({
      [`${role}s`]: { one: { location: 's3://bucket-uno/p', region: 'us-east-1' } },
      defaults: {},
    });
  });

  test('--json prints one JSON document and nothing else', async () => {
    await sandbox.okHere([role, 'add', 'one', 'sftp://me@host/srv/one', 'password=pw']);
    const add = await sandbox.okHere(['--json', role, 'add', 'two', 's3://bucket-two/prefix']);
    expect(JSON.parse(add.stdout)).toEqual({
      name: 'two',
      location: 's3://bucket-two/prefix',
      default: false,
      options: {},
    });
    const ls = await sandbox.okHere([role, 'ls', '--json']);
    expect(JSON.parse(ls.stdout)).toEqual([
      { name: 'one', location: 'sftp://me@host/srv/one', default: false, options: { password: '********' } },
      { name: 'two', location: 's3://bucket-two/prefix', default: false, options: {} },
    ]);
    const show = await sandbox.okHere([role, 'show', '--json', '--secrets']);
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

const HOME_AND_S3 = `stores:
  home:
    location: /srv/home
  s3:
    location: s3://bucket-s3/p
    region: eu-west-1
    access_key: AKIA1
    secret_access_key: s3cr3t
`;

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
      'alias name too long',
      ['store', 'add', 'a'.repeat(10_000), '/srv/x'],
      2,
      /bad alias name "a{64}…" — use up to 64/,
    ],
    [
      'set that leaves an S3 option on a local store',
      ['store', 'set', 'home', 'region=eu-west-1'],
      2,
      /^error: store home: local stores take no connector options \(got region\) — nothing was saved/,
    ],
    [
      'set that moves an S3 alias to a local path',
      ['store', 'set', 's3', 'location=/srv/s3'],
      2,
      /^error: store s3: local stores take no connector options \(got region, access_key, secret_access_key\)/,
    ],
    [
      'unset that leaves half a key pair',
      ['store', 'unset', 's3', 'secret_access_key'],
      2,
      /^error: store s3: S3 options of s3:\/\/bucket-s3\/p: access_key and secret_access_key go together/,
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
    await sandbox.writeConfig(HOME_AND_S3);
    const before = await sandbox.readConfig();
    const run = await sandbox.runHere(args);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stdout).toBe('');
    expect(await sandbox.readConfig()).toBe(before);
  });
});

describe.each(['store', 'source', 'destination'])(
  '%s add refuses what its connector would refuse',
  (role) => {
    // a remote source is opened at its mount (the bucket, the server), and its errors name it
    const at = (place: string, mount: string) => (role === 'source' ? mount : place);
    const cases: [string, string[], RegExp][] = [
      [
        'an unknown option',
        ['s3://bucket-x/p', 'foo=bar'],
        new RegExp(
          `S3 option "foo" of ${at('s3://bucket-x/p', 's3://bucket-x')}: unknown option \\(known: region, `,
        ),
      ],
      [
        'an endpoint with a space',
        ['s3://bucket-x/p', 'endpoint=http://a b'],
        new RegExp(`S3 option "endpoint" of ${at('s3://bucket-x/p', 's3://bucket-x')}: expected host`),
      ],
      [
        'an endpoint of another scheme',
        ['s3://bucket-x/p', 'endpoint=ftp://host'],
        /S3 option "endpoint" .*: expected host/,
      ],
      [
        'a boolean that is not one',
        ['s3://bucket-x/p', 'force_path_style=maybe'],
        /S3 option "force_path_style" .*: expected true or false/,
      ],
      [
        'an S3 option on a local path',
        ['/srv/x', 'region=eu-west-1'],
        new RegExp(`local ${role}s take no connector options \\(got region\\)`),
      ],
      [
        'an empty SFTP identity',
        ['sftp://me@host/x', 'identity='],
        new RegExp(
          `sftp option "identity" of ${at('sftp://me@host/x', 'sftp://me@host')}: must not be empty`,
        ),
      ],
    ];
    test.each(cases)('%s', async (_name, args, message) => {
      const run = await sandbox.runHere([role, 'add', 'x', ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(
        new RegExp(`^error: ${role} x: ${message.source}.* — nothing was saved: fix or drop that option\n$`),
      );
      expect(run.stdout).toBe('');
      await expect(stat(sandbox.configPath)).rejects.toMatchObject({ code: 'ENOENT' });
    });
  },
);

test('aliases saved before they were checked still load; each is refused, by name, when used', async () => {
  const long = 'l'.repeat(80);
  await sandbox.writeConfig(
    `sources:\n  bad:\n    location: ${sandbox.path('data')}\n    foo: bar\n  ${long}:\n    location: ${sandbox.path('data')}\n`,
  );
  const ls = await sandbox.ok(['source', 'ls']);
  expect(ls.stdout.split('\n').map((line) => line.trim().split(/ +/)[0])).toEqual(['bad', long, '']);
  const store = sandbox.path('store');
  await sandbox.ok(['at', store, 'create', '--plaintext']);
  await sandbox.writeTree('data', { 'a.txt': 'a\n' });

  const bad = await sandbox.run(['at', store, 'backup', '@bad']);
  expect([bad.code, bad.stderr]).toEqual([
    1,
    `error: @bad (${sandbox.path('data')}): local sources take no connector options (got foo) — fix the alias: kloud source set bad key=value, or kloud source unset bad key\n`,
  ]);
  await sandbox.ok(['at', store, 'backup', `@${long}`]);
  await sandbox.ok(['source', 'unset', 'bad', 'foo']);
  await sandbox.ok(['at', store, 'backup', '@bad']);
});

test('a bad source or destination alias is refused before the store is opened', async () => {
  await sandbox.writeConfig(
    `sources:\n  bad:\n    location: ${sandbox.path('data')}\n    foo: bar\n` +
      `destinations:\n  out:\n    location: ${sandbox.path('out')}\n    foo: bar\n`,
  );
  // no store there: opening it would fail first, with "no store"
  const store = sandbox.path('nowhere');
  const backup = await sandbox.run(['at', store, 'backup', '@bad']);
  expect([backup.code, backup.stderr]).toEqual([
    1,
    `error: @bad (${sandbox.path('data')}): local sources take no connector options (got foo) — fix the alias: kloud source set bad key=value, or kloud source unset bad key\n`,
  ]);
  const restore = await sandbox.run(['at', store, 'restore', 'latest', '--to', '@out']);
  expect(restore.code).toBe(1);
  expect(restore.stderr).toMatch(
    /^error: @out \(.*\): .*got foo.* — fix the alias: kloud destination set out/,
  );
});
