import { ageCutoff, parseAge } from '../../../cli/text/age.js';
import { CliError } from '../../../cli/failures/errors.js';

test.each([
  ['90s', 90_000],
  ['15m', 900_000],
  ['12h', 43_200_000],
  ['30d', 30 * 86_400_000],
  ['2w', 14 * 86_400_000],
  ['1y', 365 * 86_400_000],
  ['0s', 0],
])('%s is %d ms', (text, ms) => {
  expect(parseAge(text)).toBe(ms);
});

test.each(['30', 'd', '30D', '1.5d', '-1d', '30 d', '30days', '2mo', ''])('"%s" is a usage error', (text) => {
  let error: unknown;
  try {
    parseAge(text);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(CliError);
  expect(error).toMatchObject({ what: `bad age "${text}"`, exitCode: 2 });
});

test('the cutoff is that long before now', () => {
  expect(ageCutoff('1h', Date.parse('2024-05-01T12:00:00Z')).toISOString()).toBe('2024-05-01T11:00:00.000Z');
});
