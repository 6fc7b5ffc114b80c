import { mkdir } from 'node:fs/promises';
import { buildCorpus } from './corpus.js';
import { describeMachine } from './machine.js';
import { Meter } from './meter.js';
import { UsageError, type BenchOptions } from './options.js';
import { renderReport } from './report.js';
import { writeResultsFile } from './results-file.js';
import { measureFloors, type Floors } from './floors.js';
import { runToolOnce, type ToolRun } from './suite.js';
import { summarizeRuns, type StepSummary } from './summary.js';
import { evaluateTargets } from './targets.js';
import type { ToolName } from './tools/backup-tool.js';
import { checkTool } from './tools/catalog.js';

/**
 * `npm run bench`: every tool through the same steps on the same corpus. Runs interleave
 * (run 1 of each tool, then run 2...) so a drift of the machine during the benchmark (thermal,
 * a neighbour on the host) spreads over all tools instead of landing on one.
 */

export interface BenchOutput {
  /** The report (stdout). */
  readonly out: (text: string) => void;
  /** Progress (stderr). */
  readonly log: (line: string) => void;
}

export interface ToolBenchmarkResult {
  readonly ok: boolean;
  readonly markdown: string;
  readonly resultsFile: string;
}

const PASSPHRASE = 'kloud-bench-passphrase';

export async function runToolBenchmark(
  opts: BenchOptions,
  io: BenchOutput,
  command = 'npm run bench',
): Promise<ToolBenchmarkResult> {
  const startedAt = new Date();
  const availability = opts.tools.map((t) => checkTool(t, opts.kloudCli));
  const missing = availability.filter((a) => a.missing !== undefined);
  if (missing.length > 0) {
    const lines = missing.map((a) => `  ${a.missing}`).join('\n');
    throw new UsageError(`cannot run:\n${lines}\nInstall them, or run only kloud with --only kloud.`);
  }
  const versions: Partial<Record<ToolName, string>> = {};
  for (const a of availability) versions[a.name] = a.version;

  await mkdir(opts.workDir, { recursive: true });
  const meter = await Meter.create(opts.workDir, { useGnuTime: opts.useGnuTime });
  const machine = describeMachine(versions);
  const corpus = await buildCorpus({ workDir: opts.workDir, size: opts.size, seed: opts.seed, log: io.log });
  io.log(`corpus: ${corpus.fileCount} files, ${(corpus.totalBytes / 1e6).toFixed(1)} MB`);

  const ctx = {
    corpus,
    meter,
    workDir: opts.workDir,
    kloudCli: opts.kloudCli,
    passphrase: PASSPHRASE,
    keep: opts.keep,
    log: io.log,
  };
  const runs: Record<ToolName, ToolRun[]> = { kloud: [], restic: [], borg: [] };
  const errors: string[] = [];
  const failed = new Set<ToolName>();
  const floors: Floors[] = [];
  for (let run = 1; run <= opts.runs; run++) {
    io.log(`  floors run ${run}: reading and copying the corpus`);
    floors.push(await measureFloors(corpus, meter, opts.workDir));
    for (const tool of opts.tools) {
      if (failed.has(tool)) continue;
      const result = await runToolOnce(tool, run, ctx);
      runs[tool].push(result);
      if (result.error !== undefined) {
        failed.add(tool);
        errors.push(result.error);
        io.log(`  ${result.error}`);
      }
    }
  }

  const summaries: Partial<Record<ToolName, StepSummary[]>> = {};
  for (const tool of opts.tools) summaries[tool] = summarizeRuns(runs[tool]);
  const targets =
    summaries.kloud?.length && summaries.restic?.length
      ? evaluateTargets(summaries.kloud, summaries.restic)
      : undefined;
  // the change is the same for every tool; any run that got that far tells its size
  const modified = Object.values(runs)
    .flat()
    .find((r) => r.modifiedFiles > 0);

  const resultsFile = await writeResultsFile(opts.resultsDir, startedAt, '', {
    kind: 'tools',
    command,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    options: { size: opts.size, runs: opts.runs, tools: opts.tools, seed: opts.seed },
    machine,
    measuredWith: meter.method,
    corpus: {
      size: corpus.size,
      seed: corpus.seed,
      files: corpus.fileCount,
      bytes: corpus.totalBytes,
      realFiles: corpus.realFileCount,
      realBytes: corpus.realBytes,
      fingerprint: corpus.fingerprint,
      modifiedFiles: modified?.modifiedFiles ?? null,
      modifiedBytes: modified?.modifiedBytes ?? null,
    },
    summaries,
    targets: targets ?? null,
    floors,
    runs,
    errors,
  });

  const markdown = renderReport({
    command,
    corpus,
    modifiedFiles: modified?.modifiedFiles ?? 0,
    runs: opts.runs,
    machine,
    measuredWith: meter.method,
    tools: opts.tools,
    summaries,
    targets,
    floors,
    errors,
    resultsFile,
  });
  io.out(`${markdown}\n`);
  return { ok: errors.length === 0, markdown, resultsFile };
}
