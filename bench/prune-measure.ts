/**
 * prune's figures for docs/PERFORMANCE.md, on a local store in a temp dir:
 *   node --import tsx bench/prune-measure.ts open BACKUPS [writer]  open time after BACKUPS small backups, before and
 *     after prune; `writer` writes them as a backup would without its fixed cost per run (writeSmallBackups)
 *   node --import tsx bench/prune-measure.ts rss FILES [BUDGET_MIB]  peak RSS of prune (its own process) on a store of
 *     FILES files, the store opened within an index memory budget of BUDGET_MIB when given
 *   node --import tsx bench/prune-measure.ts synthetic BLOBS [BUDGET_MIB]  the same on a synthetic store of BLOBS
 *     data blobs (bench/synthetic-prune-store.ts), half of them in a removed snapshot
 *   node --import tsx bench/prune-measure.ts synthetic-store BLOBS DIR  writes that synthetic store at DIR and keeps it
 *   node --import tsx bench/prune-measure.ts prune-store DIR [BUDGET_MIB]  the two prune runs on a hard-linked copy of
 *     the store at DIR (the store is left as it was: a store is written once, measured many times)
 *   node --import tsx bench/prune-measure.ts prune-steps DIR STEP_S [BUDGET_MIB]  the first run on such a copy in steps
 *     of STEP_S seconds with a scratch place on local disk, as the maintenance task's slices run it: the mark too is cut
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PruneCheckpoint, type PruneScratch, createStore, openStore } from '../layers/kloset/index.js';
import { writeSmallBackups, writeSyntheticStore } from './synthetic-prune-store.js';

const PASSPHRASE = 'bench';
const KDF = { algorithm: 'scrypt', N: 1024, r: 8, p: 1 } as const;

async function openMs(location: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const store = await openStore(location, { passphrase: PASSPHRASE });
    times.push(performance.now() - t0);
    await store.repo.close();
  }
  return times.sort((a, b) => a - b)[1]!;
}

async function measureOpen(root: string, backups: number, how: string | undefined): Promise<void> {
  const location = join(root, 'store');
  const src = join(root, 'src');
  await mkdir(src);
  await createStore(location, { passphrase: PASSPHRASE, kdf: KDF });
  const store = await openStore(location, { passphrase: PASSPHRASE });
  const t0 = performance.now();
  if (how === 'writer') await writeSmallBackups(store.repo, backups);
  else
    for (let i = 0; i < backups; i++) {
      await writeFile(join(src, `f${i % 20}`), randomBytes(2000));
      await store.backup([src]);
    }
  const backupS = (performance.now() - t0) / 1000;
  const before = await openMs(location);
  const t1 = performance.now();
  const report = await store.prune({ graceMs: 0 });
  const pruneMs = performance.now() - t1;
  const after = await openMs(location);
  console.log(
    `${backups} backups (${backupS.toFixed(0)} s): open ${before.toFixed(0)} ms with ${backups} deltas; ` +
      `prune ${pruneMs.toFixed(0)} ms (${report.deltasReplaced} deltas into one); open ${after.toFixed(0)} ms after`,
  );
}

async function measureRss(root: string, files: number, budgetMiB: string | undefined): Promise<void> {
  const location = join(root, 'store');
  const src = join(root, 'src');
  for (let d = 0; d < files / 1000; d++) {
    await mkdir(join(src, `d${d}`), { recursive: true });
    for (let f = 0; f < 1000; f++)
      await writeFile(join(src, `d${d}`, `f${f}`), randomBytes(1024 + ((d * f) % 3072)));
  }
  await createStore(location, { passphrase: PASSPHRASE, kdf: KDF });
  const store = await openStore(location, { passphrase: PASSPHRASE });
  await store.backup([src]);
  // half the content changes, and the first snapshot goes: half the data blobs become garbage
  for (let d = 0; d < files / 2000; d++) await rm(join(src, `d${d}`), { recursive: true });
  await store.backup([src]);
  await store.forget({ policy: { last: 1 } });
  const info = await store.info();
  await store.repo.close();
  console.log(
    `${files} files, ${info.blobs.data} data blobs, ${(info.storedBytes / 2 ** 20).toFixed(0)} MiB stored:`,
  );
  runPruneChild(location, budgetMiB, 'files');
}

/** Writes a synthetic store of `blobs` data blobs at `location`; the seconds it took. */
async function createSynthetic(location: string, blobs: number): Promise<number> {
  await createStore(location, { passphrase: PASSPHRASE, kdf: KDF });
  const store = await openStore(location, { passphrase: PASSPHRASE });
  const t0 = performance.now();
  await writeSyntheticStore(store.repo, blobs);
  await store.repo.close();
  return (performance.now() - t0) / 1000;
}

