/**
 * Backups in a process of their own, to measure their memory alone:
 *   node --import tsx memory-child.ts STORE SOURCE... (passphrase in KLOUD_TEST_PASSPHRASE)
 * Backs up each source in turn and prints the process's peak resident set size after each, in
 * bytes, as a JSON array.
 */
import { openStore } from '../../../../layers/kloset/index.js';

const [location, ...sources] = process.argv.slice(2);
const store = await openStore(location!, { passphrase: process.env.KLOUD_TEST_PASSPHRASE });
const peaks: number[] = [];
for (const source of sources) {
  await store.backup([source]);
  peaks.push(process.resourceUsage().maxRSS * 1024);
}
process.stdout.write(JSON.stringify(peaks));
