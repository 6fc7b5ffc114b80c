/** `kloud backup [PLACE...]`: one snapshot of one or more places. */
import type { Command } from 'commander';
import type { BackupResult } from '../../layers/kloset/index.js';
import { checkAliasInUse } from '../places/alias-check.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../failures/errors.js';
import { describeFailure } from '../failures/failures.js';
import { formatBytes, formatDuration, plural } from '../text/human-units.js';
import { shortId } from '../text/listing-text.js';
import { terminalText } from '../text/name-text.js';
import { type Place, type PlaceContext, resolvePlace } from '../places/places.js';
import { withProgress } from '../text/progress.js';
import { loadEngine, warnAboutConnector, withStore } from '../store-session.js';

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
      'paths, s3://bucket/prefix, sftp://host/path or @source aliases (@NAME, @NAME:sub/dir, @NAME:/other/dir)',
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
Local places keep their absolute paths in the snapshot; an S3 bucket appears as the top-level
directory /s3:BUCKET and an SFTP host as /sftp:HOST, so one snapshot can hold them all.
Exit code 3 when some files could not be read: the snapshot holds the rest.

Examples:
  kloud at /var/backups backup /etc ~/documents --tag daily
  kloud backup /etc s3://my-bucket/logs sftp://me@web1/srv/www
  kloud backup @web:html --exclude '*.tmp' --exclude node_modules
  kloud backup --dry-run --json`,
    )
    .action(async (args: string[], opts: BackupOptions, command: Command) => {
      const places = await backupPlaces(args, ctx.places());
      const engine = await loadEngine();
      // before the store is opened (and its passphrase asked for)
      for (const place of places) checkAliasInUse(engine, 'source', place);
      const chosen = places.map((place) => place.location);
      const out = ctx.output(command);
      const title = opts.dryRun ? 'dry run' : 'backup';
      let done: { result: BackupResult; sources: string[] } | undefined;
      const { result, sources } = await withStore(ctx, command, async (store) => {
        for (const location of chosen) warnAboutConnector(ctx, engine, location);
        const opened = await engine.openSources(chosen);
        try {
          const result = await withProgress(ctx.runtime.stderr, title, 'bytes', (progress) =>
            store.backup(opened.paths, {
              excludes: opts.exclude,
              tags: opts.tag,
              dryRun: opts.dryRun,
              source: opened.source,
              onProgress: (p) =>
                progress.update({ done: p.bytes, detail: plural(p.files, 'file'), path: p.path }),
            }),
          );
          done = { result, sources: opened.paths };
        } finally {
          await opened.close();
        }
        return done;
      }).catch((err: unknown) => {
        // the snapshot is committed: what fails after it (closing connections, the store) cannot undo it
        if (done === undefined) throw err;
        out.note(`warning: after the backup: ${describeFailure(err).what}`);
        return done;
      });
      for (const warning of result.warnings)
        out.note(`note: ${terminalText(`${warning.path}: ${warning.message}`)}`);
      for (const error of result.errors)
        out.note(`warning: could not read ${terminalText(`${error.path}: ${error.message}`)}`);
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
