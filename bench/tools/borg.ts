import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { type CommandResult, inSequence } from '../meter.js';
import { findOnPath, isolatedEnv, type BackupTool, type ToolWorkspace } from './backup-tool.js';

/** Borg 1.2 with its defaults (repokey encryption, lz4 compression, buzhash chunker). */
export class Borg implements BackupTool {
  readonly name = 'borg';
  readonly store: string;
  private readonly env: NodeJS.ProcessEnv;
  private lastArchive: string | undefined;

  constructor(private readonly ws: ToolWorkspace) {
    this.store = ws.store;
    this.env = isolatedEnv(ws, {
      BORG_PASSPHRASE: ws.passphrase,
      BORG_BASE_DIR: join(ws.dir, 'borg-base'),
      BORG_DISPLAY_PASSPHRASE: 'no',
      BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
    });
  }

  static command = 'borg';
  static install = 'apt-get install borgbackup (Debian/Ubuntu), or see https://borgbackup.readthedocs.io';

  static version(): string | undefined {
    const path = findOnPath(Borg.command);
    if (!path) return undefined;
    const out = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout ?? ''; // "borg 1.2.4"
    return /borg ([^\s]+)/.exec(out)?.[1] ?? out.trim();
  }

  private run(args: string[], cwd?: string): Promise<CommandResult> {
    return this.ws.meter.run({ command: Borg.command, args, env: this.env, cwd });
  }

  init(): Promise<CommandResult> {
    return this.run(['init', '-e', 'repokey', this.store]);
  }

  backup(source: string, label: string): Promise<CommandResult> {
    this.lastArchive = label;
    return this.run(['create', `${this.store}::${label}`, source]);
  }

  /** Borg 1.2 has no "latest": extract the archive this workspace wrote last, into the cwd. */
  restore(target: string): Promise<CommandResult> {
    if (!this.lastArchive) throw new Error('borg: restore before any backup');
    return this.run(['extract', `${this.store}::${this.lastArchive}`], target);
  }

  check(): Promise<CommandResult> {
    return this.run(['check', '--verify-data', this.store]);
  }

  /** Borg 1.2 frees the space in a command of its own. */
  async forgetAndPrune(keep: number): Promise<CommandResult> {
    return inSequence([
      await this.run(['prune', '--keep-last', String(keep), this.store]),
      await this.run(['compact', this.store]),
    ]);
  }
}
