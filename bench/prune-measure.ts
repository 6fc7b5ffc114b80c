/**
 * prune's figures for docs/PERFORMANCE.md, on a local store in a temp dir:
 *   node --import tsx bench/prune-measure.ts open BACKUPS   open time after BACKUPS small backups, before and after prune
 *   node --import tsx bench/prune-measure.ts rss FILES [BUDGET_MIB]  peak RSS of prune (its own process) on a store of
 *     FILES files, the store opened within an index memory budget of BUDGET_MIB when given
 *   node --import tsx bench/prune-measure.ts synthetic BLOBS [BUDGET_MIB]  the same on a synthetic store of BLOBS
 *     data blobs (bench/synthetic-prune-store.ts), half of them in a removed snapshot
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStore, openStore } from '../layers/kloset/index.js';
import { writeSyntheticStore } from './synthetic-prune-store.js';

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

async function measureOpen(root: string, backups: number): Promise<void> {
  const location = join(root, 'store');
  const src = join(root, 'src');
  await mkdir(src);
  await createStore(location, { passphrase: PASSPHRASE, kdf: KDF });
  const store = await openStore(location, { passphrase: PASSPHRASE });
  const t0 = performance.now();
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
  const child = runPruneChild(location, budgetMiB);
  console.log(
    `${files} files, ${info.blobs.data} data blobs, ${(info.storedBytes / 2 ** 20).toFixed(0)} MiB stored: ${child}`,
  );
}

async function measureSynthetic(root: string, blobs: number, budgetMiB: string | undefined): Promise<void> {
  const location = join(root, 'store');
  await createStore(location, { passphrase: PASSPHRASE, kdf: KDF });
  const store = await openStore(location, { passphrase: PASSPHRASE });
  const t0 = performance.now();
  await writeSyntheticStore(store.repo, blobs);
  const writeS = (performance.now() - t0) / 1000;
  await store.repo.close();
  console.log(
    `synthetic store of ${blobs} data blobs (written in ${writeS.toFixed(0)} s): ${runPruneChild(location, budgetMiB)}`,
  );
}

/** Two prune runs in a process of their own, so that its peak RSS is prune's alone. */
function runPruneChild(location: string, budgetMiB: string | undefined): string {
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', new URL(import.meta.url).pathname, 'prune-child', location, budgetMiB ?? '', mode!],
    { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' }, maxBuffer: 2 ** 24 },
  );
  return `${child.stdout.trim()}${child.stderr}`;
}

async function pruneChild(location: string, budgetMiB: string, synthetic: boolean): Promise<void> {
  const budget = budgetMiB
    ? { cacheDir: `${location}-cache`, indexMemoryBudget: Number(budgetMiB) * 2 ** 20 }
    : {};
  const store = await openStore(location, { passphrase: PASSPHRASE, ...budget });
  const t0 = performance.now();
  // a synthetic store's packs are empty: nothing there can be rewritten
  const opts = { graceMs: 0, ...(synthetic && { repackThreshold: 1 }) };
  const first = await store.prune(opts);
  const second = await store.prune(opts);
  const ms = performance.now() - t0;
  const peak = process.resourceUsage().maxRSS / 1024;
  console.log(
    `two prune runs ${ms.toFixed(0)} ms, ${second.deleted.length} packs deleted (${first.repacked.length} rewritten) (${(second.freedBytes / 2 ** 20).toFixed(0)} MiB), peak RSS ${peak.toFixed(0)} MiB`,
  );
}

const [mode, arg, budgetMiB, parentMode] = process.argv.slice(2);
if (mode === 'prune-child') await pruneChild(arg!, budgetMiB ?? '', parentMode === 'synthetic');
else {
  const root = await mkdtemp(join(tmpdir(), 'kloud-prune-bench-'));
  try {
    if (mode === 'open') await measureOpen(root, Number(arg ?? 300));
    else if (mode === 'rss') await measureRss(root, Number(arg ?? 50_000), budgetMiB);
    else if (mode === 'synthetic') await measureSynthetic(root, Number(arg ?? 1_000_000), budgetMiB);
    else
      throw new Error(
        'usage: prune-measure.ts open BACKUPS | rss FILES [BUDGET_MIB] | synthetic BLOBS [BUDGET_MIB]',
      );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
