/**
 * A prune in steps (pruneStep, each with a deadline already past: one unit of work a step) ends
 * with the store one prune leaves, and the store is valid at every stop, also when the process
 * running the steps is killed and the run resumes from the last checkpoint it saved.
 */
import { createHash, randomBytes } from 'node:crypto';
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  type PruneCheckpoint,
  type PruneReport,
  type PruneScratch,
  type Store,
  mergePruneReports,
  openStore,
} from '../../../../layers/kloset/index.js';
import { loadMarkState, MARK_STATE_NAME, saveMarkState } from '../../../../layers/kloset/prune/mark-state.js';
import { spawnPruneSteps } from '../safety/child-process.js';
import {
  PASSPHRASE,
  listFiles,
  newStore,
  removeTempDirs,
  tempDir,
  treeDigest,
  writeTree,
} from '../fixtures.js';

afterAll(removeTempDirs);

/** Backups with changes, each followed by forget --keep-last 2: packs to plan, delete and rewrite. */
async function historyStore() {
  const { store, location } = await newStore({ packSize: 64 * 1024 });
  const src = join(await tempDir(), 'src');
  await writeTree(src, { shared: randomBytes(100_000) });
  const round = async (i: number) => {
    await writeTree(src, { [`round-${i}.bin`]: randomBytes(150_000) });
    await store.backup([src]);
    await store.forget({ policy: { last: 2 } });
  };
  for (let i = 0; i < 4; i++) await round(i);
  return { store, location, src, round };
}

/** A scratch place in a directory, as the control plane's is a prefix of its staging bucket. */
function dirScratch(dir: string): PruneScratch {
  return {
    save: (name, bytes) => writeFile(join(dir, name), bytes),
    load: (name) => readFile(join(dir, name)).catch(() => undefined),
    remove: (name) => rm(join(dir, name), { force: true }),
  };
}

interface SteppedRun {
  report: PruneReport;
  steps: number;
  /** trees read by each step */
  trees: number[];
}

/** Steps until done, the checkpoint through JSON as a task's item keeps it; checks the store at each stop. */
async function pruneInSteps(
  store: Store,
  graceMs: number,
  scratch?: PruneScratch,
  from?: PruneCheckpoint,
  deadline = () => Date.now(),
): Promise<SteppedRun> {
  let checkpoint = from;
  let report: PruneReport | undefined;
  const trees: number[] = [];
  for (let steps = 1; steps < 1000; steps++) {
    trees.push(0);
    const step = await store.pruneStep({
      graceMs,
      deadline: deadline(),
      ...(checkpoint && { checkpoint }),
      ...(scratch && { scratch }),
      onProgress: (p) => p.phase === 'walk' && trees[trees.length - 1]!++,
    });
    report = report ? mergePruneReports(report, step.report) : step.report;
    expect((await store.check()).problems).toEqual([]);
    if (step.done) return { report, steps, trees };
    expect(JSON.stringify(step.checkpoint).length).toBeLessThan(200);
    checkpoint = JSON.parse(JSON.stringify(step.checkpoint)) as PruneCheckpoint;
  }
  throw new Error('the prune did not end');
}

/** Trees a whole mark of the store reads. */
async function treesOfWholeMark(store: Store): Promise<number> {
  let trees = 0;
  await store.prune({ dryRun: true, onProgress: (p) => p.phase === 'walk' && trees++ });
  return trees;
}

const names = (packs: readonly { name: string }[]) => packs.map((p) => p.name).sort();

