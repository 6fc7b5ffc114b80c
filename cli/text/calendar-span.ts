/** Durations as `forget --keep-within` takes them, restic's way: `30d`, `1y2m`, `2d12h` (m is months). */
import type { CalendarSpan } from '../../layers/kloset/index.js';
import { usageError } from '../failures/errors.js';

const SPAN = /^(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)d)?(?:(\d+)h)?$/;

export function parseCalendarSpan(text: string): CalendarSpan {
  const match = SPAN.exec(text);
  if (!match || text === '') {
    throw usageError(
      `bad duration "${text}"`,
      'write whole numbers with y (years), m (months), d (days) and h (hours), in that order, e.g. 30d or 1y2m',
    );
  }
  const [years, months, days, hours] = match.slice(1).map((n) => (n === undefined ? 0 : Number(n)));
  return { years, months, days, hours };
}
