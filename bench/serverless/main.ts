/**
 * `npm run bench:serverless`: the serverless backup benchmark (serverless-bench.ts). A table on
 * stdout, or the figures as JSON with `--json`; progress on stderr.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { locateRepoRoot } from '../options.js';
import { runServerlessBench } from './serverless-bench.js';
import { renderServerlessReport } from './serverless-report.js';

const MiB = 2 ** 20;

const USAGE = `Usage: npm run bench:serverless -- [options]

Backs up a generated bucket on s3rver into an S3 store as the backup state machine does (plan,
batch workers in separate processes, commit), with 1, 2 and 4 workers, then again after a few
percent of the objects changed.

  --objects N             objects in the source bucket (default 20000)
  --workers 1,2,4         worker counts, one store each (default 1,2,4)
  --change-percent P      objects changed before the second run (default 2)
  --max-batch-mib N       content bytes a batch reads at most (default 16)
  --max-batch-entries N   items a batch holds at most (default 500)
  --index-budget-mib N    index memory budget of each step (default 512, the stack's for 2048 MiB)
  --seed N                (default 1)
  --work-dir DIR          (default bench/work/serverless)
  --json                  the figures as JSON instead of the table
`;

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(n > 0)) throw new Error(`--${name} wants a positive number, got ${value}\n\n${USAGE}`);
  return n;
}

const { values } = parseArgs({
  options: {
    objects: { type: 'string' },
    workers: { type: 'string' },
    'change-percent': { type: 'string' },
    'max-batch-mib': { type: 'string' },
    'max-batch-entries': { type: 'string' },
    'index-budget-mib': { type: 'string' },
    seed: { type: 'string' },
    'work-dir': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
} else {
  const repoRoot = locateRepoRoot(fileURLToPath(new URL('.', import.meta.url)));
  const result = await runServerlessBench(
    {
      objects: Math.floor(positive('objects', values.objects, 20_000)),
      seed: positive('seed', values.seed, 1),
      workers: (values.workers ?? '1,2,4').split(',').map((n) => Math.floor(positive('workers', n, 1))),
      changePercent: positive('change-percent', values['change-percent'], 2),
      maxBatchBytes: Math.floor(positive('max-batch-mib', values['max-batch-mib'], 16) * MiB),
      maxBatchEntries: Math.floor(positive('max-batch-entries', values['max-batch-entries'], 500)),
      indexMemoryBudget: Math.floor(positive('index-budget-mib', values['index-budget-mib'], 512) * MiB),
      workDir: values['work-dir'] ?? join(repoRoot, 'bench', 'work', 'serverless'),
    },
    (line) => process.stderr.write(`${line}\n`),
  );
  process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : renderServerlessReport(result));
}
