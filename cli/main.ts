/** One run of `kloud`: parse, dispatch, and turn whatever went wrong into a line and an exit code. */
import { splitAtPrefix } from './at-prefix.js';
import { CommandContext, type Runtime } from './context.js';
import { describeFailure, errorDocument } from './failures/failures.js';
import { type CliError, EXIT, formatError, usageError } from './failures/errors.js';
import { buildProgram, CommanderStop, OVERVIEW, stopExitCode } from './program.js';

export async function main(argv: readonly string[], runtime: Runtime, version: string): Promise<number> {
  if (argv.length === 0) {
    runtime.stdout.write(OVERVIEW);
    return EXIT.ok;
  }
  try {
    const { at, args } = splitAtPrefix(argv);
    const ctx = new CommandContext(runtime, at);
    await buildProgram(ctx, version).parseAsync(args, { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    const json = argv.includes('--json') ? runtime.stdout : undefined;
    return report(err, runtime.stderr, json, argv.includes('--debug'));
  }
}

/** The failure as one line on stderr, and with `--json` (`json` is stdout then) as a document on stdout. */
function report(
  err: unknown,
  stderr: NodeJS.WritableStream,
  json: NodeJS.WritableStream | undefined,
  debug: boolean,
): number {
  // the reader of stdout went away (`kloud cat | head`): it has what it wanted
  if ((err as NodeJS.ErrnoException)?.code === 'EPIPE') return EXIT.ok;
  let failure: CliError;
  if (err instanceof CommanderStop) {
    const code = stopExitCode(err);
    if (code === EXIT.ok) return code;
    if (err.error.code.startsWith('commander.help')) {
      // a group without its command: the help on stderr said what there is
      json?.write(
        errorDocument(usageError(`'${err.commandPath}' needs a command`, `see '${err.commandPath} --help'`)),
      );
      return code;
    }
    const what = err.error.message.replace(/^error: /, '').replace(/\n/g, ' ');
    failure = usageError(what, `see '${err.commandPath} --help'`);
  } else {
    failure = describeFailure(err);
  }
  stderr.write(formatError(failure));
  json?.write(errorDocument(failure));
  if (debug) stderr.write(`${(failure.cause as Error | undefined)?.stack ?? failure.stack}\n`);
  return failure.exitCode;
}
