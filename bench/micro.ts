import { readFile, mkdir, rm } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SOURCE_ROOTS, selectRealFiles } from './corpus.js';
import { describeMachine } from './machine.js';
import { measureStages, type MicroFigure } from './micro-stages.js';
import type { BenchOptions } from './options.js';
import { writeResultsFile } from './results-file.js';
import type { BenchOutput } from './tool-benchmark.js';
import { checkTool } from './tools/catalog.js';

/**
 * `npm run bench -- --micro`: the engine stages alone, in-process, through the engine's own
 * modules (micro-stages.ts), never copies of them: a copy would measure the copy.
 */

/** `MiB` of real system files (the same selection as the corpus), read into one buffer. */
async function loadSample(mib: number, seed: number): Promise<Buffer> {
  const files = await selectRealFiles(
    { realBytes: mib * 2 ** 20, realFiles: Number.MAX_SAFE_INTEGER, maxFileBytes: 32 * 2 ** 20 },
    seed,
    DEFAULT_SOURCE_ROOTS,
  );
  return Buffer.concat(await Promise.all(files.map((f) => readFile(f.path))));
}

function microTable(figures: readonly MicroFigure[]): string {
  const rows = figures.map((f) => {
    const digits = f.unit === 's' ? 2 : 0;
    return `| ${f.stage} | ${f.module} | ${f.value.toFixed(digits)} | ${f.unit} |`;
  });
  return ['| stage | engine module | figure | unit |', '| --- | --- | ---: | --- |', ...rows].join('\n');
}

export async function runMicroBenchmark(
  opts: BenchOptions,
  io: BenchOutput,
  command: string,
): Promise<{ ok: boolean; markdown: string; resultsFile: string }> {
  const startedAt = new Date();
  const load = loadavg()[0] ?? 0;
  const scratchDir = join(opts.workDir, 'micro');
  await mkdir(scratchDir, { recursive: true });
  const sample = await loadSample(opts.microMiB, opts.seed);
  const figures = await measureStages({
    sample,
    scratchDir,
    indexEntries: opts.indexEntries,
    parallelism: cpus().length,
    seed: opts.seed,
    log: io.log,
  });
  await rm(scratchDir, { recursive: true, force: true });

  const machine = describeMachine({ kloud: checkTool('kloud', opts.kloudCli).version });
  const resultsFile = await writeResultsFile(opts.resultsDir, startedAt, '-micro', {
    kind: 'micro',
    command,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    options: { microMiB: opts.microMiB, indexEntries: opts.indexEntries, seed: opts.seed },
    machine,
    loadAverage: load,
    sampleBytes: sample.length,
    figures,
  });
  const markdown = [
    `## kloud engine stages (${(sample.length / 1e6).toFixed(0)} MB of real files, median of 3 passes after a warm-up)`,
    '',
    `\`${command}\` on ${machine.cpuModel} (${machine.cores} cores), Node ${machine.node}, ` +
      `1-minute load average ${load.toFixed(1)} at the start. ` +
      'MB/s = 10^6 bytes of plaintext per second on one core unless "in flight" says otherwise.',
    '',
    microTable(figures),
    '',
    `Raw figures: ${resultsFile}`,
  ].join('\n');
  io.out(`${markdown}\n`);
  return { ok: true, markdown, resultsFile };
}
