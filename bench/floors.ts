import { mkdir, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Corpus } from './corpus.js';
import type { Measurement, Meter } from './meter.js';
import { flushDirtyPages, warmPageCache } from './page-cache.js';

/**
 * What this machine allows at best, measured in the same run as the tools: reading the corpus
 * from the page cache (no backup reads faster) and `cp -a` of the corpus (no restore writes
 * faster: same files, same bytes, no decryption). On a VM whose page cache is expensive to
 * grow, the copy floor alone can be most of every tool's restore time.
 */
export interface Floors {
  /** 1-minute load average when the run started: other work on the machine slows every tool. */
  readonly loadAverage: number;
  /** The harness reading every file, 4 at a time, warm cache. */
  readonly readSeconds: number;
  readonly copy: Measurement;
}

export async function measureFloors(corpus: Corpus, meter: Meter, workDir: string): Promise<Floors> {
  const loadAverage = loadavg()[0] ?? 0;
  const files = [...corpus.digest.keys()];
  await warmPageCache(corpus.root, files);
  const started = performance.now();
  await warmPageCache(corpus.root, files);
  const readSeconds = (performance.now() - started) / 1000;

  const target = join(workDir, 'runs', 'floor-copy');
  await rm(target, { recursive: true, force: true });
  await mkdir(dirname(target), { recursive: true });
  flushDirtyPages();
  const { measurement } = await meter.run({
    command: 'cp',
    args: ['-a', corpus.root, target],
    env: process.env,
  });
  await rm(target, { recursive: true, force: true });
  return { loadAverage, readSeconds, copy: measurement };
}
