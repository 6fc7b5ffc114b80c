/**
 * Known-slow suites first, the rest in jest's own order (by the last run's durations when jest has
 * them cached, else by file size). A fresh clone has no such cache: there the long local-mode and
 * CLI suites, sorted by size, could start last and end the run alone on one worker.
 */
import Sequencer from '@jest/test-sequencer';

/** Slowest first, as a full run on main measured them (docs/PERFORMANCE.md); paths under test/. */
const SLOW_SUITES = [
  'local/backups.test.ts',
  'cli/store-commands.test.ts',
  'cli/damage.test.ts',
  'local/tasks.test.ts',
  'local/browse.test.ts',
  'cli/cold-storage.test.ts',
  'cli/sync.test.ts',
  'lib/function-bundles.test.ts',
  'layers/kloset/safety/kill.test.ts',
  'cli/s3.test.ts',
  'cli/snapshots.test.ts',
  'cli/failures.test.ts',
  'layers/kloset/roundtrip.test.ts',
  'layers/kloset/backup/s3-plan.test.ts',
  'cli/prune.test.ts',
  'cli/sftp.test.ts',
  'local/maintenance.test.ts',
  'bench/harness.test.ts',
  'cli/remote.test.ts',
  'cli/remote-tasks.test.ts',
  'local/control-plane.test.ts',
];

const rankOf = (path) => {
  const rank = SLOW_SUITES.findIndex((suite) => path.endsWith(`/test/${suite}`));
  return rank === -1 ? SLOW_SUITES.length : rank;
};

export default class SlowSuitesFirst extends Sequencer {
  sort(tests) {
    // Array.prototype.sort is stable: the rest keep jest's order
    return super.sort(tests).sort((a, b) => rankOf(a.path) - rankOf(b.path));
  }
}
