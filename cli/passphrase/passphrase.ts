/**
 * Where a store's passphrase comes from, first match wins: `--passphrase-file`, the alias's
 * `passphrase`, its `passphrase_cmd` (run without a shell), `KLOUD_PASSPHRASE`, `PLAKAR_PASSPHRASE`,
 * then a no-echo prompt when stdin is a terminal. Without any of them the command fails at once.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { splitCommandWords } from './command-words.js';
import { CliError, systemReason } from '../failures/errors.js';
import { readHidden, type TerminalInput } from './hidden-prompt.js';

export interface PassphraseSources {
  /** `--passphrase-file`, relative to `cwd`. */
  file?: string;
  /** The store alias's options. */
  options: Record<string, string>;
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdin: TerminalInput;
  stderr: NodeJS.WritableStream;
  /** The environment variables looked at, in order; default: STORE_VARIABLES. */
  variables?: readonly string[];
  /** The option that names the passphrase file, for the advice when nothing is found. */
  fileOption?: string;
}

const STORE_VARIABLES = ['KLOUD_PASSPHRASE', 'PLAKAR_PASSPHRASE'] as const;

export interface PassphraseRequest {
  /** The store, as the user named it, for messages. */
  label: string;
  /** Ask twice on a terminal (when creating a store). */
  confirm: boolean;
}

export interface Passphrase {
  value: string;
  /** Where it came from, to say so when it turns out wrong. */
  source: string;
}

export async function resolvePassphrase(src: PassphraseSources, req: PassphraseRequest): Promise<Passphrase> {
  if (src.file !== undefined) return fromFile(src.file, src.cwd);
  if (src.options.passphrase) return { value: src.options.passphrase, source: 'the alias passphrase' };
  if (src.options.passphrase_cmd) {
    const value = nonEmpty(await runPassphraseCommand(src.options.passphrase_cmd), 'passphrase_cmd');
    return { value, source: 'the alias passphrase_cmd' };
  }
  const variables = src.variables ?? STORE_VARIABLES;
  for (const name of variables) {
    const value = src.env[name];
    if (value) return { value, source: `$${name}` };
  }
  if (src.stdin.isTTY) return { value: await prompt(src, req), source: 'the prompt' };
  throw new CliError(
    `no passphrase for ${req.label}`,
    `use ${src.fileOption ?? '--passphrase-file'} FILE, set ${variables[0]}, or run the command in a terminal`,
  );
}

/** A passphrase to add to a store (`passwd`, `key add`): from a file, else asked twice on a terminal. */
export async function resolveNewPassphrase(
  src: Pick<PassphraseSources, 'cwd' | 'stdin' | 'stderr'> & { file?: string },
  label: string,
): Promise<Passphrase> {
  if (src.file !== undefined) return fromFile(src.file, src.cwd);
  if (src.stdin.isTTY)
    return { value: await prompt(src, { label: `${label} (new)`, confirm: true }), source: 'the prompt' };
  throw new CliError(
    `no new passphrase for ${label}`,
    'use --new-passphrase-file FILE, or run the command in a terminal',
  );
}

async function prompt(
  src: Pick<PassphraseSources, 'stdin' | 'stderr'>,
  req: PassphraseRequest,
): Promise<string> {
  const first = await readHidden(`Passphrase for ${req.label}: `, src.stdin, src.stderr);
  if (first === '') throw new CliError('empty passphrase', 'type a passphrase');
  if (!req.confirm) return first;
  const again = await readHidden('Repeat passphrase: ', src.stdin, src.stderr);
  if (again !== first) throw new CliError('the passphrases do not match', 'run the command again');
  return first;
}

async function fromFile(file: string, cwd: string): Promise<Passphrase> {
  const path = resolve(cwd, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read passphrase file ${path}: ${systemReason(err)}`, 'give a readable file');
  }
  return { value: nonEmpty(stripNewline(text), file), source: `the file ${file}` };
}

function runPassphraseCommand(command: string): Promise<string> {
  const [program, ...args] = splitCommandWords(command);
  const failed = (why: string) =>
    new CliError(
      `passphrase_cmd "${command}" ${why}`,
      'fix it with: kloud store set NAME passphrase_cmd=...',
    );
  if (!program) return Promise.reject(failed('is empty'));
  return new Promise((done, fail) => {
    const child = spawn(program, args, { stdio: ['inherit', 'pipe', 'inherit'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.on('error', (err) => fail(failed(`could not start: ${systemReason(err)}`)));
    child.on('close', (code) => {
      if (code === 0) done(stripNewline(Buffer.concat(out).toString('utf8')));
      else fail(failed(`failed with exit code ${code}`));
    });
  });
}

function nonEmpty(passphrase: string, source: string): string {
  if (passphrase === '') throw new CliError(`empty passphrase from ${source}`, 'put the passphrase there');
  return passphrase;
}

function stripNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}
