import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { removeTempDirs, tempDir } from '../../fixtures.js';

/** How s3rver accepts requests: any v4 signature, but only its one access key. */
export const S3RVER_KEY = 'S3RVER';

export interface S3rverHandle {
  readonly endpoint: string;
  readonly port: number;
  /** connector options that reach this server */
  readonly options: Record<string, string>;
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./s3rver-child.mjs', import.meta.url));
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

/** A plain SDK client for the tests' own requests (seeding, looking), beside the connector's. */
export function rawClient(server: S3rverHandle): S3Client {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
  });
}

/**
 * s3rver for one test file: started before its tests with `buckets`, stopped after them (with
 * the fixtures' temp dirs). Read `server` and `raw` inside tests, once started.
 */
export function s3rverForTests(buckets: string[]): { readonly server: S3rverHandle; readonly raw: S3Client } {
  let server: S3rverHandle | undefined;
  let raw: S3Client | undefined;
  beforeAll(async () => {
    server = await startS3rver(await tempDir('kloud-s3rver-'), buckets);
    raw = rawClient(server);
  });
  afterAll(async () => {
    raw?.destroy();
    await server?.stop();
    await removeTempDirs();
  });
  return {
    get server() {
      return server!;
    },
    get raw() {
      return raw!;
    },
  };
}
