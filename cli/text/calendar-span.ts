/** Durations as `forget --keep-within` takes them, restic's way: `30d`, `1y2m`, `2d12h` (m is months). */
// the rules' module alone (it imports nothing), not the engine's index: a command that opens no store starts without it
import {
  type CalendarSpan,
  parseCalendarSpan as parseSpan,
} from '../../layers/kloset/forget/retention-policy.js';
import { usageError } from '../failures/errors.js';

export function parseCalendarSpan(text: string): CalendarSpan {
  const span = parseSpan(text);
  if (!span) {
    throw usageError(
      `bad duration "${text}"`,
      'write whole numbers with y (years), m (months), d (days) and h (hours), in that order, e.g. 30d or 1y2m',
    );
  }
  return span;
}
