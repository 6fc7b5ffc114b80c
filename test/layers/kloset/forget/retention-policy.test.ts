/**
 * Policy arithmetic against a table of dated snapshots; the expected keep sets are worked out by
 * hand from the rules (restic's `forget` semantics, periods in UTC).
 */
import {
  type Dated,
  type RetentionPolicy,
  applyRetention,
  keepsNothing,
} from '../../../../layers/kloset/forget/retention-policy.js';

interface Row extends Dated {
  readonly n: number;
}

// 2026-01-01 is a Thursday: ISO week 2026-W01 runs from Monday 2025-12-29 to Sunday 2026-01-04
const TABLE: Row[] = [
  { n: 12, time: '2025-12-31T23:00:00.000Z', tags: [] },
  { n: 1, time: '2026-01-01T10:00:00.000Z', tags: [] },
  { n: 2, time: '2026-01-02T10:00:00.000Z', tags: [] },
  { n: 3, time: '2026-01-03T10:00:00.000Z', tags: ['keep'] },
  { n: 4, time: '2026-01-03T18:00:00.000Z', tags: [] },
  { n: 5, time: '2026-01-05T09:00:00.000Z', tags: [] },
  { n: 6, time: '2026-01-10T12:00:00.000Z', tags: [] },
  { n: 7, time: '2026-01-11T12:00:00.000Z', tags: [] },
  { n: 8, time: '2026-01-12T08:00:00.000Z', tags: [] },
  { n: 9, time: '2026-02-01T08:00:00.000Z', tags: [] },
  { n: 10, time: '2026-02-01T20:00:00.000Z', tags: [] },
  { n: 11, time: '2026-03-15T00:00:00.000Z', tags: [] },
];

function kept(policy: RetentionPolicy): number[] {
  return applyRetention(TABLE, policy)
    .filter((d) => d.reasons.length > 0)
    .map((d) => d.snapshot.n);
}

test.each<[string, RetentionPolicy, number[]]>([
  ['last 2: the two newest', { last: 2 }, [11, 10]],
  ['hourly 3: one per hour, three hours', { hourly: 3 }, [11, 10, 9]],
  ['daily 5: the newest of each of five days', { daily: 5 }, [11, 10, 8, 7, 6]],
  ['weekly 3: the newest of each of three ISO weeks', { weekly: 3 }, [11, 10, 8]],
  ['weekly 10: 2025-12-31 shares 2026-W01 with 2026-01-03', { weekly: 10 }, [11, 10, 8, 7, 4]],
  ['monthly 2', { monthly: 2 }, [11, 10]],
  ['yearly 3: 2026 and 2025, fewer years than asked', { yearly: 3 }, [11, 12]],
  ['within 1m: from the newest snapshot back to 2026-02-15', { within: { months: 1 } }, [11]],
  ['within 1m15d: back to 2026-01-31', { within: { months: 1, days: 15 } }, [11, 10, 9]],
  ['within 62d: the boundary day is in', { within: { days: 62 } }, [11, 10, 9, 8]],
  ['within 1y: everything', { within: { years: 1 } }, [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 12]],
  ['tag keep', { tags: ['keep'] }, [3]],
  ['an unknown tag keeps nothing', { tags: ['other'] }, []],
])('%s', (_name, policy, expected) => {
  expect(kept(policy)).toEqual(expected);
});

test('rules combine: each snapshot lists every rule that keeps it', () => {
  const decisions = applyRetention(TABLE, { last: 1, daily: 2, monthly: 3, tags: ['keep'] });
  expect(decisions.map((d) => [d.snapshot.n, d.reasons])).toEqual([
    [11, ['last', 'daily', 'monthly']],
    [10, ['daily', 'monthly']],
    [9, []],
    [8, ['monthly']],
    [7, []],
    [6, []],
    [5, []],
    [4, []],
    [3, ['tag']],
    [2, []],
    [1, []],
    [12, []],
  ]);
});

test('order of the input does not matter, and last counts snapshots taken at the same moment', () => {
  const twins: Row[] = [
    { n: 1, time: '2026-01-01T00:00:00.000Z', tags: [] },
    { n: 2, time: '2026-01-01T00:00:00.000Z', tags: [] },
  ];
  expect(applyRetention(twins, { last: 2 }).every((d) => d.reasons.includes('last'))).toBe(true);
  const shuffled = [...TABLE].reverse();
  expect(
    applyRetention(shuffled, { daily: 5 })
      .filter((d) => d.reasons.length > 0)
      .map((d) => d.snapshot.n),
  ).toEqual([11, 10, 8, 7, 6]);
});

test('a policy without a rule keeps nothing', () => {
  expect(keepsNothing({})).toBe(true);
  expect(keepsNothing({ daily: 0, tags: [] })).toBe(true);
  expect(keepsNothing({ within: { days: 1 } })).toBe(false);
  expect(keepsNothing({ tags: ['x'] })).toBe(false);
  expect(keepsNothing({ yearly: 1 })).toBe(false);
});
