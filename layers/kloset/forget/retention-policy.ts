/**
 * Retention rules as restic and Borg define them, applied to one group of snapshots: walking from
 * the newest, a `keep-<period> N` rule keeps the newest snapshot of each of the N most recent
 * periods that hold one. Periods are counted in UTC, so a policy means the same on every machine.
 */

/** A calendar duration, subtracted from the newest snapshot's time by `within`. */
export interface CalendarSpan {
  readonly years?: number;
  readonly months?: number;
  readonly days?: number;
  readonly hours?: number;
}

/** `keep-within` durations, restic's way: `30d`, `1y2m`, `2d12h` (m is months), units in this order. */
const SPAN = /^(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)d)?(?:(\d+)h)?$/;

/** The span `text` writes, or undefined when it is not one. */
export function parseCalendarSpan(text: string): CalendarSpan | undefined {
  const match = SPAN.exec(text);
  if (!match || text === '') return undefined;
  const [years, months, days, hours] = match.slice(1).map((n) => (n === undefined ? 0 : Number(n)));
  return { years, months, days, hours };
}

export interface RetentionPolicy {
  /** the N newest snapshots */
  readonly last?: number;
  readonly hourly?: number;
  readonly daily?: number;
  /** ISO 8601 weeks (Monday to Sunday) */
  readonly weekly?: number;
  readonly monthly?: number;
  readonly yearly?: number;
  /** every snapshot at most this long before the group's newest one */
  readonly within?: CalendarSpan;
  /** every snapshot carrying one of these tags */
  readonly tags?: readonly string[];
}

/** Why a snapshot is kept: the rule's name, as its option says it (`last`, `daily`, `within`, `tag`). */
export type KeepReason = 'last' | 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly' | 'within' | 'tag';

export interface Dated {
  readonly time: string;
  readonly tags: readonly string[];
}

export interface RetentionDecision<T extends Dated> {
  readonly snapshot: T;
  /** empty: the snapshot is forgotten */
  readonly reasons: KeepReason[];
}

/** The period a snapshot falls in; `last` counts every snapshot on its own. */
type Bucket = (t: Date, position: number) => number;

const BUCKETS: [Exclude<KeepReason, 'within' | 'tag'>, Bucket][] = [
  ['last', (_t, position) => position],
  ['hourly', (t) => Math.floor(t.getTime() / 3_600_000)],
  ['daily', (t) => Math.floor(t.getTime() / 86_400_000)],
  ['weekly', isoWeek],
  ['monthly', (t) => t.getUTCFullYear() * 12 + t.getUTCMonth()],
  ['yearly', (t) => t.getUTCFullYear()],
];

/** True when the policy names no rule at all, so applying it would forget every snapshot. */
export function keepsNothing(policy: RetentionPolicy): boolean {
  const counted = BUCKETS.some(([rule]) => (policy[rule] ?? 0) > 0);
  return !counted && policy.within === undefined && (policy.tags ?? []).length === 0;
}

/** The decision for each snapshot of one group, newest first. */
export function applyRetention<T extends Dated>(
  group: readonly T[],
  policy: RetentionPolicy,
): RetentionDecision<T>[] {
  const newestFirst = [...group].sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
  const left = new Map(BUCKETS.map(([rule]) => [rule, policy[rule] ?? 0]));
  const lastBucket = new Map<KeepReason, number>();
  const newest = newestFirst[0];
  const withinFrom = newest && policy.within ? subtractSpan(new Date(newest.time), policy.within) : undefined;
  return newestFirst.map((snapshot, position) => {
    const time = new Date(snapshot.time);
    const reasons: KeepReason[] = [];
    for (const [rule, bucketOf] of BUCKETS) {
      const bucket = bucketOf(time, position);
      if (left.get(rule)! > 0 && lastBucket.get(rule) !== bucket) {
        lastBucket.set(rule, bucket);
        left.set(rule, left.get(rule)! - 1);
        reasons.push(rule);
      }
    }
    if (withinFrom && time.getTime() >= withinFrom.getTime()) reasons.push('within');
    if (policy.tags?.some((tag) => snapshot.tags.includes(tag))) reasons.push('tag');
    return { snapshot, reasons };
  });
}

function subtractSpan(from: Date, span: CalendarSpan): Date {
  const t = new Date(from);
  t.setUTCFullYear(t.getUTCFullYear() - (span.years ?? 0), t.getUTCMonth() - (span.months ?? 0));
  t.setUTCDate(t.getUTCDate() - (span.days ?? 0));
  t.setUTCHours(t.getUTCHours() - (span.hours ?? 0));
  return t;
}

/** ISO week as year * 100 + week: the week belongs to the year of its Thursday. */
function isoWeek(t: Date): number {
  const thursday = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
  thursday.setUTCDate(thursday.getUTCDate() + 3 - ((thursday.getUTCDay() + 6) % 7));
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000)) + 1;
  return year * 100 + week;
}
