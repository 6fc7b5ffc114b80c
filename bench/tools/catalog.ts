import { existsSync } from 'node:fs';
import { findOnPath, type BackupTool, type ToolName, type ToolWorkspace } from './backup-tool.js';
import { Borg } from './borg.js';
import { Kloud } from './kloud.js';
import { Restic } from './restic.js';

/** The tools the bench knows: whether each can run here, its version, and a fresh instance. */

export interface ToolAvailability {
  readonly name: ToolName;
  readonly version: string | undefined;
  /** Why it cannot run and how to get it; undefined when it can. */
  readonly missing: string | undefined;
}

export function checkTool(name: ToolName, kloudCli: string): ToolAvailability {
  switch (name) {
    case 'kloud': {
      if (!existsSync(kloudCli))
        return { name, version: undefined, missing: `${kloudCli} not found: ${Kloud.install}` };
      return { name, version: Kloud.version(kloudCli), missing: undefined };
    }
    case 'restic':
      return findOnPath(Restic.command)
        ? { name, version: Restic.version(), missing: undefined }
        : { name, version: undefined, missing: `restic is not on PATH: ${Restic.install}` };
    case 'borg':
      return findOnPath(Borg.command)
        ? { name, version: Borg.version(), missing: undefined }
        : { name, version: undefined, missing: `borg is not on PATH: ${Borg.install}` };
  }
}

export function createTool(name: ToolName, ws: ToolWorkspace, kloudCli: string): BackupTool {
  switch (name) {
    case 'kloud':
      return new Kloud(ws, kloudCli);
    case 'restic':
      return new Restic(ws);
    case 'borg':
      return new Borg(ws);
  }
}
