import {
  MAX_LISTED_CHARS,
  MAX_LISTED_ERRORS,
  RestoreCounts,
} from '../../../../../layers/control/tasks/restore/restore-counts.js';

const run = (errors: { path: string; message: string }[], files = 0) => ({
  files,
  dirs: 1,
  symlinks: 1,
  bytes: 10,
  skipped: 0,
  errors,
});
const errors = (n: number, size = 10) =>
  Array.from({ length: n }, (_, i) => ({ path: `/p/${i}`, message: 'x'.repeat(size) }));

test('runs add up across slices; errors are all counted and listed up to a bound', () => {
  const counts = new RestoreCounts();
  counts.add(run(errors(60), 3));
  // carried through a checkpoint (JSON) to the next slice
  const next = new RestoreCounts(JSON.parse(JSON.stringify(counts.data())));
  next.add(run(errors(60), 2));
  expect(next.data()).toMatchObject({ files: 7, directories: 2, bytes: 20, errorCount: 120 });
  expect(next.data().errors).toHaveLength(MAX_LISTED_ERRORS);
});

test('long error lines are listed up to MAX_LISTED_CHARS', () => {
  const counts = new RestoreCounts();
  counts.add(run(errors(20, 10_000)));
  const listed = counts.data().errors;
  expect(listed.length).toBe(Math.floor(MAX_LISTED_CHARS / 10_005));
  expect(counts.data().errorCount).toBe(20);
});
