/** Ages as `rm --older-than` takes them: a whole number and one unit, `90s`, `12h`, `30d`, `1y`. */
import { usageError } from '../failures/errors.js';

const SECOND = 1000;
const DAY = 86_400 * SECOND;

const UNIT_MS: Record<string, number> = {
  s: SECOND,
  m: 60 * SECOND,
  h: 3600 * SECOND,
  d: DAY,
  w: 7 * DAY,
  y: 365 * DAY,
};

const AGE = /^(\d+)([a-z])$/;

/** The age in milliseconds. */
export function parseAge(text: string): number {
  const match = AGE.exec(text);
  const unit = match ? UNIT_MS[match[2]] : undefined;
  if (!match || unit === undefined) {
    throw usageError(
      `bad age "${text}"`,
      'write a whole number and a unit: s, m (minutes), h, d, w or y (365 days), e.g. 30d',
    );
  }
  return Number(match[1]) * unit;
}

/** The moment that is `age` ago. */
export function ageCutoff(text: string, now = Date.now()): Date {
  return new Date(now - parseAge(text));
}