test.each([
  ['marks afresh at every step', false],
  ['cuts its mark at every tree and continues it from its scratch place', true],
])(
  'two runs in steps of one unit each (%s) leave the store two prunes leave: same packs gone, same snapshots, whole',
  async (_, withScratch) => {
    const { location, src } = await historyStore();
    const copy = await tempDir();
    await cp(location, copy, { recursive: true });
    const original = new Set(await listFiles(join(location, 'packs')));
    const oneShot = await openStore(location, { passphrase: PASSPHRASE });
    const stepped = await openStore(copy, { passphrase: PASSPHRASE });
    const scratchDir = await tempDir();
    const scratch = withScratch ? dirScratch(scratchDir) : undefined;

    for (const run of [1, 2]) {
      const wholeMark = await treesOfWholeMark(stepped);
      const whole = await oneShot.prune({ graceMs: 0 });
      const { report, steps, trees } = await pruneInSteps(stepped, 0, scratch);
      // one unit a step: planning, each repack unit, consolidating, each pack deleted
      const units =
        Number(report.planned.length > 0) +
        Number(report.repacked.length > 0) +
        Number(report.deltasReplaced > 0) +
        report.deleted.length;
      expect(steps).toBeGreaterThanOrEqual(Math.max(units, 2));
      if (withScratch) {
        // the mark took several steps, none read all the trees, and steps after it read none
        expect(trees.filter((n) => n > 0).length).toBeGreaterThan(2);
        expect(Math.max(...trees)).toBeLessThan(wholeMark);
        expect(trees.filter((n) => n === 0).length).toBeGreaterThan(0);
        expect(await readdir(scratchDir)).toEqual([]);
      } else expect(trees).toEqual(trees.map(() => wholeMark));
      expect(names(report.planned)).toEqual(names(whole.planned));
      expect(names(report.repacked)).toEqual(names(whole.repacked));
      expect(names(report.deleted)).toEqual(names(whole.deleted));
      expect(report.freedBytes).toBe(whole.freedBytes);
      if (run === 2) expect(report.deleted.length).toBeGreaterThan(0);
    }
    const left = async (dir: string) =>
      (await listFiles(join(dir, 'packs'))).filter((name) => original.has(name)).sort();
    expect(await left(copy)).toEqual(await left(location));
    expect((await left(copy)).length).toBeLessThan(original.size);

    const [a, b] = [
      await openStore(location, { passphrase: PASSPHRASE }),
      await openStore(copy, { passphrase: PASSPHRASE }),
    ];
    expect((await b.snapshots()).map((s) => s.id)).toEqual((await a.snapshots()).map((s) => s.id));
    expect(await b.snapshots()).toHaveLength(2);
    expect((await b.check({ readData: true })).problems).toEqual([]);
    for (const s of await b.snapshots()) {
      const [toA, toB] = [await tempDir(), await tempDir()];
      await a.restore(s.id, undefined, { to: toA });
      expect((await b.restore(s.id, undefined, { to: toB })).errors).toEqual([]);
      expect(await treeDigest(toB)).toEqual(await treeDigest(toA));
    }
    const to = await tempDir();
    await b.restore('latest', undefined, { to });
    expect(await treeDigest(join(to, src))).toEqual(await treeDigest(src));
  },
);

test('a dry run with snapshots assumed removed reports what forgetting them and pruning would plan', async () => {
  const { store } = await historyStore();
  await store.prune({ graceMs: 0 });
  const [older] = (await store.snapshots()).map((s) => s.id);
  const dry = await store.prune({ dryRun: true, graceMs: 0, repackThreshold: 1, assumeRemoved: [older!] });
  await store.rm({ refs: [older!] });
  const real = await store.prune({ dryRun: true, graceMs: 0, repackThreshold: 1 });
  expect(real.planned.length).toBeGreaterThan(0);
  expect(names(dry.planned)).toEqual(names(real.planned));
});

const KILLS = 3;

test(`a prune in steps SIGKILLed at ${KILLS} seeded moments leaves a valid store; resumed from its last checkpoint, it finishes`, async () => {
  const { location, src, round } = await historyStore();
  const checkpointFile = join(await tempDir(), 'checkpoint.json');
  const t0 = Date.now();
  expect((await spawnPruneSteps(location, checkpointFile).done).code).toBe(0);
  const span = Date.now() - t0;

  const delays = fc.sample(fc.integer({ min: 0, max: span }), { seed: 17, numRuns: KILLS });
  for (const [i, delay] of delays.entries()) {
    await round(10 + i);
    const run = spawnPruneSteps(location, checkpointFile);
    const timer = setTimeout(() => run.child.kill('SIGKILL'), delay);
    const result = await run.done;
    clearTimeout(timer);
    expect(result.code === 0 || result.code === null).toBe(true);
    const reopened = await openStore(location, { passphrase: PASSPHRASE });
    expect((await reopened.check({ readData: true })).problems).toEqual([]);
    expect(await reopened.snapshots()).toHaveLength(2);
  }
  // the last run resumes where the killed one saved its checkpoint
  expect((await spawnPruneSteps(location, checkpointFile).done).code).toBe(0);
  const reopened = await openStore(location, { passphrase: PASSPHRASE });
  expect((await reopened.check({ readData: true })).problems).toEqual([]);
  const to = await tempDir();
  await reopened.restore('latest', undefined, { to });
  expect(await treeDigest(join(to, src))).toEqual(await treeDigest(src));
});

