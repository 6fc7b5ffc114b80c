/**
 * A prune in its own process, for the kill tests:
 *   node BUNDLE STORE [CHECKPOINT_FILE] (passphrase in KLOUD_TEST_PASSPHRASE; grace 0; child-process.ts
 *   bundles this file; `node --import tsx prune-child.ts ...` runs it as well)
 * With CHECKPOINT_FILE, in steps of one unit each: it resumes from the checkpoint the file holds
 * and saves each step's (write and rename, so a kill leaves the last one whole); removed when done.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { type PruneCheckpoint, openStore } from '../../../../layers/kloset/index.js';

const [location, checkpointFile] = process.argv.slice(2);
const store = await openStore(location!, { passphrase: process.env.KLOUD_TEST_PASSPHRASE });
if (checkpointFile === undefined) {
  await store.prune({ graceMs: 0 });
} else {
  const saved = await readFile(checkpointFile, 'utf8').catch(() => undefined);
  let checkpoint = saved === undefined ? undefined : (JSON.parse(saved) as PruneCheckpoint);
  for (;;) {
    const step = await store.pruneStep({
      graceMs: 0,
      deadline: Date.now(),
      ...(checkpoint && { checkpoint }),
    });
    if (step.done) break;
    checkpoint = step.checkpoint;
    await writeFile(`${checkpointFile}.new`, JSON.stringify(checkpoint));
    await rename(`${checkpointFile}.new`, checkpointFile);
  }
  await rm(checkpointFile, { force: true });
}
