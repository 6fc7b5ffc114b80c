/** One run of `kloud`: parse, dispatch, and turn whatever went wrong into a line and an exit code. */
import { splitAtPrefix } from './at-prefix.js';
import { CommandContext, type Runtime } from './context.js';
import { describeFailure } from './failures/failures.js';
import { CliError, EXIT, formatError } from './failures/errors.js';
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
    return report(err, runtime.stderr, argv.includes('--debug'));
  }
}

function report(err: unknown, stderr: NodeJS.WritableStream, debug: boolean): number {
  // the reader of stdout went away (`kloud cat | head`): it has what it wanted
  if ((err as NodeJS.ErrnoException)?.code === 'EPIPE') return EXIT.ok;
  if (err instanceof CommanderStop) {
    const code = stopExitCode(err);
    if (code !== EXIT.ok && !err.error.code.startsWith('commander.help')) {
      const what = err.error.message.replace(/^error: /, '').replace(/\n/g, ' ');
      stderr.write(formatError(new CliError(what, `see '${err.commandPath} --help'`, EXIT.usage)));
    }
    return code;
  }
  const failure = describeFailure(err);
  stderr.write(formatError(failure));
  if (debug) stderr.write(`${(failure.cause as Error | undefined)?.stack ?? failure.stack}\n`);
  return failure.exitCode;
}