async function measureSynthetic(root: string, blobs: number, budgetMiB: string | undefined): Promise<void> {
  const location = join(root, 'store');
  const writeS = await createSynthetic(location, blobs);
  console.log(`synthetic store of ${blobs} data blobs (written in ${writeS.toFixed(0)} s):`);
  runPruneChild(location, budgetMiB, 'synthetic');
}

/** Prunes a copy of the store at `location`, its files hard-linked: stores never rewrite a file in place. */
async function measureStore(root: string, location: string, budgetMiB: string | undefined): Promise<void> {
  const copy = join(root, 'store');
  const linked = spawnSync('cp', ['-al', location, copy], { encoding: 'utf8' });
  if (linked.status !== 0) throw new Error(`cp -al ${location}: ${linked.stderr}`);
  console.log(`${location}:`);
  runPruneChild(copy, budgetMiB, 'synthetic');
}

/**
 * One prune run on a hard-linked copy of the store at `location`, in steps of `stepS` seconds:
 * the steps, how many marked only, the mark state's size, the time and peak RSS.
 */
async function measureSteps(root: string, location: string, stepS: number, budgetMiB: string | undefined) {
  const copy = join(root, 'store');
  const linked = spawnSync('cp', ['-al', location, copy], { encoding: 'utf8' });
  if (linked.status !== 0) throw new Error(`cp -al ${location}: ${linked.stderr}`);
  const places = join(root, 'scratch');
  await mkdir(places);
  const scratch: PruneScratch = {
    save: (name, bytes) => writeFile(join(places, name), bytes),
    load: (name) => readFile(join(places, name)).catch(() => undefined),
    remove: (name) => rm(join(places, name), { force: true }),
  };
  const budget = budgetMiB
    ? { cacheDir: `${copy}-cache`, indexMemoryBudget: Number(budgetMiB) * 2 ** 20 }
    : {};
  const t0 = performance.now();
  const store = await openStore(copy, { passphrase: PASSPHRASE, ...budget });
  let checkpoint: PruneCheckpoint | undefined;
  let markSteps = 0;
  let stateBytes = 0;
  let planned = 0;
  for (let steps = 1; ; steps++) {
    const step = await store.pruneStep({
      graceMs: 0,
      repackThreshold: 1,
      deadline: Date.now() + stepS * 1000,
      scratch,
      ...(checkpoint && { checkpoint }),
    });
    planned += step.report.planned.length;
    if (step.done) {
      console.log(
        `${location}, steps of ${stepS} s: ${steps} steps (${markSteps} marking only; mark state ${(stateBytes / 2 ** 20).toFixed(2)} MiB), ${planned} packs planned, ${((performance.now() - t0) / 1000).toFixed(0)} s with the open, peak RSS ${peakMiB().toFixed(0)} MiB`,
      );
      return;
    }
    if (step.report.planned.length === 0 && step.report.deltasReplaced === 0) markSteps++;
    if (step.checkpoint.mark) stateBytes = (await stat(join(places, 'prune-mark'))).size;
    checkpoint = step.checkpoint;
  }
}

/**
 * Two prune runs in a process of their own, so that its peak RSS is prune's alone; it prints
 * each step's figures as it goes (a long run shows how far it got).
 */
function runPruneChild(location: string, budgetMiB: string | undefined, kind: 'files' | 'synthetic'): void {
  spawnSync(
    process.execPath,
    ['--import', 'tsx', new URL(import.meta.url).pathname, 'prune-child', location, budgetMiB ?? '', kind],
    { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } },
  );
}

const peakMiB = () => process.resourceUsage().maxRSS / 1024;

