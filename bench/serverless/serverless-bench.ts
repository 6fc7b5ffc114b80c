/**
 * The serverless backup benchmark: a generated bucket on s3rver backed up into an S3 store the
 * way the backup state machine runs it (Plan, then batch workers at most N at once, then
 * Commit), every step in its own process; then backed up again after a seeded few percent of
 * the objects changed. Each store and each source is reached through its own request counter.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createStore } from '../../layers/kloset/index.js';
import { S3RVER_KEY, startS3rver } from '../../local/s3rver.js';
import { type MachineDescription, describeMachine } from '../machine.js';
import { type RequestCounts, RequestCounter } from '../request-counter.js';
import type { BatchOutput, StoreAccess } from './backup-steps.js';
import { readManifest } from './backup-steps.js';
import {
  type SourceBucketSpec,
  generateSourceBucket,
  modifySourceBucket,
  s3rverClient,
} from './source-bucket.js';
import { type StepAnswer, runStep } from './step-runner.js';

export const SOURCE_BUCKET = 'source';
export const SOURCE_PREFIX = 'data';
export const STORE_BUCKET = 'stores';
export const BENCH_PASSPHRASE = 'serverless bench passphrase';

export interface ServerlessBenchOptions {
  readonly objects: number;
  readonly seed: number;
  /** the worker counts, each backing up into its own store */
  readonly workers: readonly number[];
  /** share of the objects changed before the second run */
  readonly changePercent: number;
  readonly maxBatchBytes: number;
  readonly maxBatchEntries: number;
  /** the index memory budget of every step (the stack gives a quarter of the function's memory) */
  readonly indexMemoryBudget: number;
  /** s3rver's data, the manifests and the steps' scratch folders; emptied first, left after */
  readonly workDir: string;
}

/** What a step process used. */
export interface StepUsage {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly peakRssBytes: number;
}

export interface RunFigures {
  readonly round: 'first' | 'second';
  readonly workers: number;
  /** the store's prefix in the store bucket */
  readonly store: string;
  readonly snapshot: string;
  readonly batches: number;
  readonly wallSeconds: number;
  readonly plan: StepUsage;
  readonly commit: StepUsage;
  /** summed over the workers, except the peak RSS: the largest of them */
  readonly worker: StepUsage;
  readonly bytesRead: number;
  /** distinct source objects fetched (GET), and the GETs (a range is one) */
  readonly objectsRead: number;
  readonly sourceGets: number;
  readonly files: number;
  readonly bytes: number;
  readonly newBytes: number;
  readonly storedBytes: number;
  readonly sourceRequests: Record<string, number>;
  readonly storeRequests: Record<string, number>;
  /** the store's bytes PUT (packs, index deltas, partial trees, the snapshot) */
  readonly uploadedBytes: number;
}

export interface ServerlessBenchResult {
  readonly machine: MachineDescription;
  readonly options: ServerlessBenchOptions;
  readonly sourceObjects: number;
  readonly sourceBytes: number;
  /** keys changed before the second run */
  readonly changed: number;
  readonly runs: RunFigures[];
}

/** Counters for a step's connections: the source's and the store's, separately. */
interface Counters {
  readonly source: RequestCounter;
  readonly store: RequestCounter;
}

export function s3Place(endpoint: string, bucket: string, path: string): string {
  const query = new URLSearchParams({
    endpoint,
    force_path_style: 'true',
    access_key: S3RVER_KEY,
    secret_access_key: S3RVER_KEY,
    region: 'us-east-1',
  });
  return `s3://${bucket}/${path}?${query}`;
}

/** The keys of the source objects that were fetched, from the source counter's log. */
function objectsFetched(counts: RequestCounts): { keys: string[]; gets: number } {
  const below = `GET /${SOURCE_BUCKET}/${SOURCE_PREFIX}/`;
  const fetched = Object.entries(counts.byObject).filter(([object]) => object.startsWith(below));
  return {
    keys: fetched.map(([object]) => decodeURIComponent(object.slice(below.length))).sort(),
    gets: fetched.reduce((sum, [, n]) => sum + n, 0),
  };
}

function usageOf(answer: StepAnswer<unknown>): StepUsage {
  return { seconds: answer.seconds, cpuSeconds: answer.cpuSeconds, peakRssBytes: answer.peakRssBytes };
}

/**
 * Runs batches on at most `workers` processes at once. Each slot keeps its scratch folder from
 * one batch to the next, as a warm Lambda keeps /tmp: a slot's second batch reads only the
 * index deltas written since its first.
 */
async function runWorkers(
  runDir: string,
  workers: number,
  batches: readonly unknown[],
  start: (batch: unknown, cacheDir: string) => Promise<StepAnswer<BatchOutput>>,
): Promise<StepAnswer<BatchOutput>[]> {
  const answers = new Array<StepAnswer<BatchOutput>>(batches.length);
  let next = 0;
  const slot = async (n: number) => {
    const cacheDir = join(runDir, `worker-${n}`);
    await mkdir(cacheDir, { recursive: true });
    while (next < batches.length) {
      const i = next++;
      answers[i] = await start(batches[i], cacheDir);
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, batches.length) }, (_, n) => slot(n)));
  return answers;
}

