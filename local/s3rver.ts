import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * s3rver, the S3 protocol on 127.0.0.1, in a child process: for the tests and the S3 benchmark.
 */

/** How s3rver accepts requests: any v4 signature, but only its one access key. */
export const S3RVER_KEY = 'S3RVER';

export interface S3rverHandle {
  readonly endpoint: string;
  readonly port: number;
  /** connector options that reach this server */
  readonly options: Record<string, string>;
  stop(): Promise<void>;
}

/** The child script: beside this module in the sources, two levels up from dist/local/. */
const CHILD = ['./s3rver-child.mjs', '../../local/s3rver-child.mjs']
  .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
  .find((path) => existsSync(path))!;
const START_TIMEOUT_MS = 15_000;

/** Starts s3rver on 127.0.0.1 (ephemeral port) with `buckets`, its data under `dataDir`. */
export async function startS3rver(dataDir: string, buckets: string[]): Promise<S3rverHandle> {
  const child = spawn(process.execPath, ['--openssl-legacy-provider', CHILD, dataDir, ...buckets], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const port = await readPort(child);
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    options: {
      endpoint,
      force_path_style: 'true',
      access_key: S3RVER_KEY,
      secret_access_key: S3RVER_KEY,
      region: 'us-east-1',
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function readPort(child: ChildProcess): Promise<number> {
  let out = '';
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`s3rver did not start within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = /^(\{.*\})\n/m.exec(out)?.[1];
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited with code ${code} before listening`));
    });
  });
}
