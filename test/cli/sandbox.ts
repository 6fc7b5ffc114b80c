/**
 * Runs the built CLI (`dist/bin/kloud.js`) as a user would, in a throw-away HOME and config dir, with
 * no terminal on stdin and none of the caller's KLOUD_/PLAKAR_ variables.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const KLOUD = fileURLToPath(new URL('../../dist/bin/kloud.js', import.meta.url));
const PACKAGE = fileURLToPath(new URL('../../package.json', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Bytes written to stdin (a pipe, never a terminal), which is then closed. */
  input?: string;
  /** Run as another user (needs root). */
  uid?: number;
  gid?: number;
}

export class Sandbox {
  private constructor(readonly root: string) {}

  static async create(): Promise<Sandbox> {
    const sandbox = new Sandbox(await mkdtemp(join(tmpdir(), 'kloud-cli-')));
    await mkdir(sandbox.home, { recursive: true });
    await mkdir(sandbox.work, { recursive: true });
    return sandbox;
  }

  get home(): string {
    return join(this.root, 'home');
  }

  get xdg(): string {
    return join(this.root, 'xdg');
  }

  /** The current directory of every run unless told otherwise. */
  get work(): string {
    return join(this.root, 'work');
  }

  get configPath(): string {
    return join(this.xdg, 'kloud', 'config.yaml');
  }

  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.home,
      XDG_CONFIG_HOME: this.xdg,
      ...extra,
    };
  }

  run(args: string[], options: RunOptions = {}): Promise<Run> {
    return runProcess(process.execPath, [KLOUD, ...args], {
      ...options,
      env: this.env(options.env),
      cwd: options.cwd ?? this.work,
    });
  }

  /** Runs and insists on exit code 0, showing stderr when it is not. */
  async ok(args: string[], options: RunOptions = {}): Promise<Run> {
    return succeeded(args, await this.run(args, options));
  }

  /**
   * Runs the CLI's `main` (what `bin/kloud.ts` calls) in this process, with the arguments,
   * environment and directory `run` gives the process, stdin a pipe (never a terminal) holding
   * `input`, stdout and stderr collected. For runs that only parse arguments and read or write
   * the config file, where starting a process (~0.3 s of CPU, seconds on a loaded machine) is
   * nearly all the cost; `run` stays the way for what needs a process: its exit, its user, a terminal.
   */
  async runHere(args: string[], options: Pick<RunOptions, 'env' | 'cwd' | 'input'> = {}): Promise<Run> {
    const stdin = new PassThrough();
    stdin.end(options.input ?? '');
    const stdout = new Collected();
    const stderr = new Collected();
    const { version } = JSON.parse(await readFile(PACKAGE, 'utf8')) as { version: string };
    // loaded at the first use: suites that only spawn the CLI do not load it into jest
    const { main } = await import('../../cli/main.js');
    const code = await main(
      args,
      {
        env: this.env(options.env),
        cwd: options.cwd ?? this.work,
        stdin: stdin as unknown as NodeJS.ReadStream,
        stdout: stdout as unknown as NodeJS.WriteStream,
        stderr: stderr as unknown as NodeJS.WriteStream,
      },
      version,
    );
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  /** `runHere`, insisting on exit code 0. */
  async okHere(args: string[], options: Pick<RunOptions, 'env' | 'cwd' | 'input'> = {}): Promise<Run> {
    return succeeded(args, await this.runHere(args, options));
  }

  /**
   * Creates an encrypted store at a local path in this process, as `kloud at PATH create` does but
   * with the tests' cheap key derivation (FAST_KDF): every later command then opens it with ~4 ms
   * of scrypt instead of the product's ~220 ms. For suites about what commands do with a store;
   * `create` itself and its key derivation are tested with the built CLI (store-commands.test.ts).
   */
  async createStore(path: string, passphrase: string): Promise<void> {
    // loaded at the first use, like main: suites that do not create stores so do not load the engine
    const { createStore } = await import('../../layers/kloset/index.js');
    const { FAST_KDF } = await import('../layers/kloset/fixtures.js');
    await createStore(path, { passphrase, kdf: FAST_KDF });
  }

  /** The IDs of the snapshots `ls` lists in `store`, newest first. */
  async snapshotIds(store: string): Promise<string[]> {
    const run = await this.ok(['at', store, 'ls', '--json']);
    return run.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line).id as string);
  }

  async readConfig(): Promise<string> {
    return readFile(this.configPath, 'utf8');
  }

  async writeConfig(text: string): Promise<void> {
    await mkdir(dirname(this.configPath), { recursive: true });
    await writeFile(this.configPath, text, { mode: 0o600 });
  }

  /** Writes files (path → content) under the sandbox root, creating directories. */
  async writeTree(base: string, files: Record<string, string>): Promise<string> {
    for (const [name, content] of Object.entries(files)) {
      const file = this.path(base, name);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, content);
    }
    return this.path(base);
  }

  async dispose(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

function succeeded(args: string[], run: Run): Run {
  if (run.code !== 0) throw new Error(`kloud ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return run;
}

/** A pipe's far end: what was written to it, as text. */
class Collected extends Writable {
  text = '';

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export function runProcess(
  command: string,
  args: string[],
  options: RunOptions & { env: Record<string, string>; cwd: string },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const { env, cwd, uid, gid } = options;
    const child = spawn(command, args, { env, cwd, uid, gid, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
