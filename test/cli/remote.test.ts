/**
 * `kloud remote` against real local mode (dynalite, s3rver, the handlers over HTTP): named remotes,
 * the store-app commands, where the endpoint and credentials come from, and the errors a user
 * meets (a wrong token, nothing listening, an unknown or ambiguous app).
 */
import { stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { LocalMode } from '../local/local-mode.js';
import { Sandbox } from './sandbox.js';

const PASSPHRASE = 'remote test passphrase never shown';

let sandbox: Sandbox;
let local: LocalMode;

beforeAll(async () => {
  sandbox = await Sandbox.create();
  local = new LocalMode(sandbox.path('local'), ['--s3', '--bucket', 'remote-e2e']);
  await local.start();
  await writeFile(sandbox.path('passphrase'), `${PASSPHRASE}\n`);
});

afterAll(async () => {
  await local?.stop();
  await sandbox?.dispose();
});

/** Runs `kloud remote ARGS` against local mode through the environment, as a CI job would. */
function remote(args: string[], env: Record<string, string> = {}) {
  return sandbox.run(['remote', ...args], {
    env: { KLOUD_URL: local.url, KLOUD_TOKEN: local.token, ...env },
  });
}

/** A port nothing listens on: one the system just gave and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('remote add, list and rm keep named control planes in the config file, tokens hidden', async () => {
  const added = await sandbox.ok(['remote', 'add', 'local', local.url, '--token', local.token]);
  expect(added.stdout).toBe(`added remote local: ${local.url}/ (a bearer token)\n`);
  await sandbox.ok([
    'remote',
    'add',
    'prod',
    'https://abc123.execute-api.eu-west-1.amazonaws.com/v1',
    '--profile',
    'ops',
  ]);
  expect((await stat(sandbox.configPath)).mode & 0o777).toBe(0o600);

  const listed = await sandbox.ok(['remote', 'list']);
  expect(listed.stdout).toBe(
    `local  ${local.url}/  token ********\nprod  https://abc123.execute-api.eu-west-1.amazonaws.com/v1  aws profile ops\n`,
  );
  const json = await sandbox.ok(['remote', 'list', '--json']);
  expect(json.stdout).not.toContain(local.token);
  expect(JSON.parse(json.stdout.split('\n')[0]!)).toEqual({
    name: 'local',
    url: `${local.url}/`,
    authorization: 'token',
    token: '********',
  });
  const secrets = await sandbox.ok(['remote', 'list', '--json', '--secrets']);
  expect(JSON.parse(secrets.stdout.split('\n')[0]!).token).toBe(local.token);

  // a named remote is used with --remote, and its token wins over $KLOUD_TOKEN
  const apps = await sandbox.run(['remote', '--remote', 'local', 'apps', 'list'], {
    env: { KLOUD_TOKEN: 'not-it' },
  });
  expect(apps).toMatchObject({
    code: 0,
    stdout: '',
    stderr: 'no store apps (add one with: kloud remote apps create NAME --resource ID)\n',
  });

  const again = await sandbox.run(['remote', 'add', 'local', local.url, '--token', 'x']);
  expect(again.code).toBe(1);
  expect(again.stderr).toBe(
    'error: remote "local" already exists — remove it first: kloud remote rm local\n',
  );
  const badUrl = await sandbox.run(['remote', 'add', 'odd', 'ftp://example.com']);
  expect(badUrl.code).toBe(2);
  expect(badUrl.stderr).toMatch(/^error: bad API URL "ftp:\/\/example.com" — give the base URL/);

  expect((await sandbox.ok(['remote', 'rm', 'local'])).stdout).toBe('removed remote local\n');
  const gone = await sandbox.run(['remote', '--remote', 'local', 'apps', 'list']);
  expect(gone.code).toBe(1);
  expect(gone.stderr).toBe(
    'error: unknown remote "local" — known remotes: prod (add one with: kloud remote add NAME URL)\n',
  );
  expect(await sandbox.readConfig()).not.toContain(local.token);
  await sandbox.ok(['remote', 'rm', 'prod']);
});

test('apps create, test, initialize, list and show through the CLI, by name and by ID', async () => {
  const created = await remote([
    'apps',
    'create',
    'main',
    '--resource',
    'directory:backups',
    '--configuration',
    '{"path":"main"}',
    '--passphrase-file',
    sandbox.path('passphrase'),
    '--json',
  ]);
  expect(created.code).toBe(0);
  const app = JSON.parse(created.stdout);
  expect(app).toMatchObject({
    name: 'main',
    state: 'created',
    protocol: 'fs',
    resourceId: 'directory:backups',
  });

  const tested = await remote(['apps', 'test', 'main']);
  expect(tested).toMatchObject({ code: 0, stderr: '' });
  expect(tested.stdout).toMatch(
    /^empty: .*main does not exist yet: initializing creates it\napp main is tested\n$/,
  );
  const initialized = await remote(['apps', 'initialize', app.id, '--json']);
  expect(initialized.code).toBe(0);
  expect(JSON.parse(initialized.stdout)).toMatchObject({
    outcome: 'store',
    app: { id: app.id, state: 'ready' },
  });

  const shown = await remote(['apps', 'show', 'main']);
  expect(shown.stdout).toContain(`id:           ${app.id}\nname:         main\nstate:        ready\n`);
  const listed = await remote(['apps', 'list', '--json']);
  const items = listed.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  expect(items).toContainEqual(expect.objectContaining({ id: app.id, name: 'main', state: 'ready' }));
  expect((await remote(['apps', 'list'])).stdout).toContain(`${app.id}  main  ready`);

  // the passphrase went to the control plane and comes back in no output
  for (const run of [created, tested, initialized, shown, listed])
    expect(run.stdout + run.stderr).not.toContain(PASSPHRASE);
});

test('a test that fails leaves exit code 1 with the outcome; a name on two resources must be given by ID', async () => {
  const other = await remote(
    [
      'apps',
      'create',
      'main',
      '--resource',
      's3-bucket:remote-e2e',
      '--protocol',
      's3-compatible',
      '--configuration',
      JSON.stringify({ endpoint: local.s3Endpoint, forcePathStyle: true, prefix: 'other' }),
      '--credentials-file',
      await writeCredentials({ accessKeyId: 'WRONG', secretAccessKey: 'secret-never-shown' }),
      '--json',
    ],
    { KLOUD_PASSPHRASE: PASSPHRASE },
  );
  expect(other.code).toBe(0);
  const id = JSON.parse(other.stdout).id as string;

  const ambiguous = await remote(['apps', 'show', 'main']);
  expect(ambiguous.code).toBe(1);
  expect(ambiguous.stderr).toMatch(
    /^error: 2 store apps are named "main": [0-9a-f-]{36} \(.*\), [0-9a-f-]{36} \(.*\) — name the app by its ID\n$/,
  );
  expect(ambiguous.stderr).toContain(id);

  const failed = await remote(['apps', 'test', id]);
  expect(failed.code).toBe(1);
  expect(failed.stdout).toMatch(/^error: .*\napp main is failed\n$/);
  expect(failed.stdout + failed.stderr).not.toContain('secret-never-shown');
});

test('errors: a wrong token, an unknown app, nothing listening, no endpoint; --json gives the error document', async () => {
  const badToken = await remote(['apps', 'list'], { KLOUD_TOKEN: 'wrong-token-value' });
  expect(badToken.code).toBe(1);
  expect(badToken.stderr).toMatch(
    /^error: UNAUTHORIZED: .* — check the token \(--token, KLOUD_TOKEN or the remote's\)/,
  );
  expect(badToken.stderr).not.toContain('wrong-token-value');
  expect(badToken.stderr.split('\n')).toHaveLength(2);

  const unknownName = await remote(['apps', 'show', 'nosuch']);
  expect(unknownName).toMatchObject({ code: 1, stdout: '' });
  expect(unknownName.stderr).toBe(
    'error: no store app named "nosuch" — list them with: kloud remote apps list\n',
  );
  const unknownId = await remote(['apps', 'show', '00000000-0000-4000-8000-000000000000', '--json']);
  expect(unknownId.code).toBe(1);
  expect(JSON.parse(unknownId.stdout).error.code).toBe('APP_NOT_FOUND');
  expect(unknownId.stderr).toMatch(/^error: APP_NOT_FOUND: /);

  const port = await closedPort();
  const unreachable = await remote(['apps', 'list', '--json'], { KLOUD_URL: `http://127.0.0.1:${port}` });
  expect(unreachable.code).toBe(8);
  expect(unreachable.stderr).toBe(
    `error: cannot reach the kloud API at http://127.0.0.1:${port}: connection refused — check the URL (--url, --remote, KLOUD_URL) and that the control plane is running\n`,
  );
  expect(JSON.parse(unreachable.stdout).error.code).toBe('UNREACHABLE');

  const nowhere = await sandbox.run(['remote', 'apps', 'list']);
  expect(nowhere.code).toBe(2);
  expect(nowhere.stderr).toBe(
    'error: no control plane to call — give --url URL or --remote NAME (kloud remote add NAME URL), or set KLOUD_URL\n',
  );
});

test('without a token requests are signed with SigV4, which needs a region and credentials', async () => {
  const aws = {
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: sandbox.path('none'),
    AWS_SHARED_CREDENTIALS_FILE: sandbox.path('none'),
  };
  const noRegion = await sandbox.run(['remote', '--url', local.url, 'apps', 'list'], { env: aws });
  expect(noRegion.code).toBe(2);
  expect(noRegion.stderr).toMatch(
    /^error: no AWS region to sign requests to http:\/\/127\.0\.0\.1:\d+ with — give --region/,
  );
  const noCredentials = await sandbox.run(
    ['remote', '--url', local.url, '--region', 'eu-west-1', 'apps', 'list'],
    { env: aws },
  );
  expect(noCredentials.code).toBe(1);
  expect(noCredentials.stderr).toMatch(
    /^error: no AWS credentials from the AWS SDK's default chain to sign requests/,
  );
  // signed, but local mode takes bearer tokens only
  const signed = await sandbox.run(
    ['remote', '--url', local.url, '--aws', '--region', 'eu-west-1', 'apps', 'list'],
    {
      env: { ...aws, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'aws-secret-never-shown' },
    },
  );
  expect(signed.code).toBe(1);
  expect(signed.stderr).toMatch(/^error: UNAUTHORIZED: /);
  expect(signed.stderr).not.toContain('aws-secret-never-shown');
});

test('usage errors: --url with --remote, --token with --aws, restore without a destination', async () => {
  const both = await sandbox.run(['remote', '--url', local.url, '--remote', 'x', 'apps', 'list']);
  expect(both).toMatchObject({
    code: 2,
    stderr: 'error: --url and --remote both name the control plane — give one of them\n',
  });
  const twoWays = await remote(['--token', 't', '--aws', 'apps', 'list']);
  expect(twoWays).toMatchObject({
    code: 2,
    stderr: 'error: --token and --aws are two ways to authorize — give one of them\n',
  });
  const restore = await remote(['restore', 'main', 'latest', '/etc']);
  expect(restore.code).toBe(2);
  expect(restore.stderr).toMatch(/^error: restore needs --to-app APP --path PATH, or --archive/);
  const sync = await remote(['sync', 'main']);
  expect(sync.code).toBe(2);
  const badConfiguration = await remote([
    'apps',
    'create',
    'x',
    '--resource',
    'directory:backups',
    '--configuration',
    '[1]',
  ]);
  expect(badConfiguration).toMatchObject({ code: 2 });
  expect(badConfiguration.stderr).toMatch(/^error: --configuration takes a JSON object/);
  const help = await sandbox.run(['remote', 'check', '--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('kloud remote check main --wait');
});

async function writeCredentials(credentials: Record<string, string>): Promise<string> {
  const file = join(sandbox.root, 'credentials.json');
  await writeFile(file, JSON.stringify(credentials), { mode: 0o600 });
  return file;
}
