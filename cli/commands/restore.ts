/** `kloud restore [SNAPSHOT[:PATH]] --to DEST`. */
import { Option, type Command } from 'commander';
import type { OverwritePolicy, RestoreResult } from '../../layers/kloset/index.js';
import type { CommandContext } from '../context.js';
import { EXIT, usageError } from '../errors.js';
import { formatBytes, plural } from '../human-units.js';
import { shortId } from '../listing-text.js';
import { type PlaceContext, requireLocal, resolvePlace } from '../places.js';
import { withProgress } from '../progress.js';
import { parseSnapshotPath } from '../snapshot-path.js';
import { withStore } from '../store-session.js';

export function registerRestoreCommand(program: Command, ctx: CommandContext): void {
  program
    .command('restore')
    .description('restore a snapshot, or one path of it, into a directory')
    .argument('[snapshot]', 'SNAPSHOT[:PATH] (default: latest)')
    .option(
      '--to <destination>',
      'a directory or @destination alias (default: the default destination alias)',
    )
    .addOption(
      new Option('--overwrite <policy>', 'what to do with files that exist already')
        .choices(['never', 'if-newer', 'always'])
        .default('never'),
    )
    .addHelpText(
      'after',
      `
A whole snapshot is restored under its absolute paths (/etc/hosts goes to DEST/etc/hosts);
one path is restored by its last name (latest:/etc restores DEST/etc).
Exit code 3 when some entries could not be restored.

Examples:
  kloud restore --to /tmp/restored
  kloud restore 1a2b3c:/etc/nginx --to /tmp/nginx-yesterday
  kloud at @home restore latest:/home/me/docs --to @scratch:docs --overwrite if-newer`,
    )
    .action(
      async (
        arg: string | undefined,
        opts: { to?: string; overwrite: OverwritePolicy },
        command: Command,
      ) => {
        const { ref, path } = parseSnapshotPath(arg ?? 'latest');
        const to = await destination(opts.to, ctx.places());
        const out = ctx.output(command);
        const { snapshot, result } = await withStore(ctx, command, async (store) => {
          const snapshot = await store.resolveSnapshot(ref);
          const total = path === undefined ? snapshot.summary.bytes : undefined;
          const result = await withProgress(ctx.runtime.stderr, 'restore', 'bytes', (progress) =>
            store.restore(snapshot.id, path, {
              to,
              overwrite: opts.overwrite,
              onProgress: (p) =>
                progress.update({ done: p.bytes, total, detail: plural(p.files, 'file'), path: p.path }),
            }),
          );
          return { snapshot, result };
        });
        for (const error of result.errors)
          out.note(`warning: could not restore ${error.path}: ${error.message}`);
        out.print({ snapshot: snapshot.id, path: path ?? '/', to, ...result }, (r) =>
          describeRestore(r, shortId(r.snapshot)),
        );
        if (result.errors.length > 0) ctx.exitCode = EXIT.partial;
      },
    );
}

async function destination(to: string | undefined, places: PlaceContext): Promise<string> {
  if (to !== undefined) return requireLocal(await resolvePlace(to, 'destination', places), 'destination');
  const fallback = (await places.aliases()).defaultAlias('destination');
  if (!fallback) {
    throw usageError('no destination given', 'add --to DIR, or set one with: kloud destination default NAME');
  }
  return requireLocal(await resolvePlace(`@${fallback.name}`, 'destination', places), 'destination');
}

function describeRestore(result: RestoreResult & { to: string }, snapshot: string): string {
  const counts = [
    plural(result.files, 'file'),
    plural(result.dirs, 'dir'),
    plural(result.symlinks, 'symlink'),
  ];
  const lines = [
    `restored ${counts.join(', ')} (${formatBytes(result.bytes)}) from ${snapshot} into ${result.to}`,
  ];
  if (result.skipped > 0)
    lines.push(`${plural(result.skipped, 'existing file')} left alone (see --overwrite)`);
  if (result.errors.length > 0)
    lines.push(`${plural(result.errors.length, 'entry', 'entries')} could not be restored`);
  return lines.join('\n');
}
