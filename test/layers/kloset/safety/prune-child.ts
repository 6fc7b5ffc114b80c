/**
 * A prune in its own process, for the kill test:
 *   node BUNDLE STORE (passphrase in KLOUD_TEST_PASSPHRASE; grace 0; child-process.ts bundles this
 *   file; `node --import tsx prune-child.ts STORE` runs it as well)
 */
import { openStore } from '../../../../layers/kloset/index.js';

const store = await openStore(process.argv[2]!, { passphrase: process.env.KLOUD_TEST_PASSPHRASE });
await store.prune({ graceMs: 0 });