/** One backup: Plan, the batches, Commit; its figures and the source keys it fetched. */
async function runBackup(
  counters: Counters,
  opts: ServerlessBenchOptions,
  round: RunFigures['round'],
  workers: number,
  places: readonly string[],
): Promise<{ figures: RunFigures; fetched: string[] }> {
  const storePrefix = `n${workers}`;
  const runDir = join(opts.workDir, `${storePrefix}-${round}`);
  await mkdir(runDir, { recursive: true });
  const access = (cacheDir: string): StoreAccess => ({
    location: s3Place(counters.store.endpoint, STORE_BUCKET, storePrefix),
    passphrase: BENCH_PASSPHRASE,
    cacheDir,
    indexMemoryBudget: opts.indexMemoryBudget,
  });
  counters.source.take();
  counters.store.take();
  const startedAt = Date.now();
  const started = performance.now();
  const manifest = join(runDir, 'manifest.jsonl');
  const plan = await runStep('plan', {
    store: access(join(runDir, 'plan')),
    places,
    maxBatchBytes: opts.maxBatchBytes,
    maxBatchEntries: opts.maxBatchEntries,
    manifest,
  });
  const batches = await readManifest(manifest);
  const answers = await runWorkers(runDir, workers, batches, (batch, cacheDir) =>
    runStep('batch', { store: access(cacheDir), places, batch }),
  );
  const commit = await runStep('commit', {
    store: access(join(runDir, 'commit')),
    sources: plan.output.sources,
    parent: plan.output.parent,
    partialTrees: answers.map((a) => a.output.partialTree),
    startedAt,
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const source = counters.source.take();
  const store = counters.store.take();
  const fetched = objectsFetched(source);
  const { summary } = commit.output;
  const figures: RunFigures = {
    round,
    workers,
    store: storePrefix,
    snapshot: commit.output.snapshot,
    batches: batches.length,
    wallSeconds,
    plan: usageOf(plan),
    commit: usageOf(commit),
    worker: {
      seconds: answers.reduce((sum, a) => sum + a.seconds, 0),
      cpuSeconds: answers.reduce((sum, a) => sum + a.cpuSeconds, 0),
      peakRssBytes: Math.max(0, ...answers.map((a) => a.peakRssBytes)),
    },
    bytesRead: answers.reduce((sum, a) => sum + a.output.bytesRead, 0),
    objectsRead: fetched.keys.length,
    sourceGets: fetched.gets,
    files: summary.files,
    bytes: summary.bytes,
    newBytes: summary.newBytes,
    storedBytes: summary.storedBytes,
    sourceRequests: source.byOperation,
    storeRequests: store.byOperation,
    uploadedBytes: store.uploadedBytes,
  };
  return { figures, fetched: fetched.keys };
}

/** Fails the benchmark unless the second run fetched exactly the changed objects. */
export function checkOnlyChangedRead(
  run: RunFigures,
  fetched: readonly string[],
  changed: readonly string[],
): void {
  const extra = fetched.filter((key) => !changed.includes(key));
  const missing = changed.filter((key) => !fetched.includes(key));
  if (extra.length > 0 || missing.length > 0)
    throw new Error(
      `the second run with ${run.workers} workers read ${extra.length} unchanged objects (${extra.slice(0, 5).join(', ')}) ` +
        `and missed ${missing.length} changed ones (${missing.slice(0, 5).join(', ')})`,
    );
}

export async function runServerlessBench(
  opts: ServerlessBenchOptions,
  log: (line: string) => void,
): Promise<ServerlessBenchResult> {
  await rm(opts.workDir, { recursive: true, force: true });
  await mkdir(opts.workDir, { recursive: true });
  const server = await startS3rver(join(opts.workDir, 's3rver'), [SOURCE_BUCKET, STORE_BUCKET]);
  const counters: Counters = {
    source: await RequestCounter.start(server.endpoint),
    store: await RequestCounter.start(server.endpoint),
  };
  const client = s3rverClient(server.endpoint);
  try {
    const spec: SourceBucketSpec = {
      bucket: SOURCE_BUCKET,
      prefix: SOURCE_PREFIX,
      objects: opts.objects,
      seed: opts.seed,
      maxBatchBytes: opts.maxBatchBytes,
    };
    log(`generating ${opts.objects} objects in s3://${SOURCE_BUCKET}/${SOURCE_PREFIX}`);
    let objects = await generateSourceBucket(client, spec);
    const sourceBytes = objects.reduce((sum, o) => sum + o.size, 0);
    const places = [s3Place(counters.source.endpoint, SOURCE_BUCKET, SOURCE_PREFIX)];
    const runs: RunFigures[] = [];
    for (const workers of opts.workers) {
      await createStore(s3Place(server.endpoint, STORE_BUCKET, `n${workers}`), {
        passphrase: BENCH_PASSPHRASE,
      });
      log(`first backup, ${workers} worker(s): ${(sourceBytes / 1e6).toFixed(0)} MB`);
      runs.push((await runBackup(counters, opts, 'first', workers, places)).figures);
    }
    const modified = await modifySourceBucket(client, spec, objects, opts.changePercent, 1);
    objects = modified.objects;
    for (const workers of opts.workers) {
      log(`second backup, ${workers} worker(s): ${modified.changed.length} objects changed`);
      const { figures, fetched } = await runBackup(counters, opts, 'second', workers, places);
      runs.push(figures);
      checkOnlyChangedRead(figures, fetched, modified.changed);
    }
    return {
      machine: describeMachine({}),
      options: opts,
      sourceObjects: objects.length,
      sourceBytes,
      changed: modified.changed.length,
      runs,
    };
  } finally {
    client.destroy();
    await counters.source.stop();
    await counters.store.stop();
    await server.stop();
  }
}
