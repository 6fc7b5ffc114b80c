/**
 * Runs the built CLI (`dist/bin/kloud.js`) as a user would, in a throw-away HOME and config dir, with
 * no terminal on stdin and none of the caller's KLOUD_/PLAKAR_ variables.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const KLOUD = fileURLToPath(new URL('../../dist/bin/kloud.js', import.meta.url));

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
    const run = await this.run(args, options);
    if (run.code !== 0) throw new Error(`kloud ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
    return run;
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
