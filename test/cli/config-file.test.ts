import { readFile } from 'node:fs/promises';
import { Sandbox } from './sandbox.js';

let sandbox: Sandbox;
beforeEach(async () => {
  sandbox = await Sandbox.create();
});
afterEach(() => sandbox.dispose());

const broken: [string, string, RegExp][] = [
  ['an unclosed bracket', 'stores:\n  home:\n    location: [unclosed\n', /line 3: /],
  [
    'a duplicate key',
    'stores:\n  a:\n    location: /a\n  a:\n    location: /b\n',
    /line 4: Map keys must be unique/,
  ],
  [
    'a missing location',
    'stores:\n  home:\n    region: x\n  work:\n    location: /w\n',
    /line 3: stores\.home\.location: /,
  ],
  ['a list where a map belongs', 'stores:\n  - /srv/a\n', /line 2: stores: /],
  ['an unknown top-level key', 'version: 1\nstorez:\n  a:\n    location: /a\n', /line 1: .*storez/],
  [
    'a bad option name',
    'sources:\n  etc:\n    location: /etc\n    Bad-Key: 1\n',
    /line 4: sources\.etc\.Bad-Key: "Bad-Key" is not a valid option name/,
  ],
];

test.each(broken)(
  'a config file with %s is refused with its line, and left alone',
  async (_name, text, where) => {
    await sandbox.writeConfig(text);
    const run = await sandbox.runHere(['store', 'add', 'new', '/srv/new']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: bad config file .*config\.yaml, line \d+: .* — fix that line/);
    expect(run.stderr).toMatch(where);
    expect(await readFile(sandbox.configPath, 'utf8')).toBe(text);
  },
);

test('values written by hand as numbers or booleans are read as text', async () => {
  await sandbox.writeConfig(
    'stores:\n  s3:\n    location: s3://bucket/x\n    force_path_style: true\n    port: 9000\n',
  );
  const show = await sandbox.ok(['store', 'show', 's3', '--json']);
  expect(JSON.parse(show.stdout).options).toEqual({ force_path_style: 'true', port: '9000' });
});

test('an empty config file is an empty config', async () => {
  await sandbox.writeConfig('');
  expect((await sandbox.ok(['store', 'ls'])).stdout).toMatch(/^no store aliases/);
  await sandbox.ok(['store', 'add', 'home', '/srv/home']);
  expect(await readFile(sandbox.configPath, 'utf8')).toBe('stores:\n  home:\n    location: /srv/home\n');
});
