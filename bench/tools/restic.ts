import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { CommandResult } from '../meter.js';
import { findOnPath, isolatedEnv, type BackupTool, type ToolWorkspace } from './backup-tool.js';

/** restic with its defaults (repository v2, zstd auto): the reference the targets are set against. */
export class Restic implements BackupTool {
  readonly name = 'restic';
  readonly store: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly ws: ToolWorkspace) {
    this.store = ws.store;
    this.env = isolatedEnv(ws, {
      RESTIC_REPOSITORY: ws.store,
      RESTIC_PASSWORD: ws.passphrase,
      RESTIC_CACHE_DIR: join(ws.dir, 'cache'),
    });
  }

  static command = 'restic';
  static install =
    'apt-get install restic (Debian/Ubuntu), or a release from https://github.com/restic/restic';

  static version(): string | undefined {
    const path = findOnPath(Restic.command);
    if (!path) return undefined;
    // "restic 0.14.0 compiled with go1.19.8 on linux/amd64"
    const out = spawnSync(path, ['version'], { encoding: 'utf8' }).stdout ?? '';
    return /restic ([^\s]+)/.exec(out)?.[1] ?? out.trim();
  }

  private run(args: string[], cwd?: string): Promise<CommandResult> {
    return this.ws.meter.run({ command: Restic.command, args, env: this.env, cwd });
  }

  init(): Promise<CommandResult> {
    return this.run(['init']);
  }

  backup(source: string): Promise<CommandResult> {
    return this.run(['backup', source]);
  }

  restore(target: string): Promise<CommandResult> {
    return this.run(['restore', 'latest', '--target', target]);
  }

  check(): Promise<CommandResult> {
    return this.run(['check', '--read-data']);
  }

  forgetAndPrune(keep: number): Promise<CommandResult> {
    return this.run(['forget', '--keep-last', String(keep), '--prune']);
  }
}
