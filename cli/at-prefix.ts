/**
 * `kloud [global options] at LOCATION COMMAND ...`: commander has no grammar for a prefix before the
 * command, so it is taken out of the arguments first.
 */
import { usageError } from './failures/errors.js';
import { VALUED_OPTIONS } from './global-options.js';

export function splitAtPrefix(argv: readonly string[]): { at?: string; args: string[] } {
  let i = 0;
  while (i < argv.length && argv[i].startsWith('-')) i += VALUED_OPTIONS.has(argv[i]) ? 2 : 1;
  if (argv[i] !== 'at') return { args: [...argv] };
  const at = argv[i + 1];
  if (at === undefined || at === '') {
    throw usageError(
      "'at' needs a location",
      'write kloud at LOCATION COMMAND, e.g. kloud at /var/backups ls',
    );
  }
  if (i + 2 >= argv.length) {
    throw usageError(`no command after 'at ${at}'`, `add one, e.g. kloud at ${at} ls`);
  }
  return { at, args: [...argv.slice(0, i), ...argv.slice(i + 2)] };
}
