/** Schedule expressions: what EventBridge Scheduler accepts, and the fire times croner gives them. */
import {
  cronerPattern,
  nextRuns,
  parseExpression,
  ScheduleExpression,
  TimeZone,
} from '../../../../layers/control/schedules/schedule-expression.js';

const problemOf = (text: string) => {
  const parsed = parseExpression(text);
  return 'problem' in parsed ? parsed.problem : undefined;
};

test.each([
  'cron(0 10 * * ? *)',
  'cron(0/15 * * * ? *)',
  'cron(*/5 8-17 ? * MON-FRI *)',
  'cron(15 10 ? * 6L 2026-2030)',
  'cron(0 9 ? * 2#1 *)',
  'cron(0 0 L * ? *)',
  'cron(0 0 LW * ? *)',
  'cron(0 0 15W * ? *)',
  'cron(0 18 ? * L *)',
  'cron(1,31 0 1 JAN,jul ? 2027)',
  'rate(1 minute)',
  'rate(5 minutes)',
  'rate(1 hour)',
  'rate(12 hours)',
  'rate(7 days)',
  'at(2027-01-01T00:00:00)',
])('%s is accepted', (expression) => {
  expect(problemOf(expression)).toBeUndefined();
  expect(ScheduleExpression.safeParse(expression).success).toBe(true);
});

test.each([
  ['cron(0 10 * * *)', 'six fields'],
  ['cron(0 10 * * * *)', 'one of day-of-month and day-of-week must be "?"'],
  ['cron(0 10 ? * ? *)', 'one of day-of-month and day-of-week must be "?"'],
  ['cron(60 * * * ? *)', 'minutes: 60 is out of range (0-59)'],
  ['cron(0 24 * * ? *)', 'hours: 24 is out of range (0-23)'],
  ['cron(0 0 0 * ? *)', 'day-of-month: 0 is out of range (1-31)'],
  ['cron(0 0 32W * ? *)', 'day-of-month: "32W" is not a day-of-month value'],
  ['cron(0 0 1 13 ? *)', 'month: 13 is out of range (1-12)'],
  ['cron(0 0 ? * 0 *)', 'day-of-week: 0 is out of range (1-7)'],
  ['cron(0 0 ? * 1/2 *)', 'day-of-week: "/" is not allowed'],
  ['cron(0 0 ? * 2#6 *)', 'day-of-week: "2#6" is not a day-of-week value'],
  ['cron(0 0 1 * ? 1969)', 'year: 1969 is out of range (1970-2199)'],
  ['cron(0/0 * * * ? *)', 'the increment must be a whole number from 1'],
  ['cron(a * * * ? *)', 'minutes: "a" is not a minutes value'],
  ['rate(1 minutes)', 'singular for 1 and plural above'],
  ['rate(5 minute)', 'singular for 1 and plural above'],
  ['rate(0 minutes)', 'the value must be 1 or more'],
  ['rate(5 weeks)', 'expected cron('],
  ['at(2027-02-30T00:00:00)', 'is not a date and time'],
  ['at(2027-01-01 00:00:00)', 'expected cron('],
  ['every day', 'expected cron('],
  ['', 'expected cron('],
])('%s is refused: %s', (expression, problem) => {
  expect(problemOf(expression)).toContain(problem);
  const parsed = ScheduleExpression.safeParse(expression);
  expect(parsed.success).toBe(false);
  expect(parsed.error?.issues[0]?.message).toContain(problem);
});

test("AWS's day-of-week becomes croner's: L alone is Saturday, NL the last such day, seconds first", () => {
  expect(cronerPattern(['0', '18', '?', '*', 'L', '*'])).toBe('0 0 18 ? * 7 *');
  expect(cronerPattern(['15', '10', '?', '*', '6L', '2026'])).toBe('0 15 10 ? * 6#L 2026');
  expect(cronerPattern(['0', '9', '?', '*', 'fri#2', '*'])).toBe('0 0 9 ? * FRI#2 *');
});

const at = (iso: string) => new Date(iso);
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

