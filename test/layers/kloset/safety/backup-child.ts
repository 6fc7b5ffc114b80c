/**
 * A backup in its own process, for the kill and concurrency tests:
 *   node --import tsx backup-child.ts STORE SOURCE... (passphrase in KLOUD_TEST_PASSPHRASE)
 * Prints the snapshot ID when done.
 */
import { openStore } from '../../../../layers/kloset/index.js';

const [location, ...sources] = process.argv.slice(2);
const store = await openStore(location!, { passphrase: process.env.KLOUD_TEST_PASSPHRASE });
const result = await store.backup(sources);
process.stdout.write(`${result.snapshot!.id}\n`);
