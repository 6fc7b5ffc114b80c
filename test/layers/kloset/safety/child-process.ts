import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PASSPHRASE } from '../fixtures.js';

const BACKUP_CHILD = fileURLToPath(new URL('./backup-child.ts', import.meta.url));
const PRUNE_CHILD = fileURLToPath(new URL('./prune-child.ts', import.meta.url));

export interface RunningChild {
  readonly child: ChildProcess;
  /** resolves with the exit code (null when killed) and stdout */
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

export function spawnBackup(location: string, sources: string[]): RunningChild {
  return spawnEngine(BACKUP_CHILD, [location, ...sources]);
}

/** A prune with no grace period: it deletes what an earlier run planned. */
export function spawnPrune(location: string): RunningChild {
  return spawnEngine(PRUNE_CHILD, [location]);
}

/** The same in steps of one unit each, resuming from (and saving) the checkpoint in `checkpointFile`. */
export function spawnPruneSteps(location: string, checkpointFile: string): RunningChild {
  return spawnEngine(PRUNE_CHILD, [location, checkpointFile]);
}

function spawnEngine(script: string, args: string[]): RunningChild {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { ...process.env, KLOUD_TEST_PASSPHRASE: PASSPHRASE, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}
