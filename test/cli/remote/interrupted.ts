/** A `kloud` run interrupted as a user does it: Ctrl-C (SIGINT) once its first line is printed. */
import { spawn } from 'node:child_process';
import { KLOUD } from '../sandbox.js';

export async function interruptedRun(
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd: string },
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [KLOUD, ...args], options);
  let stderr = '';
  const firstLine = new Promise<void>((resolve) =>
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('\n')) resolve();
    }),
  );
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await firstLine;
  child.kill('SIGINT');
  const code = await exited;
  return { code, stderr };
}
