import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { type CommandResult, inSequence } from '../meter.js';
import { isolatedEnv, type BackupTool, type ToolWorkspace } from './backup-tool.js';

/**
 * kloud through its built CLI (`dist/bin/kloud.js`), exactly as a user runs it, so the figures
 * include process start-up and the CLI's own work. The passphrase goes through the environment.
 */
export class Kloud implements BackupTool {
  readonly name = 'kloud';
  readonly store: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    private readonly ws: ToolWorkspace,
    private readonly cli: string,
  ) {
    this.store = ws.store;
    this.env = isolatedEnv(ws, { KLOUD_PASSPHRASE: ws.passphrase });
  }

  static install = 'npm run build (the CLI is dist/bin/kloud.js)';

  /**
   * What `kloud --version` answers, plus the git commit of the checkout the CLI was built in
   * (the package version alone does not tell two builds apart).
   */
  static version(cli: string): string | undefined {
    if (!existsSync(cli)) return undefined;
    const out = spawnSync(process.execPath, [cli, '--version'], { encoding: 'utf8' });
    const version = out.status === 0 ? out.stdout.trim() || '?' : '?';
    const git = (args: string[]): string | undefined => {
      const r = spawnSync('git', ['-C', dirname(cli), ...args], { encoding: 'utf8' });
      return r.status === 0 ? r.stdout.trim() : undefined;
    };
    const commit = git(['rev-parse', '--short', 'HEAD']);
    if (!commit) return version;
    return `${version} (${commit}${git(['status', '--porcelain'])?.length ? '+changes' : ''})`;
  }

  private run(args: string[]): Promise<CommandResult> {
    return this.ws.meter.run({
      command: process.execPath,
      args: [this.cli, 'at', this.store, ...args],
      env: this.env,
      node: true,
    });
  }

  init(): Promise<CommandResult> {
    return this.run(['create']);
  }

  backup(source: string): Promise<CommandResult> {
    return this.run(['backup', source]);
  }

  restore(target: string): Promise<CommandResult> {
    return this.run(['restore', 'latest', '--to', target]);
  }

  check(): Promise<CommandResult> {
    return this.run(['check', '--read-data']);
  }

  /**
   * kloud deletes in two prune runs a grace period apart (safe with concurrent backups); with no
   * other writer, a grace of 0 lets the second run, right after the first, delete.
   */
  async forgetAndPrune(keep: number): Promise<CommandResult> {
    return inSequence([
      await this.run(['forget', '--keep-last', String(keep)]),
      await this.run(['prune', '--grace', '0s']),
      await this.run(['prune', '--grace', '0s']),
    ]);
  }

  async describe(): Promise<unknown> {
    const { stdout } = await this.run(['info', '--json']);
    return JSON.parse(stdout) as unknown;
  }
}
