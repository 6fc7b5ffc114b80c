/** The command tree: global options, help texts, and the command groups. */
import { Command, CommanderError } from 'commander';
import { registerAliasCommands } from './commands/aliases.js';
import { registerBackupCommand } from './commands/backup.js';
import { registerBrowseCommands } from './commands/browse.js';
import { registerDiffCommand } from './commands/diff.js';
import { registerFindCommand } from './commands/find.js';
import { registerForgetCommand } from './commands/forget.js';
import { registerPruneCommand } from './commands/prune.js';
import { registerRemoteCommands } from './commands/remote.js';
import { registerRepairCommand } from './commands/repair.js';
import { registerRestoreCommand } from './commands/restore.js';
import { registerRmCommand } from './commands/rm.js';
import { registerStoreCommands } from './commands/store.js';
import { registerSyncCommand } from './commands/sync.js';
import type { CommandContext } from './context.js';
import { EXIT } from './failures/errors.js';
import { GLOBAL_OPTIONS } from './global-options.js';

export const OVERVIEW = `kloud — encrypted, deduplicated backups

  kloud at /var/backups create       create a store
  kloud at /var/backups backup ~/    back up your home directory into it
  kloud at /var/backups ls           list its snapshots
  kloud store add home /var/backups  name it, then: kloud at @home ls

Without 'at', kloud uses $KLOUD_REPOSITORY, else the default store alias, else ~/.kloud.
Run 'kloud --help' for every command, 'kloud COMMAND --help' for one.
`;

const HELP_AFTER = `
Usage with a store:
  kloud [options] [at LOCATION] COMMAND ...
  LOCATION is a path, fs:/path, s3://bucket/prefix, sftp://user@host:port/path, or @ALIAS,
  @ALIAS:relative/path (appended to the alias's path), @ALIAS:/absolute/path (replacing it).
  Without 'at': $KLOUD_REPOSITORY, else the default store alias, else ~/.kloud.

Passphrase, first found: --passphrase-file, the alias's passphrase or passphrase_cmd,
  $KLOUD_PASSPHRASE, $PLAKAR_PASSPHRASE, a prompt when stdin is a terminal.

Exit codes:
  0  success
  1  failure
  2  usage error (unknown command or option, malformed argument)
  3  partial: done, but some files or snapshots could not be read (backup, ls, find, info, sync)
  4  integrity problem found by check (or left after repair)
  5  pending: restore asked for data in archive storage (S3 Glacier); run it again later
  6, 7, 8  kloud remote: a task failed / was cancelled; the control plane could not be reached

Examples:
  kloud at /var/backups create
  kloud at /var/backups backup /etc ~/documents --tag daily
  kloud at /var/backups ls latest:/etc
  kloud at /var/backups restore latest:/etc --to /tmp/restored
  kloud at /var/backups diff 1a2b3c latest
  kloud at /var/backups rm --older-than 90d --dry-run
  kloud at /var/backups sync to @offsite
  kloud store add home /var/backups && kloud store default home && kloud ls
  kloud remote check main --wait     (a control plane's store app: kloud remote --help)`;

/** Thrown instead of exiting when commander stops: a usage error, or help/version shown. */
export class CommanderStop extends Error {
  constructor(
    readonly error: CommanderError,
    /** The command whose help explains the mistake, as typed: `kloud store add`. */
    readonly commandPath: string,
  ) {
    super(error.message);
  }
}

export function buildProgram(ctx: CommandContext, version: string): Command {
  const program = new Command('kloud')
    .description('Encrypted, deduplicated, immutable backups')
    .version(version, '-V, --version', 'print the version')
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (text) => ctx.runtime.stdout.write(text),
      writeErr: (text) => ctx.runtime.stderr.write(text),
      outputError: () => undefined,
    })
    .addHelpText('after', HELP_AFTER);
  for (const [flags, description] of GLOBAL_OPTIONS) program.option(flags, description);
  program.helpOption('-h, --help', 'show help');
  registerStoreCommands(program, ctx);
  registerBackupCommand(program, ctx);
  registerBrowseCommands(program, ctx);
  registerDiffCommand(program, ctx);
  registerFindCommand(program, ctx);
  registerRestoreCommand(program, ctx);
  registerRmCommand(program, ctx);
  registerForgetCommand(program, ctx);
  registerPruneCommand(program, ctx);
  registerRepairCommand(program, ctx);
  registerSyncCommand(program, ctx);
  registerAliasCommands(program, ctx);
  registerRemoteCommands(program, ctx);
  stopInsteadOfExit(program, 'kloud');
  return program;
}

function stopInsteadOfExit(command: Command, path: string): void {
  command.exitOverride((err) => {
    throw new CommanderStop(err, path);
  });
  for (const sub of command.commands) stopInsteadOfExit(sub, `${path} ${sub.name()}`);
}

/** Help and version shown on request end the run successfully; anything else commander stops on is a usage error. */
export function stopExitCode(stop: CommanderStop): number {
  return stop.error.exitCode === 0 ? EXIT.ok : EXIT.usage;
}
