/**
 * Schedule expressions as EventBridge Scheduler takes them, checked here so that a schedule the
 * API accepts is one Scheduler accepts too (and local mode fires alike):
 *
 * - `cron(minutes hours day-of-month month day-of-week year)`, AWS's six fields: day-of-week 1-7
 *   is SUN-SAT, one of day-of-month and day-of-week must be `?`, `L`, `W` and `#` as AWS allows;
 * - `rate(N minute|minutes|hour|hours|day|days)` (singular for 1, plural above);
 * - `at(yyyy-mm-ddThh:mm:ss)`, one run at that local time.
 *
 * Fire times come from croner, whose 7-part patterns (seconds first, year last) with Quartz
 * weekday numbering (1 = Sunday) read AWS's fields nearly as they are (cronerPattern).
 */
import { Cron } from 'croner';
import { z } from 'zod';

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** increments (`/`) allowed */
  readonly steps: boolean;
  /** a whole-field form beside lists of values and ranges (`?`, `L`, `W`, `#`) */
  readonly special?: RegExp;
}

const DAY = `(?:[1-7]|${DAYS.join('|')})`;
const CRON_FIELDS: readonly CronField[] = [
  { name: 'minutes', min: 0, max: 59, steps: true },
  { name: 'hours', min: 0, max: 23, steps: true },
  { name: 'day-of-month', min: 1, max: 31, steps: true, special: /^(?:\?|L|LW|(?:[1-9]|[12]\d|3[01])W)$/ },
  { name: 'month', min: 1, max: 12, names: MONTHS, steps: true },
  {
    name: 'day-of-week',
    min: 1,
    max: 7,
    names: DAYS,
    steps: false,
    special: new RegExp(`^(?:\\?|L|${DAY}L|${DAY}#[1-5])$`),
  },
  { name: 'year', min: 1970, max: 2199, steps: true },
];

const RATE_UNITS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

export type ParsedExpression =
  | { readonly kind: 'cron'; readonly fields: readonly string[] }
  | { readonly kind: 'rate'; readonly periodMs: number }
  | { readonly kind: 'at'; readonly localTime: string };

/** Why one value of a field is wrong, or undefined. */
function valueProblem(field: CronField, text: string): string | undefined {
  const upper = text.toUpperCase();
  const named = field.names?.indexOf(upper) ?? -1;
  const value = named >= 0 ? named + field.min : /^\d+$/.test(text) ? Number(text) : NaN;
  if (Number.isNaN(value)) return `"${text}" is not a ${field.name} value`;
  if (value < field.min || value > field.max) return `${value} is out of range (${field.min}-${field.max})`;
  return undefined;
}

/** Why one comma-separated item of a field (`*`, `v`, `v-w`, each with an optional `/n`) is wrong. */
function itemProblem(field: CronField, item: string): string | undefined {
  const [base = '', step, ...extra] = item.split('/');
  if (extra.length > 0) return `"${item}" has more than one "/"`;
  if (step !== undefined) {
    if (!field.steps) return `"/" is not allowed in ${field.name}`;
    if (!/^\d+$/.test(step) || Number(step) < 1)
      return `"${item}": the increment must be a whole number from 1`;
  }
  if (base === '*') return undefined;
  const bounds = base.split('-');
  if (bounds.length > 2) return `"${item}" is not a value or a range`;
  for (const bound of bounds) {
    const problem = valueProblem(field, bound);
    if (problem) return problem;
  }
  return undefined;
}

function fieldProblem(field: CronField, text: string): string | undefined {
  if (field.special?.test(text.toUpperCase())) return undefined;
  for (const item of text.split(',')) {
    const problem = itemProblem(field, item);
    if (problem) return `${field.name}: ${problem}`;
  }
  return undefined;
}

