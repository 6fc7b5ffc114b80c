// Runs s3rver (tests, benchmarks, and later the local mode) in its own process, so that it can have
// --openssl-legacy-provider (its continuation tokens use DES; truncated listings answer 500
// without it). Arguments: DATA_DIR BUCKET... Prints {"port":N} once listening; exits when its
// stdin closes (the parent died or stopped it).
import S3rver from 's3rver';

const [directory, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  directory,
  silent: true,
  configureBuckets: buckets.map((name) => ({ name })),
});
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.stdin.on('end', () => server.close().finally(() => process.exit(0)));
process.stdin.resume();
