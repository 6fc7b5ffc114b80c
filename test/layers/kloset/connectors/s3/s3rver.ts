import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { S3RVER_KEY, type S3rverHandle, startS3rver } from '../../../../../local/s3rver.js';
import { removeTempDirs, tempDir } from '../../fixtures.js';

export { S3RVER_KEY, type S3rverHandle, startS3rver };

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
 * Runs the AWS CLI (`/usr/bin/aws s3api ...`, an independent client) against `endpoint` with
 * s3rver's key and no other AWS configuration; returns its parsed JSON output.
 */
export async function awsCli(endpoint: string, args: string[]): Promise<unknown> {
  const { stdout } = await promisify(execFile)(
    '/usr/bin/aws',
    ['s3api', ...args, '--endpoint-url', endpoint],
    {
      env: {
        PATH: process.env.PATH,
        HOME: await tempDir(),
        AWS_ACCESS_KEY_ID: S3RVER_KEY,
        AWS_SECRET_ACCESS_KEY: S3RVER_KEY,
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    },
  );
  return JSON.parse(stdout);
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
