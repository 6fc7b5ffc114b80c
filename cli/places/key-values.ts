/** `key=value` arguments of the alias commands. */
import { OPTION_KEY } from './config-file.js';
import { usageError } from '../failures/errors.js';

export function parseKeyValues(args: readonly string[]): Record<string, string> {
  const options: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const key = eq < 0 ? '' : arg.slice(0, eq);
    if (!OPTION_KEY.test(key)) {
      throw usageError(
        `malformed option "${arg}"`,
        'write key=value with a lowercase key, e.g. passphrase_cmd="pass show kloud"',
      );
    }
    options[key] = arg.slice(eq + 1);
  }
  return options;
}

export function parseKeys(args: readonly string[]): string[] {
  for (const arg of args) {
    if (!OPTION_KEY.test(arg))
      throw usageError(`malformed option name "${arg}"`, 'give bare keys, e.g. passphrase');
  }
  return [...args];
}
