/** Names that are not UTF-8, or hold control characters, through the CLI (issue 11). */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { Sandbox } from './sandbox.js';

let sandbox: Sandbox;
let store: string;
let u8: string;
let first: string;

const latin1 = (s: string) => Buffer.from(s, 'latin1');
const under = (dir: string, name: Buffer) => Buffer.concat([Buffer.from(`${dir}/`), name]);
const CAFE = latin1('caf\xe9');
const EVIL = latin1('evil\x1b[2J\nline');

beforeAll(async () => {
  sandbox = await Sandbox.create();
  store = sandbox.path('store');
  u8 = sandbox.path('u8');
  mkdirSync(u8);
  writeFileSync(under(u8, CAFE), 'x');
  writeFileSync(under(u8, latin1('ok')), 'y');
  await sandbox.ok(['at', store, 'create', '--plaintext']);
  const run = await sandbox.ok(['at', store, 'backup', u8, '--json']);
  first = JSON.parse(run.stdout).snapshot as string;
});
afterAll(() => sandbox.dispose());

const names = (dir: string) => readdirSync(dir, { encoding: 'buffer' }).map((n) => n.toString('latin1'));

test('a name that is not UTF-8 is backed up and restored byte for byte (exit 0, 2 files)', async () => {
  const run = await sandbox.run(['at', store, 'backup', u8]);
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/: 2 files, /);
  const to = sandbox.path('restored');
  await sandbox.ok(['at', store, 'restore', 'latest', '--to', to]);
  expect(names(`${to}${u8}`).sort()).toEqual(['caf\xe9', 'ok']);
  expect(readFileSync(under(`${to}${u8}`, CAFE), 'utf8')).toBe('x');
});

test('ls shows such names escaped as ls -b does, and reads them back in that form', async () => {
  const ls = await sandbox.ok(['at', store, 'ls', `latest:${u8}`]);
  expect(ls.stdout).toContain(`${u8}/caf\\xe9\n`);
  const cat = await sandbox.ok(['at', store, 'cat', `latest:${u8}/caf\\xe9`]);
  expect(cat.stdout).toBe('x');
  const to = sandbox.path('one');
  await sandbox.ok(['at', store, 'restore', `latest:${u8}/caf\\xe9`, '--to', to]);
  expect(names(to)).toEqual(['caf\xe9']);
  const missing = await sandbox.run(['at', store, 'cat', `latest:${u8}/caf\\xe8`]);
  expect(missing.code).not.toBe(0);
  expect(missing.stderr).toContain(`${u8}/caf\\xe8`);
});

test('ls --json gives the raw bytes of every name in base64 where they are not UTF-8', async () => {
  const run = await sandbox.ok(['at', store, 'ls', `latest:${u8}`, '--json']);
  const entries = run.stdout
    .trim()
    .split('\n')
    .map(
      (line) => JSON.parse(line) as { path: string; name: string; pathBytes?: string; nameBytes?: string },
    );
  const cafe = entries.find((e) => e.nameBytes !== undefined)!;
  expect(cafe.name).toBe('caf\ufffd');
  expect(Buffer.from(cafe.nameBytes!, 'base64')).toEqual(CAFE);
  expect(Buffer.from(cafe.pathBytes!, 'base64')).toEqual(under(u8, CAFE));
  const bytes = entries.map((e) => (e.nameBytes ? Buffer.from(e.nameBytes, 'base64') : Buffer.from(e.name)));
  expect(bytes.map((b) => b.toString('latin1')).sort()).toEqual(names(u8).sort());
});

test('names with escape sequences and newlines never reach the terminal raw (ls, diff, find, backup)', async () => {
  const dir = sandbox.path('evil');
  mkdirSync(dir);
  writeFileSync(under(dir, EVIL), 'z');
  const backup = await sandbox.ok(['at', store, 'backup', dir, '--json']);
  const id = JSON.parse(backup.stdout).snapshot as string;
  const shown = `${dir}/evil\\x1b[2J\\nline`;
  const ls = await sandbox.ok(['at', store, 'ls', `${id}:${dir}`]);
  expect(ls.stdout).toContain(`${shown}\n`);
  const diff = await sandbox.ok(['at', store, 'diff', `${first}:/`, `${id}:/`]);
  expect(diff.stdout).toContain(`+ ${shown}\n`);
  const find = await sandbox.ok(['at', store, 'find', 'evil*']);
  expect(find.stdout).toContain(`  ${shown}\n`);
  for (const out of [ls.stdout, diff.stdout, find.stdout]) {
    expect(out).not.toContain('\x1b');
    expect(out.split('\n').filter((line) => line.startsWith('line'))).toEqual([]);
  }
  const cat = await sandbox.ok(['at', store, 'cat', `${id}:${shown}`]);
  expect(cat.stdout).toBe('z');
});
