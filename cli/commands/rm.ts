/** `kloud rm SNAPSHOT...`, `--older-than AGE`, `--tag TAG`: snapshots marked removed, at once. */
import type { Command } from 'commander';
import type { SnapshotRecord } from '../../layers/kloset/index.js';
import { ageCutoff } from '../text/age.js';
import type { CommandContext } from '../context.js';
import { usageError } from '../failures/errors.js';
import { plural } from '../text/human-units.js';
import { snapshotLine } from '../text/listing-text.js';
import { withStore } from '../store-session.js';

interface RmOptions {
  olderThan?: string;
  tag?: string;
  dryRun?: boolean;
}

export function registerRmCommand(program: Command, ctx: CommandContext): void {
  program
    .command('rm')
    .description('remove snapshots, by ID, age or tag (instant: space is reclaimed later)')
    .argument('[snapshots...]', 'latest, snapshot IDs or unique prefixes')
    .option('--older-than <age>', 'the snapshots taken more than AGE ago: a number and s, m, h, d, w or y')
    .option('--tag <tag>', 'the snapshots with this tag')
    .option('--dry-run', 'show what would be removed, and remove nothing')
    .addHelpText(
      'after',
      `
--older-than and --tag together select the snapshots that match both; the SNAPSHOT arguments
are removed as well. Units: s, m (minutes), h, d, w, y (365 days).

rm is instant and safe while backups run: the snapshots are marked removed in the store's
index and no data is deleted. The space only they use is reclaimed later, by kloud prune.
With --json, the removed (or, with --dry-run, selected) snapshots as one JSON array.

Examples:
  kloud rm 1a2b3c 4d5e6f
  kloud rm --older-than 30d --dry-run
  kloud at @home rm --older-than 1y --tag hourly`,
    )
    .action(async (refs: string[], opts: RmOptions, command: Command) => {
      const olderThan = opts.olderThan === undefined ? undefined : ageCutoff(opts.olderThan);
      if (refs.length === 0 && olderThan === undefined && opts.tag === undefined) {
        throw usageError('no snapshot selected', 'give snapshot IDs, --older-than AGE or --tag TAG');
      }
      const out = ctx.output(command);
      const dryRun = opts.dryRun === true;
      const removed = await withStore(ctx, command, (store) =>
        store.rm({ refs, olderThan, tag: opts.tag, dryRun }),
      );
      const verb = dryRun ? 'would remove' : 'removed';
      out.print(removed, (list) => list.map((s) => `${verb} ${snapshotLine(s)}`).join('\n'));
      if (!out.json) out.note(describeRemoval(removed, dryRun));
    });
}

function describeRemoval(removed: readonly SnapshotRecord[], dryRun: boolean): string {
  if (removed.length === 0) return 'no snapshot matches: nothing removed';
  const count = plural(removed.length, 'snapshot');
  if (dryRun) return `dry run: ${count} would be removed; nothing was changed`;
  return `${count} removed; the data stays in the store until kloud prune`;
}