test.each([
  ['another state of the same run', 'older'],
  ['a state sealed for another run, marking everything', 'other-run'],
  ['a state altered after it was sealed', 'altered'],
])(
  'a mark state that is not the one the checkpoint names is not trusted (%s): the mark starts afresh',
  async (_, tamper) => {
    const { location } = await historyStore();
    const copy = await tempDir();
    await cp(location, copy, { recursive: true });
    const whole = await (await openStore(location, { passphrase: PASSPHRASE })).prune({ graceMs: 0 });
    const stepped = await openStore(copy, { passphrase: PASSPHRASE });
    const wholeMark = await treesOfWholeMark(stepped);
    const dir = await tempDir();
    const scratch = dirScratch(dir);
    const state = join(dir, MARK_STATE_NAME);
    const digest = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

    const first = await stepped.pruneStep({ graceMs: 0, deadline: 0, scratch });
    if (first.done) throw new Error('the mark was not cut');
    let checkpoint = first.checkpoint;
    expect(checkpoint.mark).toBe(digest(await readFile(state)));
    if (tamper === 'older') {
      const older = await readFile(state);
      const second = await stepped.pruneStep({ graceMs: 0, deadline: 0, scratch, checkpoint });
      if (second.done) throw new Error('the mark was not cut');
      checkpoint = second.checkpoint;
      await writeFile(state, older);
    } else if (tamper === 'other-run') {
      const genuine = await loadMarkState(stepped.repo, scratch, checkpoint.startedAt, checkpoint.mark!);
      const everything = new Uint8Array(genuine!.live.length).fill(0xff);
      const forged = { covered: genuine!.covered, live: everything };
      checkpoint = {
        ...checkpoint,
        mark: await saveMarkState(stepped.repo, scratch, checkpoint.startedAt + 1, forged),
      };
    } else {
      const bytes = await readFile(state);
      bytes[bytes.length >> 1]! ^= 1;
      await writeFile(state, bytes);
      checkpoint = { ...checkpoint, mark: digest(bytes) };
    }
    const rest = await pruneInSteps(stepped, 0, scratch, checkpoint, () => Number.POSITIVE_INFINITY);
    expect(rest.trees[0]).toBe(wholeMark);
    expect(names(rest.report.planned)).toEqual(names(whole.planned));
    expect(names(rest.report.repacked)).toEqual(names(whole.repacked));
    expect((await stepped.check({ readData: true })).problems).toEqual([]);
  },
);

test('a step consolidates only once its mark state is gone: one killed inside the consolidation leaves none to resume', async () => {
  const { location } = await historyStore();
  const store = await openStore(location, { passphrase: PASSPHRASE });
  const dir = await tempDir();
  const scratch = dirScratch(dir);
  const state = join(dir, MARK_STATE_NAME);
  // whether the mark state was there at each index delta the step wrote
  let stateAtIndexPuts: boolean[] = [];
  const backend = store.repo.backend;
  const put = backend.put.bind(backend);
  backend.put = async (kind, name, parts, opts) => {
    if (kind === 'index')
      stateAtIndexPuts.push(
        await readFile(state).then(
          () => true,
          () => false,
        ),
      );
    return put(kind, name, parts, opts);
  };
  let checkpoint: PruneCheckpoint | undefined;
  let consolidations = 0;
  for (let steps = 0; steps < 1000; steps++) {
    stateAtIndexPuts = [];
    const step = await store.pruneStep({
      graceMs: 0,
      deadline: 0,
      scratch,
      ...(checkpoint && { checkpoint }),
    });
    if (step.report.deltasReplaced > 0) {
      consolidations++;
      // one unit a step: the deltas this step wrote are the consolidation's
      expect(stateAtIndexPuts.length).toBeGreaterThan(0);
      expect(stateAtIndexPuts.every((there) => !there)).toBe(true);
    }
    if (step.done) break;
    checkpoint = step.checkpoint;
  }
  expect(consolidations).toBeGreaterThan(0);
  expect((await store.check({ readData: true })).problems).toEqual([]);
});
