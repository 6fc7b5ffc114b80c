/**
 * A store app's retention policy, as the API takes it: restic's and `kloud forget`'s rules. A
 * policy that keeps nothing is refused: stored, a maintenance would forget every snapshot.
 * Imports only the engine's policy module (no I/O), so the API functions stay small.
 */
import { z } from 'zod';
import { type RetentionPolicy, parseCalendarSpan } from '../../kloset/forget/retention-policy.js';

const count = (what: string) =>
  z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .optional()
    .meta({ description: `keep the newest snapshot of each of the last N ${what} that have one` });

const RetentionRules = z.strictObject({
  keepLast: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .optional()
    .meta({ description: 'keep the N newest snapshots' }),
  keepHourly: count('hours'),
  keepDaily: count('days'),
  keepWeekly: count('ISO weeks'),
  keepMonthly: count('months'),
  keepYearly: count('years'),
  keepWithin: z
    .string()
    .max(32)
    .refine((text) => parseCalendarSpan(text) !== undefined, {
      message:
        'expected a duration: whole numbers with y, m (months), d and h in that order, e.g. 30d or 1y2m',
    })
    .optional()
    .meta({
      description: "keep every snapshot this close to its group's newest one: `30d`, `1y2m`, `12h`",
    }),
  keepTags: z
    .array(z.string().min(1).max(128))
    .max(32)
    .optional()
    .meta({ description: 'keep every snapshot carrying one of these tags' }),
});

export const Retention = RetentionRules.refine(
  (r) => !keepsNothing(r),
  'give at least one keep rule: a policy without one would forget every snapshot',
).meta({
  id: 'Retention',
  description:
    'which snapshots a maintenance keeps, per group of host and sources (UTC periods, as `kloud forget`); a snapshot stays when any rule keeps it',
});
export type Retention = z.infer<typeof Retention>;

function keepsNothing(r: z.infer<typeof RetentionRules>): boolean {
  return Object.values(r).every((v) => v === undefined || (Array.isArray(v) && v.length === 0));
}

/** The engine's policy for a validated retention. */
export function retentionPolicy(r: Retention): RetentionPolicy {
  return {
    ...(r.keepLast !== undefined && { last: r.keepLast }),
    ...(r.keepHourly !== undefined && { hourly: r.keepHourly }),
    ...(r.keepDaily !== undefined && { daily: r.keepDaily }),
    ...(r.keepWeekly !== undefined && { weekly: r.keepWeekly }),
    ...(r.keepMonthly !== undefined && { monthly: r.keepMonthly }),
    ...(r.keepYearly !== undefined && { yearly: r.keepYearly }),
    ...(r.keepWithin !== undefined && { within: parseCalendarSpan(r.keepWithin)! }),
    ...(r.keepTags?.length && { tags: r.keepTags }),
  };
}
