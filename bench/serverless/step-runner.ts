import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type {
  BatchInput,
  BatchOutput,
  CommitInput,
  CommitOutput,
  PlanInput,
  PlanOutput,
} from './backup-steps.js';

export type StepName = 'plan' | 'batch' | 'commit';

interface StepTypes {
  plan: [PlanInput, PlanOutput];
  batch: [BatchInput, BatchOutput];
  commit: [CommitInput, CommitOutput];
}

/** A step's answer and what its process used. */
export interface StepAnswer<O> {
  readonly output: O;
  /** inside the process, from the request read to the answer (no Node start-up) */
  readonly seconds: number;
  /** user + system CPU of the whole process */
  readonly cpuSeconds: number;
  readonly peakRssBytes: number;
}

/**
 * The child script: compiled beside this module under dist/, or the TypeScript source run
 * through tsx (jest runs the sources).
 */
const CHILD = ['./step-process.js', './step-process.ts']
  .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
  .find((path) => existsSync(path))!;
const NODE_ARGS = CHILD.endsWith('.ts') ? ['--import', 'tsx', CHILD] : [CHILD];

/** Runs one step in a fresh Node process; rejects with its stderr when it fails. */
export function runStep<S extends StepName>(
  step: S,
  input: StepTypes[S][0],
): Promise<StepAnswer<StepTypes[S][1]>> {
  const child = spawn(process.execPath, NODE_ARGS, {
    stdio: ['pipe', 'pipe', 'pipe'],
    // jest's --experimental-vm-modules is not for the child
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  child.stdin.end(JSON.stringify({ step, input }));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(stdout) as StepAnswer<StepTypes[S][1]>);
      else
        reject(
          new Error(
            `the ${step} step exited with ${code}:\n${stderr.trim().split('\n').slice(-8).join('\n')}`,
          ),
        );
    });
  });
}