test('a daily 10:00 in Europe/Berlin moves an hour in UTC across the spring DST change', () => {
  const from = at('2026-03-27T00:00:00Z');
  expect(iso(nextRuns('cron(0 10 * * ? *)', 'Europe/Berlin', from, 3, from))).toEqual([
    '2026-03-27T09:00:00.000Z',
    '2026-03-28T09:00:00.000Z',
    '2026-03-29T08:00:00.000Z',
  ]);
  // and back in autumn; in UTC nothing moves
  const autumn = at('2026-10-24T12:00:00Z');
  expect(iso(nextRuns('cron(0 10 * * ? *)', 'Europe/Berlin', autumn, 2, autumn))).toEqual([
    '2026-10-25T09:00:00.000Z',
    '2026-10-26T09:00:00.000Z',
  ]);
  expect(iso(nextRuns('cron(0 10 * * ? *)', 'UTC', from, 3, from))).toEqual([
    '2026-03-27T10:00:00.000Z',
    '2026-03-28T10:00:00.000Z',
    '2026-03-29T10:00:00.000Z',
  ]);
});

test('day-of-week is 1-7 for SUN-SAT; L, # and W and the year field select as AWS documents', () => {
  const from = at('2026-03-01T00:00:00Z');
  // 1 is Sunday: 2026-03-01 is one
  expect(iso(nextRuns('cron(0 12 ? * 1 *)', 'UTC', from, 2, from))).toEqual([
    '2026-03-01T12:00:00.000Z',
    '2026-03-08T12:00:00.000Z',
  ]);
  // the last Friday of each month, from 2027 on
  expect(iso(nextRuns('cron(0 12 ? * 6L 2027)', 'UTC', from, 2, from))).toEqual([
    '2027-01-29T12:00:00.000Z',
    '2027-02-26T12:00:00.000Z',
  ]);
  // the first Monday
  expect(iso(nextRuns('cron(0 12 ? * 2#1 *)', 'UTC', from, 2, from))).toEqual([
    '2026-03-02T12:00:00.000Z',
    '2026-04-06T12:00:00.000Z',
  ]);
  // the weekday nearest the 15th: 2026-03-15 is a Sunday, so Monday the 16th
  expect(iso(nextRuns('cron(0 12 15W * ? *)', 'UTC', from, 1, from))).toEqual(['2026-03-16T12:00:00.000Z']);
  // the last day of the month
  expect(iso(nextRuns('cron(0 12 L * ? *)', 'UTC', from, 2, from))).toEqual([
    '2026-03-31T12:00:00.000Z',
    '2026-04-30T12:00:00.000Z',
  ]);
  // a year that has passed never fires
  expect(nextRuns('cron(0 12 * * ? 2025)', 'UTC', from, 3, from)).toEqual([]);
});

test('a rate counts whole periods from when the schedule was written; an at() runs once, in its zone', () => {
  const since = at('2026-12-06T06:00:00Z');
  expect(iso(nextRuns('rate(15 minutes)', 'UTC', at('2026-12-06T06:20:00Z'), 3, since))).toEqual([
    '2026-12-06T06:30:00.000Z',
    '2026-12-06T06:45:00.000Z',
    '2026-12-06T07:00:00.000Z',
  ]);
  // strictly after: a run exactly now is behind
  expect(iso(nextRuns('rate(1 hour)', 'UTC', since, 1, since))).toEqual(['2026-12-06T07:00:00.000Z']);
  expect(iso(nextRuns('at(2026-12-24T18:00:00)', 'America/New_York', since, 3, since))).toEqual([
    '2026-12-24T23:00:00.000Z',
  ]);
  expect(nextRuns('at(2026-12-01T18:00:00)', 'UTC', since, 3, since)).toEqual([]);
});

test('time zones are IANA names the runtime knows', () => {
  for (const zone of ['UTC', 'Europe/Paris', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5'])
    expect(TimeZone.safeParse(zone).success).toBe(true);
  for (const zone of ['Mars/Olympus', 'Europe/', '+01:00', '', 'Europe/Paris; DROP'])
    expect(TimeZone.safeParse(zone).success).toBe(false);
});
