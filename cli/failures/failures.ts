/** Turns anything thrown during a command into the CLI's one-line error with its exit code. */
import { fromEngineError, isEngineError } from './engine-errors.js';
import { CliError } from './errors.js';

export function describeFailure(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (isEngineError(err)) return fromEngineError(err);
  const message = err instanceof Error ? err.message : String(err);
  return new CliError(
    message.split('\n')[0],
    'this is unexpected: run again with --debug and report the output',
    undefined,
    {
      cause: err,
    },
  );
}
