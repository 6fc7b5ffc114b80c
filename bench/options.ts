import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CORPUS_SIZES, type CorpusSize } from './corpus.js';
import { TOOL_NAMES, type ToolName } from './tools/backup-tool.js';

export const USAGE = `Usage: npm run bench -- [options]

Runs kloud, restic and Borg on the same corpus and prints kloud's figures and its time ratios.

  --size tiny|small|medium|large  corpus size (default medium; large ≈ 1.1 GB in ~47k files)
  --runs N                        runs per tool; the table shows medians (default 3)
  --only kloud[,restic][,borg]    tools to run (default all three)
  --seed N                        corpus and modification seed (default 1)
  --work-dir DIR                  corpus, stores and restores (default bench/work)
  --results-dir DIR               where <timestamp>.json goes (default bench/results)
  --keep                          keep each run's store and restored tree
  --kloud-cli FILE                the kloud CLI to run (default dist/bin/kloud.js), e.g. another build
  --no-gnu-time                   measure CPU and RSS without /usr/bin/time (Node children only)
  --micro                         engine stages alone (MB/s, ns/lookup) instead of the tools
  --micro-mib N                   data per micro stage in MiB (default 256)
  --index-entries N               entries of the micro index lookup (default 10000000)
  -h, --help                      this text
`;

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface BenchOptions {
  readonly mode: 'tools' | 'micro' | 'help';
  readonly size: CorpusSize;
  readonly runs: number;
  readonly tools: ToolName[];
  readonly seed: number;
  readonly workDir: string;
  readonly resultsDir: string;
  readonly keep: boolean;
  readonly kloudCli: string;
  readonly useGnuTime: boolean;
  readonly microMiB: number;
  readonly indexEntries: number;
}

/** The directory holding kloud's package.json, found upwards from `start` (bench/ or dist/bench/). */
export function locateRepoRoot(start: string): string {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'kloud')
      return dir;
    if (dirname(dir) === dir) throw new Error(`no kloud package.json above ${start}`);
  }
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} wants a positive integer, got ${value}`);
  return n;
}

export function parseOptions(argv: readonly string[], repoRoot: string): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        size: { type: 'string' },
        runs: { type: 'string' },
        only: { type: 'string' },
        seed: { type: 'string' },
        'work-dir': { type: 'string' },
        'results-dir': { type: 'string' },
        keep: { type: 'boolean' },
        'kloud-cli': { type: 'string' },
        'no-gnu-time': { type: 'boolean' },
        micro: { type: 'boolean' },
        'micro-mib': { type: 'string' },
        'index-entries': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }

  const size = parsed.size ?? 'medium';
  if (!(CORPUS_SIZES as readonly string[]).includes(size)) {
    throw new UsageError(`--size must be one of ${CORPUS_SIZES.join(', ')}, got ${size}`);
  }
  const tools = (parsed.only ?? TOOL_NAMES.join(',')).split(',').map((t) => t.trim());
  for (const t of tools) {
    if (!(TOOL_NAMES as readonly string[]).includes(t)) {
      throw new UsageError(`--only takes ${TOOL_NAMES.join(', ')}, got ${t}`);
    }
  }
  const seed = Number(parsed.seed ?? '1');
  if (!Number.isSafeInteger(seed)) throw new UsageError(`--seed wants an integer, got ${parsed.seed}`);

  return {
    mode: parsed.help ? 'help' : parsed.micro ? 'micro' : 'tools',
    size: size as CorpusSize,
    runs: positiveInt('runs', parsed.runs, 3),
    tools: [...new Set(tools)] as ToolName[],
    seed,
    workDir: resolve(parsed['work-dir'] ?? join(repoRoot, 'bench', 'work')),
    resultsDir: resolve(parsed['results-dir'] ?? join(repoRoot, 'bench', 'results')),
    keep: parsed.keep ?? false,
    kloudCli: resolve(parsed['kloud-cli'] ?? join(repoRoot, 'dist', 'bin', 'kloud.js')),
    useGnuTime: !(parsed['no-gnu-time'] ?? false),
    microMiB: positiveInt('micro-mib', parsed['micro-mib'], 256),
    indexEntries: positiveInt('index-entries', parsed['index-entries'], 10_000_000),
  };
}
