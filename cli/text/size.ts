/** Sizes as options take them: a whole number of bytes, or with a unit, `500M`, `2G`, `1T` (powers of 1024). */
import { usageError } from '../failures/errors.js';

const UNIT_BYTES: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

const SIZE = /^(\d+)([KMGT]?)(?:i?B)?$/i;

/** The size in bytes. */
export function parseSize(text: string): number {
  const match = SIZE.exec(text);
  if (!match) {
    throw usageError(
      `bad size "${text}"`,
      'write a whole number and an optional unit: K, M, G or T, e.g. 2G',
    );
  }
  return Number(match[1]) * UNIT_BYTES[match[2]!.toUpperCase()]!;
}
