#!/usr/bin/env node
import { createRequire } from 'node:module';
import { main } from '../cli/main.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

// `kloud cat ... | head`: the reader has what it wanted; stop quietly, as SIGPIPE would.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(0);
});

process.exitCode = await main(
  process.argv.slice(2),
  {
    env: process.env,
    cwd: process.cwd(),
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
  },
  version,
);
