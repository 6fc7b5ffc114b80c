/**
 * What kloud says about its own use. The overview, the main help, --debug and what a command
 * loads run the built CLI; the many answers about arguments and each command's help run the CLI
 * in this process (Sandbox.runHere).
 */
import { KLOUD, Sandbox, runProcess } from './sandbox.js';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await Sandbox.create();
});
afterAll(() => sandbox.dispose());

test('kloud alone prints a short overview and succeeds', async () => {
  const run = await sandbox.run([]);
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^kloud — encrypted, deduplicated backups\n/);
  expect(run.stdout).toContain("Run 'kloud --help'");
  expect(run.stderr).toBe('');
});

test('kloud --help documents the exit codes and the store selection', async () => {
  const run = await sandbox.ok(['--help']);
  expect(run.stdout).toMatch(
    /Exit codes:\n {2}0 {2}success\n {2}1 {2}failure\n {2}2 {2}usage error.*\n {2}3 {2}partial.*\n {2}4 {2}integrity.*\n {2}5 {2}pending/,
  );
  expect(run.stdout).toContain(
    "Without 'at': $KLOUD_REPOSITORY, else the default store alias, else ~/.kloud.",
  );
});

test.each([
  ['an unknown command', ['frobnicate'], "error: unknown command 'frobnicate' — see 'kloud --help'"],
  [
    'a misspelt command',
    ['stor'],
    "error: unknown command 'stor' (Did you mean store?) — see 'kloud --help'",
  ],
  ['an unknown flag', ['--frob'], "error: unknown option '--frob' — see 'kloud --help'"],
  [
    'an unknown subcommand flag',
    ['store', 'ls', '--all'],
    "error: unknown option '--all' — see 'kloud store ls --help'",
  ],
  [
    'a missing argument',
    ['source', 'add', 'x'],
    "error: missing required argument 'location' — see 'kloud source add --help'",
  ],
  [
    'a dangling at',
    ['at'],
    "error: 'at' needs a location — write kloud at LOCATION COMMAND, e.g. kloud at /var/backups ls",
  ],
  [
    'at without a command',
    ['at', '/srv'],
    "error: no command after 'at /srv' — add one, e.g. kloud at /srv ls",
  ],
])('%s is a one-line usage error with exit code 2', async (_name, args, message) => {
  const run = await sandbox.runHere(args);
  expect(run.code).toBe(2);
  expect(run.stderr).toBe(`${message}\n`);
  expect(run.stdout).toBe('');
});

test('help, as a command or an option, succeeds', async () => {
  const run = await sandbox.okHere(['help', 'store']);
  expect(run.stdout).toMatch(/^Usage: kloud store /);
  expect((await sandbox.okHere(['store', '--help'])).stdout).toBe(run.stdout);
});

test('a command group without its subcommand shows its help and exits 2', async () => {
  const run = await sandbox.runHere(['key']);
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/^Usage: kloud key /);
});

test('--debug adds the stack trace to the error line', async () => {
  const plain = await sandbox.run(['store', 'show', 'nope']);
  const debug = await sandbox.run(['--debug', 'store', 'show', 'nope']);
  expect(plain.stderr.split('\n')).toHaveLength(2);
  expect(debug.code).toBe(1);
  expect(debug.stderr.startsWith(plain.stderr)).toBe(true);
  expect(debug.stderr).toMatch(/\n {4}at .*aliases\.js/);
});

const COMMANDS = [
  'create',
  'info',
  'check',
  'passwd',
  'key',
  'key add',
  'key ls',
  'key rm',
  'backup',
  'ls',
  'cat',
  'diff',
  'find',
  'locate',
  'restore',
  'rm',
  ...['store', 'source', 'destination'].flatMap((role) => [
    role,
    ...['add', 'set', 'unset', 'show', 'ls', 'rm', 'default'].map((sub) => `${role} ${sub}`),
  ]),
];

test.each(COMMANDS)('kloud %s --help shows examples', async (command) => {
  const run = await sandbox.okHere([...command.split(' '), '--help']);
  // a command with an alias is shown as both: kloud find|locate
  expect(run.stdout).toMatch(new RegExp(`^Usage: kloud (\\w+\\|)?${command}[ |]`));
  expect(run.stdout).toMatch(/\nExamples?:\n {2}kloud /);
  expect(run.stdout).toContain('--json');
});

/** Preloaded into a run: module resolution fails on the engine's index, which loads all of it. */
const REFUSE_ENGINE = `data:text/javascript,${encodeURIComponent(
  `import { register } from 'node:module';
  register(${JSON.stringify(
    `data:text/javascript,${encodeURIComponent(
      `export async function resolve(specifier, context, next) {
        const found = await next(specifier, context);
        if (found.url.endsWith('/layers/kloset/index.js')) throw new Error('the engine was loaded');
        return found;
      }`,
    )}`,
  )});`,
)}`;

test('commands that use no store start without loading the engine', async () => {
  const run = (args: string[]) =>
    runProcess(process.execPath, ['--import', REFUSE_ENGINE, KLOUD, ...args], {
      env: sandbox.env(),
      cwd: sandbox.work,
    });
  for (const args of [['--version'], ['--help'], ['prune', '--help'], ['store', 'ls']]) {
    const started = await run(args);
    expect({ args, stderr: started.stderr, code: started.code }).toEqual({ args, stderr: '', code: 0 });
  }
  // the same preload does stop a command that opens a store
  const opening = await run(['at', sandbox.path('no-store'), 'ls']);
  expect(opening.stderr).toContain('the engine was loaded');
});