/** The expression, or why EventBridge Scheduler would refuse it (one sentence). */
export function parseExpression(text: string): ParsedExpression | { readonly problem: string } {
  const cron = /^cron\((.*)\)$/.exec(text);
  if (cron) {
    const fields = cron[1]!.trim().split(/\s+/);
    if (fields.length !== 6)
      return { problem: 'cron() takes six fields: minutes hours day-of-month month day-of-week year' };
    for (const [i, field] of CRON_FIELDS.entries()) {
      const problem = fieldProblem(field, fields[i]!);
      if (problem) return { problem };
    }
    if ((fields[2] === '?') === (fields[4] === '?'))
      return { problem: 'one of day-of-month and day-of-week must be "?", and only one' };
    const parsed = { kind: 'cron', fields } as const;
    try {
      cron7(parsed.fields, 'UTC');
    } catch (err) {
      return { problem: `cron(): ${(err as Error).message}` };
    }
    return parsed;
  }
  const rate = /^rate\((\d+) (minute|hour|day)(s?)\)$/.exec(text);
  if (rate) {
    const value = Number(rate[1]);
    if (value < 1) return { problem: 'rate(): the value must be 1 or more' };
    if ((value === 1) !== (rate[3] === ''))
      return { problem: 'rate(): the unit is singular for 1 and plural above (rate(1 hour), rate(5 hours))' };
    return { kind: 'rate', periodMs: value * RATE_UNITS[rate[2] as keyof typeof RATE_UNITS] };
  }
  const at = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(text);
  if (at) {
    // Date.parse takes 02-30 as 03-02: the date must come back as it was written
    const date = new Date(`${at[1]}Z`);
    if (Number.isNaN(date.getTime()) || !date.toISOString().startsWith(at[1]!))
      return { problem: `at(): ${at[1]} is not a date and time` };
    return { kind: 'at', localTime: at[1]! };
  }
  return {
    problem:
      'expected cron(minutes hours day-of-month month day-of-week year), rate(N unit) or at(yyyy-mm-ddThh:mm:ss)',
  };
}

/**
 * AWS's six fields as croner's seven: seconds 0 first; day-of-week's `L` alone is the last day of
 * the week (Saturday, 7) and `NL` the last such day of the month (croner's `N#L`).
 */
export function cronerPattern(fields: readonly string[]): string {
  const dayOfWeek = fields[4]!
    .toUpperCase()
    .replace(/^L$/, '7')
    .replace(/^(.+)L$/, '$1#L');
  return ['0', fields[0], fields[1], fields[2], fields[3], dayOfWeek, fields[5]].join(' ');
}

function cron7(fields: readonly string[], timezone: string): Cron {
  // sloppyRanges: AWS writes a start and an increment as `0/15`, croner by default only `*/15`
  return new Cron(cronerPattern(fields), {
    mode: '7-part',
    alternativeWeekdays: true,
    sloppyRanges: true,
    timezone,
    paused: true,
  });
}

/** An IANA time zone name this runtime knows (as Scheduler's ScheduleExpressionTimezone takes). */
export const TimeZone = z
  .string()
  .regex(
    /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/,
    'expected an IANA time zone name, e.g. Europe/Paris',
  )
  .refine((zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, 'not a time zone this deployment knows: expected an IANA name, e.g. Europe/Paris')
  .meta({ description: "the IANA time zone the expression's times are in (default UTC)" });

export const ScheduleExpression = z
  .string()
  .max(256)
  .superRefine((text, ctx) => {
    const parsed = parseExpression(text);
    if ('problem' in parsed) ctx.addIssue({ code: 'custom', message: parsed.problem });
  })
  .meta({
    description:
      'EventBridge Scheduler syntax: cron(minutes hours day-of-month month day-of-week year), rate(N minute|minutes|hour|hours|day|days) or at(yyyy-mm-ddThh:mm:ss)',
  });

/**
 * The next `count` fire times strictly after `after`. A rate counts its periods from `since` (when
 * the schedule was last written, as Scheduler starts a rate when it gets the schedule).
 */
export function nextRuns(
  expression: string,
  timezone: string,
  after: Date,
  count: number,
  since: Date,
): Date[] {
  const parsed = parseExpression(expression);
  if ('problem' in parsed) throw new Error(`not a schedule expression: ${parsed.problem}`);
  switch (parsed.kind) {
    case 'cron':
      return cron7(parsed.fields, timezone).nextRuns(count, after);
    case 'rate': {
      const passed = Math.max(1, Math.floor((after.getTime() - since.getTime()) / parsed.periodMs) + 1);
      return Array.from(
        { length: count },
        (_, i) => new Date(since.getTime() + (passed + i) * parsed.periodMs),
      );
    }
    case 'at':
      return new Cron(parsed.localTime, { timezone, paused: true }).nextRuns(count, after);
  }
}
