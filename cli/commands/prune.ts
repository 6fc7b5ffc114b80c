/** `kloud prune`: deletes the data no snapshot needs any more, in two runs a grace period apart. */
import type { Command } from 'commander';
import type { PruneReport, PrunedPack } from '../../layers/kloset/index.js';
import type { CommandContext } from '../context.js';
import { parseAge } from '../text/age.js';
import { formatBytes, plural } from '../text/human-units.js';
import { withProgress } from '../text/progress.js';
import { withStore } from '../store-session.js';

interface PruneFlags {
  grace: string;
  dryRun?: boolean;
}

export function registerPruneCommand(program: Command, ctx: CommandContext): void {
  program
    .command('prune')
    .description('delete the data that removed snapshots alone used, and consolidate the index')
    .option('--grace <age>', 'how long a pack found unused waits before a later prune deletes it', '24h')
    .option('--dry-run', 'show what would be deleted and planned, and change nothing')
    .addHelpText(
      'after',
      `
prune is safe while backups run, in two steps: a run finds the packs that no snapshot uses any
more and records them in a prune plan; a run after the grace period deletes those still unused.
Backups that start after a plan store the planned data again instead of reusing it, so the grace
period only has to be longer than the longest backup (default 24h; units s, m, h, d, w, y).
Each run also replaces the store's index deltas by one, so opening the store reads one delta.

Packs in archive storage (S3 Glacier) are deleted only when wholly unused, never rewritten;
deleting them before the class's minimum storage duration is billed as if kept that long.
With --json, the report as one JSON object.

Examples:
  kloud forget --keep-daily 7 && kloud prune
  kloud at @home prune --dry-run --json`,
    )
    .action(async (flags: PruneFlags, command: Command) => {
      const graceMs = parseAge(flags.grace);
      const dryRun = flags.dryRun === true;
      const report = await withStore(ctx, command, (store) =>
        withProgress(ctx.runtime.stderr, 'prune', 'items', (progress) =>
          store.prune({
            dryRun,
            graceMs,
            onProgress: (p) =>
              progress.update({
                done: p.done,
                total: p.total || undefined,
                detail: p.phase === 'walk' ? 'trees' : 'packs deleted',
              }),
          }),
        ),
      );
      ctx.output(command).print(report, (r) => describePrune(r, dryRun, flags.grace));
    });
}

function packs(list: readonly PrunedPack[]): string {
  return `${plural(list.length, 'pack')} (${formatBytes(list.reduce((n, p) => n + p.size, 0))})`;
}

function describePrune(r: PruneReport, dryRun: boolean, grace: string): string {
  const lines: string[] = [];
  if (r.deleted.length > 0) lines.push(`${dryRun ? 'would delete' : 'deleted'} ${packs(r.deleted)}`);
  if (r.planned.length > 0) {
    lines.push(
      `${dryRun ? 'would plan' : 'planned'} ${packs(r.planned)}: a prune after ${grace} deletes them`,
    );
  }
  if (r.waiting > 0)
    lines.push(`${plural(r.waiting, 'pack')} planned earlier, still within the grace period`);
  if (r.deltasReplaced > 0) {
    lines.push(
      `${dryRun ? 'would consolidate' : 'consolidated'} ${plural(r.deltasReplaced, 'index delta')} into one`,
    );
  }
  const archived = r.deleted.filter((p) => p.archived).length;
  if (archived > 0) {
    lines.push(
      `${plural(archived, 'archived pack')} among them: archive classes bill a minimum storage duration (90 days for Glacier, 180 for Deep Archive) even when deleted earlier`,
    );
  }
  if (lines.length === 0) lines.push('nothing to prune');
  if (dryRun) lines.push('dry run: nothing was changed');
  return lines.join('\n');
}
