/** `kloud backup [PLACE...]`: one snapshot of one or more places. */
import type { Command } from 'commander';
import type { BackupResult } from '../../layers/kloset/index.js';
import { connectorOptions } from '../aliases.js';
import type { CommandContext } from '../context.js';
import { EXIT, usageError } from '../errors.js';
import { formatBytes, formatDuration, plural } from '../human-units.js';
import { shortId } from '../listing-text.js';
import { parseLocation, type PathContext } from '../location.js';
import { type Place, type PlaceContext, requireLocal, resolvePlace } from '../places.js';
import { withProgress } from '../progress.js';
import { withStore } from '../store-session.js';

interface BackupOptions {
  exclude: string[];
  tag: string[];
  dryRun?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerBackupCommand(program: Command, ctx: CommandContext): void {
  program
    .command('backup')
    .description(
      'back up places into one new snapshot (default: the default source alias, else the current directory)',
    )
    .argument(
      '[places...]',
      'paths or @source aliases (@NAME, @NAME:sub/dir, @NAME:/other/dir); an S3 source on its own',
    )
    .option(
      '--exclude <pattern>',
      'skip names (*.log) or absolute paths (/home/*/.cache); repeatable',
      collect,
      [],
    )
    .option('--tag <tag>', 'label the snapshot; repeatable', collect, [])
    .option('--dry-run', 'read everything and report, but write nothing')
    .addHelpText(
      'after',
      `
Exit code 3 when some files could not be read: the snapshot holds the rest.

Examples:
  kloud at /var/backups backup /etc ~/documents --tag daily
  kloud backup @web:html --exclude '*.tmp' --exclude node_modules
  kloud backup --dry-run --json`,
    )
    .action(async (args: string[], opts: BackupOptions, command: Command) => {
      const places = ctx.places();
      const { sources, bucket } = readingOf(await backupPlaces(args, places), places);
      const out = ctx.output(command);
      const title = opts.dryRun ? 'dry run' : 'backup';
      const result = await withStore(ctx, command, async (store, { engine }) => {
        const source = bucket && new engine.S3Source(bucket.location, bucket.options);
        try {
          return await withProgress(ctx.runtime.stderr, title, 'bytes', (progress) =>
            store.backup(sources, {
              excludes: opts.exclude,
              tags: opts.tag,
              dryRun: opts.dryRun,
              source,
              onProgress: (p) =>
                progress.update({ done: p.bytes, detail: plural(p.files, 'file'), path: p.path }),
            }),
          );
        } finally {
          await source?.close();
        }
      });
      for (const warning of result.warnings) out.note(`note: ${warning.path}: ${warning.message}`);
      for (const error of result.errors) out.note(`warning: could not read ${error.path}: ${error.message}`);
      const { summary, errors, warnings } = result;
      const answer = {
        snapshot: result.snapshot?.id ?? null,
        dryRun: opts.dryRun === true,
        sources,
        summary,
        errors,
        warnings,
      };
      out.print(answer, () => describeBackup(result));
      if (result.errors.length > 0) ctx.exitCode = EXIT.partial;
    });
}

async function backupPlaces(args: string[], places: PlaceContext): Promise<Place[]> {
  if (args.length > 0) return Promise.all(args.map((arg) => resolvePlace(arg, 'source', places)));
  const fallback = (await places.aliases()).defaultAlias('source');
  return [await resolvePlace(fallback ? `@${fallback.name}` : places.cwd, 'source', places)];
}

/**
 * What the engine reads: local paths, or the paths of one S3 source under its bucket's root (so
 * the snapshot holds `/prefix/key`, as a local backup holds absolute paths).
 */
function readingOf(
  chosen: Place[],
  ctx: PathContext,
): { sources: string[]; bucket?: { location: string; options: Record<string, string> } } {
  const remote = chosen.find((place) => place.scheme === 's3');
  if (!remote) return { sources: chosen.map((place) => requireLocal(place, 'source')) };
  if (chosen.length > 1) {
    throw usageError(
      `an S3 source is backed up on its own (${remote.location})`,
      'back up the other places in another snapshot',
    );
  }
  const { authority, path } = parseLocation(remote.location, ctx);
  return {
    sources: [path],
    bucket: { location: `s3://${authority}`, options: connectorOptions(remote.options) },
  };
}

function describeBackup(result: BackupResult): string {
  const s = result.summary;
  const counts = `${plural(s.files, 'file')}, ${plural(s.dirs, 'dir')}, ${formatBytes(s.bytes)}`;
  const added = `${formatBytes(s.newBytes)} new, ${formatBytes(s.storedBytes)} stored`;
  const head = result.snapshot
    ? `snapshot ${shortId(result.snapshot.id)} saved: ${counts} (${added}) in ${formatDuration(s.durationMs)}`
    : `dry run: ${counts} (${added}); nothing was written`;
  if (result.errors.length === 0) return head;
  return `${head}\n${plural(result.errors.length, 'file')} could not be read (see the warnings above)`;
}
