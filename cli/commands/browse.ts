/** Reading snapshots without restoring them: `ls` and `cat`. */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { EXIT, usageError } from '../failures/errors.js';
import { entryLine, snapshotLine } from '../text/listing-text.js';
import { parseSnapshotPath } from '../snapshot-path.js';
import { withStore } from '../store-session.js';

export function registerBrowseCommands(program: Command, ctx: CommandContext): void {
  program
    .command('ls')
    .description('list snapshots, or the entries of a directory in a snapshot')
    .argument('[snapshot]', 'SNAPSHOT[:PATH]: latest, an ID or a unique prefix, then an absolute path')
    .option('--tag <tag>', 'only snapshots with this tag (when listing snapshots)')
    .addHelpText(
      'after',
      `
With --json, one JSON object per line (NDJSON). Snapshots whose record or index delta cannot
be read are named on stderr and the exit code is 3 (partial); the others are listed.

Examples:
  kloud ls                       snapshots, newest first
  kloud ls latest                the top of the newest snapshot
  kloud ls 1a2b3c:/etc/nginx     a directory of snapshot 1a2b3c...`,
    )
    .action(async (arg: string | undefined, opts: { tag?: string }, command: Command) => {
      const out = ctx.output(command);
      await withStore(ctx, command, async (store) => {
        if (arg === undefined) {
          const { snapshots, unreadable } = await store.listSnapshots({ tag: opts.tag });
          for (const snapshot of snapshots) out.print(snapshot, snapshotLine);
          // what could not be read is said, and the exit status says the list is incomplete
          for (const what of unreadable) out.note(`warning: not listed: ${what}`);
          if (unreadable.length > 0) ctx.exitCode = EXIT.partial;
          return;
        }
        const { ref, path } = parseSnapshotPath(arg);
        for (const entry of await store.ls(ref, path)) out.print(entry, entryLine);
      });
    });

  program
    .command('cat')
    .description('write a file of a snapshot to stdout')
    .argument('<file>', 'SNAPSHOT:PATH, e.g. latest:/etc/hosts')
    .addHelpText(
      'after',
      `
With --json, the content comes as NDJSON objects { path, offset, base64 }.

Examples:
  kloud cat latest:/etc/hosts
  kloud at @home cat 1a2b3c:/home/me/notes.txt > notes.txt`,
    )
    .action(async (arg: string, _opts, command: Command) => {
      const { ref, path } = parseSnapshotPath(arg);
      if (path === undefined)
        throw usageError(`no file in "${arg}"`, 'write SNAPSHOT:PATH, e.g. latest:/etc/hosts');
      const out = ctx.output(command);
      await withStore(ctx, command, async (store) => {
        let offset = 0;
        for await (const chunk of store.cat(ref, path)) {
          if (out.json) out.print({ path, offset, base64: chunk.toString('base64') }, () => '');
          else await out.write(chunk);
          offset += chunk.length;
        }
      });
    });
}
