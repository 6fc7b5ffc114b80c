/** `kloud restore [SNAPSHOT[:PATH]] --to DEST`. */
import { Option, type Command } from 'commander';
import type { OverwritePolicy, RestoreResult } from '../../layers/kloset/index.js';
import { checkAliasInUse } from '../places/alias-check.js';
import {
  type RetrievalFlags,
  daysOption,
  retrieveArchived,
  tierOption,
  waitOption,
} from '../archive-retrieval.js';
import type { CommandContext } from '../context.js';
import { EXIT, usageError } from '../failures/errors.js';
import { formatBytes, plural } from '../text/human-units.js';
import { shortId } from '../text/listing-text.js';
import { terminalText } from '../text/name-text.js';
import { type Place, type PlaceContext, resolvePlace } from '../places/places.js';
import { withProgress } from '../text/progress.js';
import { parseSnapshotPath } from '../snapshot-path.js';
import { loadEngine, warnAboutConnector, withStore } from '../store-session.js';

export function registerRestoreCommand(program: Command, ctx: CommandContext): void {
  program
    .command('restore')
    .description('restore a snapshot, or one path of it, into a directory, an S3 prefix or an SFTP directory')
    .argument('[snapshot]', 'SNAPSHOT[:PATH] (default: latest)')
    .option(
      '--to <destination>',
      'a directory, s3://bucket/prefix, sftp://host/path or @destination alias (default: the default destination alias)',
    )
    .addOption(
      new Option('--overwrite <policy>', 'what to do with files that exist already')
        .choices(['never', 'if-newer', 'always'])
        .default('never'),
    )
    .addOption(tierOption())
    .addOption(daysOption())
    .addOption(waitOption())
    .addHelpText(
      'after',
      `
A whole snapshot is restored under its absolute paths (/etc/hosts goes to DEST/etc/hosts);
one path is restored by its last name (latest:/etc restores DEST/etc).
Into S3, files become objects under the prefix, with mode and time kept as object metadata;
a symbolic link becomes a small object holding its target (metadata kloud-type: symlink).
Exit code 3 when some entries could not be restored.
From a store whose data is in archive storage (S3 GLACIER, DEEP_ARCHIVE), the data this restore
needs is retrieved first: kloud asks for it, prints how much, how long and the estimated cost,
and exits with code 5 until it is readable (run the same command again; nothing is asked twice),
or waits with --wait.

Examples:
  kloud restore --to /tmp/restored
  kloud restore 1a2b3c:/etc/nginx --to /tmp/nginx-yesterday
  kloud at @home restore latest:/home/me/docs --to @scratch:docs --overwrite if-newer
  kloud at @glacier restore latest:/home/me/docs --to /tmp/docs --tier bulk --wait`,
    )
    .action((arg: string | undefined, opts: RestoreCommandOptions, command: Command) =>
      restoreSnapshot(ctx, command, arg, opts),
    );
}

type RestoreCommandOptions = { to?: string; overwrite: OverwritePolicy } & RetrievalFlags;

/** Retrieves archived data first when the store has any, then restores into the destination. */
async function restoreSnapshot(
  ctx: CommandContext,
  command: Command,
  arg: string | undefined,
  opts: RestoreCommandOptions,
): Promise<void> {
  const { ref, path } = parseSnapshotPath(arg ?? 'latest');
  const place = await destination(opts.to, ctx.places());
  // before the store is opened: on an archive store, a retrieval costs money
  checkAliasInUse(await loadEngine(), 'destination', place);
  const out = ctx.output(command);
  const { snapshot, result } = await withStore(ctx, command, async (store, { engine }) => {
    const snapshot = await store.resolveSnapshot(ref);
    if (!(await retrieveArchived(store, snapshot.id, path, opts, out)))
      return { snapshot, result: undefined };
    const total = path === undefined ? snapshot.summary.bytes : undefined;
    warnAboutConnector(ctx, engine, place.location);
    const target = await engine.openDestination(place.location);
    try {
      const result = await withProgress(ctx.runtime.stderr, 'restore', 'bytes', (progress) =>
        store.restore(snapshot.id, path, {
          destination: target,
          overwrite: opts.overwrite,
          onProgress: (p) =>
            progress.update({ done: p.bytes, total, detail: plural(p.files, 'file'), path: p.path }),
        }),
      );
      return { snapshot, result };
    } finally {
      await target.close();
    }
  });
  if (!result) {
    ctx.exitCode = EXIT.pending;
    return;
  }
  for (const error of result.errors)
    out.note(`warning: could not restore ${terminalText(`${error.path}: ${error.message}`)}`);
  out.print({ snapshot: snapshot.id, path: path ?? '/', to: place.text, ...result }, (r) =>
    describeRestore(r, shortId(r.snapshot)),
  );
  if (result.errors.length > 0) ctx.exitCode = EXIT.partial;
}

async function destination(to: string | undefined, places: PlaceContext): Promise<Place> {
  if (to !== undefined) return resolvePlace(to, 'destination', places);
  const fallback = (await places.aliases()).defaultAlias('destination');
  if (!fallback) {
    throw usageError('no destination given', 'add --to DIR, or set one with: kloud destination default NAME');
  }
  return resolvePlace(`@${fallback.name}`, 'destination', places);
}

function describeRestore(result: RestoreResult & { to: string }, snapshot: string): string {
  const counts = [
    plural(result.files, 'file'),
    plural(result.dirs, 'dir'),
    plural(result.symlinks, 'symlink'),
  ];
  const lines = [
    `restored ${counts.join(', ')} (${formatBytes(result.bytes)}) from ${snapshot} into ${terminalText(result.to)}`,
  ];
  if (result.skipped > 0)
    lines.push(`${plural(result.skipped, 'existing file')} left alone (see --overwrite)`);
  if (result.errors.length > 0)
    lines.push(`${plural(result.errors.length, 'entry', 'entries')} could not be restored`);
  return lines.join('\n');
}
