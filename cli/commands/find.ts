/** `kloud find PATTERN` (or `locate`): which snapshots hold paths matching a glob. */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { EXIT, usageError } from '../failures/errors.js';
import { shortId, snapshotTime, typedPath } from '../text/listing-text.js';
import { withStore } from '../store-session.js';

export function registerFindCommand(program: Command, ctx: CommandContext): void {
  program
    .command('find')
    .alias('locate')
    .description('find the snapshots that hold paths matching a glob')
    .argument('<pattern>', 'without /, matches names (*.conf); with /, whole paths (/etc/**/*.conf)')
    .option('--tag <tag>', 'only search the snapshots with this tag')
    .addHelpText(
      'after',
      `
One line per match: snapshot, when it was taken, path (directories end with /); newest
snapshots first. Quote the pattern so that the shell leaves it alone. Snapshots that cannot be
read are named on stderr and the exit code is 3 (partial); the others are searched.
With --json, one object per line (NDJSON): { snapshot, path, type, size, mtime }.

Examples:
  kloud find '*.conf'
  kloud find '/home/*/docs/**/*.md' --tag daily
  kloud at @home locate notes.txt --json`,
    )
    .action(async (pattern: string, opts: { tag?: string }, command: Command) => {
      if (pattern === '') throw usageError('empty pattern', "give a glob, e.g. kloud find '*.conf'");
      const out = ctx.output(command);
      await withStore(ctx, command, async (store) => {
        for await (const { snapshot, entry } of store.find(pattern, {
          tag: opts.tag,
          onUnreadable: (what) => {
            out.note(`warning: not searched: ${what}`);
            ctx.exitCode = EXIT.partial;
          },
        })) {
          const { path, type, size, mtime } = entry;
          out.print(
            { snapshot: snapshot.id, path, type, size, mtime },
            () => `${shortId(snapshot.id)}  ${snapshotTime(snapshot)}  ${typedPath(path, type)}`,
          );
        }
      });
    });
}