/**
 * Where memory peaks: every 50 ms (when the event loop is free), the largest RSS, JS heap and
 * Buffer memory seen in each phase (open, each run's walk, repack, delete and what is between).
 */
function memorySampler(): { phase: string; report(): string; stop(): void } {
  const peaks = new Map<string, { rss: number; heap: number; buffers: number }>();
  const state = {
    phase: 'open',
    report: () =>
      [...peaks]
        .map(
          ([phase, m]) =>
            `${phase}: rss ${(m.rss / 2 ** 20).toFixed(0)}, heap ${(m.heap / 2 ** 20).toFixed(0)}, buffers ${(m.buffers / 2 ** 20).toFixed(0)} MiB`,
        )
        .join('; '),
    stop: () => clearInterval(timer),
  };
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    const p = peaks.get(state.phase) ?? { rss: 0, heap: 0, buffers: 0 };
    peaks.set(state.phase, {
      rss: Math.max(p.rss, m.rss),
      heap: Math.max(p.heap, m.heapUsed),
      buffers: Math.max(p.buffers, m.arrayBuffers),
    });
  }, 50);
  return state;
}

async function pruneChild(location: string, budgetMiB: string, synthetic: boolean): Promise<void> {
  const budget = budgetMiB
    ? { cacheDir: `${location}-cache`, indexMemoryBudget: Number(budgetMiB) * 2 ** 20 }
    : {};
  const sampler = memorySampler();
  const t0 = performance.now();
  const store = await openStore(location, { passphrase: PASSPHRASE, ...budget });
  const sinceStart = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
  console.log(`opened in ${sinceStart()}, peak RSS ${peakMiB().toFixed(0)} MiB`);
  // a synthetic store's packs are empty: nothing there can be rewritten
  const opts = (run: string) => ({
    graceMs: 0,
    ...(synthetic && { repackThreshold: 1 }),
    onProgress: (p: { phase: string }) => (sampler.phase = `${run} ${p.phase}`),
  });
  sampler.phase = 'plan run';
  const first = await store.prune(opts('plan run'));
  console.log(
    `first prune run (plans ${first.planned.length} packs, ${first.deltasReplaced} deltas consolidated) done at ${sinceStart()}, peak RSS ${peakMiB().toFixed(0)} MiB`,
  );
  sampler.phase = 'delete run';
  const second = await store.prune(opts('delete run'));
  sampler.stop();
  console.log(
    `second prune run (${second.deleted.length} packs deleted, ${(second.freedBytes / 2 ** 20).toFixed(0)} MiB, ${first.repacked.length} rewritten by the first) done at ${sinceStart()}, peak RSS ${peakMiB().toFixed(0)} MiB`,
  );
  if (process.env.PRUNE_MEASURE_PHASES) console.log(`peaks by phase (MiB): ${sampler.report()}`);
}

const [mode, arg, budgetMiB, parentMode] = process.argv.slice(2);
if (mode === 'prune-child') await pruneChild(arg!, budgetMiB ?? '', parentMode === 'synthetic');
else {
  const root = await mkdtemp(join(tmpdir(), 'kloud-prune-bench-'));
  try {
    if (mode === 'open') await measureOpen(root, Number(arg ?? 300), budgetMiB);
    else if (mode === 'rss') await measureRss(root, Number(arg ?? 50_000), budgetMiB);
    else if (mode === 'synthetic') await measureSynthetic(root, Number(arg ?? 1_000_000), budgetMiB);
    else if (mode === 'synthetic-store') {
      const writeS = await createSynthetic(budgetMiB!, Number(arg));
      console.log(`synthetic store of ${arg} data blobs at ${budgetMiB} (written in ${writeS.toFixed(0)} s)`);
    } else if (mode === 'prune-store') await measureStore(root, arg!, budgetMiB);
    else if (mode === 'prune-steps') await measureSteps(root, arg!, Number(budgetMiB), parentMode);
    else
      throw new Error(
        'usage: prune-measure.ts open BACKUPS [writer] | rss FILES [BUDGET_MIB] | synthetic BLOBS [BUDGET_MIB] | synthetic-store BLOBS DIR | prune-store DIR [BUDGET_MIB] | prune-steps DIR STEP_S [BUDGET_MIB]',
      );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
