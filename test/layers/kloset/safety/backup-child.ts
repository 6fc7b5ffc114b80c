/**
 * A backup in its own process, for the kill and concurrency tests:
 *   node BUNDLE STORE SOURCE... (passphrase in KLOUD_TEST_PASSPHRASE; child-process.ts bundles
 *   this file; `node --import tsx backup-child.ts ...` runs it as well)
 * Prints the snapshot ID when done.
 */
import { openStore } from '../../../../layers/kloset/index.js';

const [location, ...sources] = process.argv.slice(2);
const store = await openStore(location!, { passphrase: process.env.KLOUD_TEST_PASSPHRASE });
const result = await store.backup(sources);
process.stdout.write(`${result.snapshot!.id}\n`);
