/** Turns anything thrown during a command into the CLI's one-line error (or JSON document) and exit code. */
import { fromEngineError, isEngineError } from './engine-errors.js';
import { CliError, EXIT, systemFailure } from './errors.js';

export function describeFailure(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (isEngineError(err)) return fromEngineError(err);
  const system = systemFailure(err);
  if (system) return system;
  const message = err instanceof Error ? err.message : String(err);
  return new CliError(
    message.split('\n')[0],
    'this is unexpected: run again with --debug and report the output',
    undefined,
    { cause: err, code: 'INTERNAL' },
  );
}

/** The failure's stable name: its own, else its engine error's code, else by its exit code. */
export function errorCode(failure: CliError): string {
  if (failure.code !== undefined) return failure.code;
  if (isEngineError(failure.cause)) return failure.cause.code;
  return failure.exitCode === EXIT.usage ? 'USAGE' : 'FAILED';
}

/** What `--json` prints on stdout for a failure: the control-plane API's error shape. */
export function errorDocument(failure: CliError): string {
  const error = { code: errorCode(failure), message: failure.what, advice: failure.todo };
  return `${JSON.stringify({ error })}\n`;
}
