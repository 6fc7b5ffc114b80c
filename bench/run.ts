import { fileURLToPath } from 'node:url';
import { runMicroBenchmark } from './micro.js';
import { USAGE, UsageError, locateRepoRoot, parseOptions } from './options.js';
import { runToolBenchmark, type BenchOutput } from './tool-benchmark.js';

/** Entry of `npm run bench` (dist/bench/run.js). Exit codes: 0 ok, 1 a tool failed, 2 usage. */
async function main(argv: readonly string[]): Promise<number> {
  const repoRoot = locateRepoRoot(fileURLToPath(new URL('.', import.meta.url)));
  const io: BenchOutput = {
    out: (text) => process.stdout.write(text),
    log: (line) => process.stderr.write(`${line}\n`),
  };
  try {
    const opts = parseOptions(argv, repoRoot);
    if (opts.mode === 'help') {
      io.out(USAGE);
      return 0;
    }
    const command = ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' ');
    const result =
      opts.mode === 'micro'
        ? await runMicroBenchmark(opts, io, command)
        : await runToolBenchmark(opts, io, command);
    return result.ok ? 0 : 1;
  } catch (err) {
    if (err instanceof UsageError) {
      io.log(`bench: ${err.message}\n(npm run bench -- --help lists the options)`);
      return 2;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
