import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { CommandResult, Meter } from '../meter.js';

/**
 * What the suite drives, the same five operations for every tool. A tool instance owns one
 * fresh workspace: its store, its cache and config dirs (HOME, XDG_*, the tool's own cache
 * variables), so runs never share state and nothing touches the user's real config.
 */
export interface BackupTool {
  readonly name: ToolName;
  /** The directory whose size is the store size. */
  readonly store: string;
  init(): Promise<CommandResult>;
  /** `label` names the snapshot where the tool needs a name (Borg archives). */
  backup(source: string, label: string): Promise<CommandResult>;
  /** Restores the latest snapshot into the existing, empty `target`. */
  restore(target: string): Promise<CommandResult>;
  /** Full check that reads every data blob back. */
  check(): Promise<CommandResult>;
  /** Removes all snapshots but the last `keep` and frees the space only they used, at once. */
  forgetAndPrune(keep: number): Promise<CommandResult>;
  /** Tool-specific statistics after the last backup, kept raw in the results. */
  describe?(): Promise<unknown>;
}

export const TOOL_NAMES = ['kloud', 'restic', 'borg'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

export interface ToolWorkspace {
  /** Root of this tool's files for one run. */
  readonly dir: string;
  readonly store: string;
  readonly meter: Meter;
  readonly passphrase: string;
  /** more environment for the tool (credentials of a remote store) */
  readonly env?: NodeJS.ProcessEnv;
}

/** HOME and XDG dirs inside the workspace: tools write caches and config there, not in ~. */
export function isolatedEnv(ws: ToolWorkspace, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const home = join(ws.dir, 'home');
  return {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
    TMPDIR: join(ws.dir, 'tmp'),
    ...ws.env,
    ...extra,
  };
}

/** Absolute path of `command` on PATH, or undefined. */
export function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
