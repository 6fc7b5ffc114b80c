import { mkdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Corpus } from './corpus.js';
import { modifyCorpus, type CorpusModification } from './corpus-modification.js';
import type { CommandResult, Meter, Measurement } from './meter.js';
import { flushDirtyPages, warmPageCache } from './page-cache.js';
import { directoryBytes } from './store-size.js';
import type { ToolName } from './tools/backup-tool.js';
import { createTool } from './tools/catalog.js';
import { compareDigests, digestTree } from './tree-digest.js';

/**
 * One run of one tool: the steps of the issue in the same order for every tool, on the same
 * corpus, from the same page-cache state. Only the tool's own commands are timed; the
 * harness's work (warming, modifying, verifying, measuring the store) happens between them.
 */

export const STEPS = [
  'init',
  'backup-initial',
  'backup-unchanged',
  'backup-modified',
  'restore',
  'check',
  'forget-prune',
] as const;
export type StepName = (typeof STEPS)[number];

export const STEP_LABELS: Record<StepName, string> = {
  init: 'create/init',
  'backup-initial': 'first backup',
  'backup-unchanged': 'no-change backup',
  'backup-modified': 'backup after 5% change',
  restore: 'restore latest',
  check: 'check --read-data',
  'forget-prune': 'forget all but the last, prune',
};

export interface StepSample extends Measurement {
  readonly step: StepName;
  /** Corpus bytes the step reads or writes (throughput = logicalBytes / wall); null for init. */
  readonly logicalBytes: number | null;
  /** Store size after the step, and its growth during the step. */
  readonly storeBytes: number;
  readonly storeBytesAdded: number;
}

export interface ToolRun {
  readonly tool: ToolName;
  readonly run: number;
  readonly steps: StepSample[];
  /** Files compared equal (content, size, mode) after the restore. */
  readonly restoredFilesVerified: number;
  readonly modifiedFiles: number;
  readonly modifiedBytes: number;
  readonly describe?: unknown;
  /** Why the run stopped early; the steps before it are kept. */
  readonly error?: string;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface SuiteContext {
  readonly corpus: Corpus;
  readonly meter: Meter;
  readonly workDir: string;
  readonly kloudCli: string;
  readonly passphrase: string;
  /** Keep each run's store and restored tree instead of deleting them. */
  readonly keep: boolean;
  readonly log: (line: string) => void;
}

export class StepFailed extends Error {
  constructor(tool: ToolName, step: StepName, cause: unknown) {
    super(`${tool}: ${STEP_LABELS[step]} failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'StepFailed';
  }
}

/**
 * restic and kloud restore a source under its absolute path inside the target, Borg under the
 * path without its leading slash (the same place); a tool that restores the source's content
 * straight into the target is accepted too.
 */
async function locateRestoredCorpus(target: string, source: string): Promise<string> {
  for (const candidate of [join(target, source), join(target, basename(source)), target]) {
    try {
      if ((await stat(candidate)).isDirectory()) return candidate;
    } catch {
      // next candidate
    }
  }
  return target;
}

async function verifyRestore(target: string, corpus: Corpus, mod: CorpusModification): Promise<number> {
  const root = await locateRestoredCorpus(target, corpus.root);
  const { digest, others } = await digestTree(root);
  const diffs = [
    ...others.map((p) => `unexpected non-regular entry ${p}`),
    ...compareDigests(mod.expected, digest),
  ];
  if (diffs.length > 0) throw new Error(`restored tree differs from the corpus:\n  ${diffs.join('\n  ')}`);
  return digest.size;
}

/**
 * Runs every step; a failing step ends the run but keeps what was measured before it, with the
 * failure in `error` (and the tool's workspace left in place to look at).
 */
export async function runToolOnce(name: ToolName, run: number, ctx: SuiteContext): Promise<ToolRun> {
  const dir = join(ctx.workDir, 'runs', name);
  await rm(dir, { recursive: true, force: true });
  for (const sub of ['home', 'tmp', 'cache']) await mkdir(join(dir, sub), { recursive: true });
  const ws = { dir, store: join(dir, 'store'), meter: ctx.meter, passphrase: ctx.passphrase };
  const tool = createTool(name, ws, ctx.kloudCli);
  const result: Mutable<ToolRun> = {
    tool: name,
    run,
    steps: [],
    restoredFilesVerified: 0,
    modifiedFiles: 0,
    modifiedBytes: 0,
  };
  let storeBytes = 0;

  const measure = async (
    step: StepName,
    logicalBytes: number | null,
    action: () => Promise<CommandResult>,
  ): Promise<void> => {
    flushDirtyPages();
    ctx.log(`  ${name} run ${run}: ${STEP_LABELS[step]}`);
    let done: CommandResult;
    try {
      done = await action();
    } catch (err) {
      throw new StepFailed(name, step, err);
    }
    const after = await directoryBytes(tool.store);
    result.steps.push({
      step,
      ...done.measurement,
      logicalBytes,
      storeBytes: after,
      storeBytesAdded: after - storeBytes,
    });
    storeBytes = after;
  };

  const { corpus } = ctx;
  try {
    await warmPageCache(corpus.root, [...corpus.digest.keys()]);
    await measure('init', null, () => tool.init());
    await measure('backup-initial', corpus.totalBytes, () => tool.backup(corpus.root, 'initial'));
    await measure('backup-unchanged', corpus.totalBytes, () => tool.backup(corpus.root, 'unchanged'));
    const mod = await modifyCorpus(corpus);
    result.modifiedFiles = mod.fileCount;
    result.modifiedBytes = mod.bytesChanged;
    try {
      await measure('backup-modified', corpus.totalBytes, () => tool.backup(corpus.root, 'modified'));
      result.describe = await tool.describe?.().catch((err: unknown) => ({ error: String(err) }));
      const target = join(dir, 'restore');
      await mkdir(target);
      await measure('restore', corpus.totalBytes, () => tool.restore(target));
      try {
        result.restoredFilesVerified = await verifyRestore(target, corpus, mod);
      } catch (err) {
        throw new StepFailed(name, 'restore', err);
      }
      if (!ctx.keep) await rm(target, { recursive: true, force: true });
      await measure('check', corpus.totalBytes, () => tool.check());
      // the first two snapshots go: prune frees what only they held (the 5% replaced)
      await measure('forget-prune', null, () => tool.forgetAndPrune(1));
    } finally {
      await mod.undo();
    }
  } catch (err) {
    if (!(err instanceof StepFailed)) throw err; // the harness itself failed: stop everything
    result.error = err.message;
    return result;
  }
  if (!ctx.keep) await rm(dir, { recursive: true, force: true });
  return result;
}
