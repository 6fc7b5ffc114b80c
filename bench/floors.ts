import { mkdir, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import type { Corpus } from './corpus.js';
import type { Measurement, Meter } from './meter.js';
import { flushDirtyPages, warmPageCache } from './page-cache.js';

/**
 * What this machine allows at best, measured in the same run as the tools: `tar` reading the
 * corpus from the page cache into a pipe (no backup reads faster) and `cp -a` of the corpus
 * (no restore writes faster: same files, same bytes, no decryption). On a VM whose page cache
 * is expensive to grow, the copy floor alone can be most of every tool's restore time.
 */
export interface Floors {
  /** 1-minute load average when the run started: other work on the machine slows every tool. */
  readonly loadAverage: number;
  readonly read: Measurement;
  readonly copy: Measurement;
}

export async function measureFloors(corpus: Corpus, meter: Meter, workDir: string): Promise<Floors> {
  const loadAverage = loadavg()[0] ?? 0;
  await warmPageCache(corpus.root, [...corpus.digest.keys()]);
  // `tar -cf /dev/null` would skip reading the contents; a pipe makes it read every byte
  const read = await meter.run({
    command: 'sh',
    args: ['-c', 'tar -cf - -C "$1" . | wc -c', 'sh', corpus.root],
    env: process.env,
  });
  if (Number(read.stdout.trim()) < corpus.totalBytes)
    throw new Error(`tar read less than the corpus: ${read.stdout}`);

  const target = join(workDir, 'runs', 'floor-copy');
  await rm(target, { recursive: true, force: true });
  await mkdir(dirname(target), { recursive: true });
  flushDirtyPages();
  const copy = await meter.run({ command: 'cp', args: ['-a', corpus.root, target], env: process.env });
  await rm(target, { recursive: true, force: true });
  return { loadAverage, read: read.measurement, copy: copy.measurement };
}
