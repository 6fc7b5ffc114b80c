/**
 * `npm start`: the control plane in local mode on 127.0.0.1, until SIGINT or SIGTERM.
 *
 *   node dist/local/start.js [--port N] [--data-dir DIR] [--root DIR] [--s3 [--bucket NAME]...]
 */
import { parseArgs } from 'node:util';
import { startControlPlane, type LocalControlPlane } from './control-plane.js';

const DEFAULT_PORT = 4710;
const DEFAULT_BUCKET = 'kloud-local';

function usage(message: string): never {
  process.stderr.write(
    `error: ${message}\nusage: npm start -- [--port N] [--data-dir DIR] [--root DIR] [--s3 [--bucket NAME]...]\n`,
  );
  process.exit(2);
}

function readOptions() {
  try {
    const { values } = parseArgs({
      options: {
        port: { type: 'string', default: String(DEFAULT_PORT) },
        'data-dir': { type: 'string', default: '.kloud-local' },
        root: { type: 'string' },
        s3: { type: 'boolean', default: false },
        bucket: { type: 'string', multiple: true },
      },
    });
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      usage('--port takes a port number (0: any free one)');
    if (values.bucket && !values.s3) usage('--bucket goes with --s3');
    return {
      port,
      dataDir: values['data-dir'],
      ...(values.root && { root: values.root }),
      ...(values.s3 && { s3Buckets: values.bucket ?? [DEFAULT_BUCKET] }),
    };
  } catch (err) {
    usage((err as Error).message);
  }
}

function banner(cp: LocalControlPlane): string {
  const token = cp.tokenCreated
    ? `token: ${cp.token}\n       (shown this once; it stays in ${cp.tokenFile})`
    : `token: in ${cp.tokenFile}`;
  const stores = cp.s3Buckets.length > 0;
  const s3 = `S3:    ${cp.s3.endpoint} (s3rver; ${stores ? `store buckets ${cp.s3Buckets.join(', ')}, ` : ''}staging bucket ${cp.stagingBucket})\n`;
  const resource = stores ? `s3-bucket:${cp.s3Buckets[0]}` : 'directory:backups';
  const configuration = stores ? '{"prefix":"team"}' : '{"path":"team"}';
  // in local mode the s3 protocol reaches s3rver through AWS_ENDPOINT_URL_S3
  const protocol = stores ? ',"protocol":"s3"' : '';
  return `kloud control plane (local mode)
url:   ${cp.url}
${token}
data:  ${cp.dataDir}
dirs:  ${cp.root}
${s3}
Try it:
  export KLOUD_URL=${cp.url} KLOUD_TOKEN=$(cat ${cp.tokenFile})
  alias api='curl -sS -H "Authorization: Bearer $KLOUD_TOKEN" -H "content-type: application/json"'
  api $KLOUD_URL/inventories
  api $KLOUD_URL/inventories/${stores ? 's3' : 'directories'}/resources
  api $KLOUD_URL/integrations?resourceId=${resource}
  api -X POST $KLOUD_URL/store-apps -d '{"resourceId":"${resource}","name":"main","storageType":"standard"${protocol},"configuration":${configuration},"passphrase":"a long passphrase"}'
  api -X POST $KLOUD_URL/store-apps/APP_ID/test
  api -X POST $KLOUD_URL/store-apps/APP_ID/initialize
(docs/API.md has every route; Ctrl-C stops)
`;
}

const controlPlane = await startControlPlane(readOptions());
process.stdout.write(banner(controlPlane));
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void controlPlane.stop().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
