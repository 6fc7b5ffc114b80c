/** `kloud prune`: deletes the data no snapshot needs any more, in two runs a grace period apart. */
import type { Command } from 'commander';
import type { PruneReport, PrunedPack } from '../../layers/kloset/index.js';
import { DEFAULT_REPACK_THRESHOLD } from '../../layers/kloset/prune/prune-defaults.js';
import { usageError } from '../failures/errors.js';
import type { CommandContext } from '../context.js';
import { parseAge } from '../text/age.js';
import { formatBytes, plural } from '../text/human-units.js';
import { withProgress } from '../text/progress.js';
import { parseSize } from '../text/size.js';
import { withStore } from '../store-session.js';

interface PruneFlags {
  grace: string;
  repackThreshold: string;
  maxRepackSize?: string;
  dryRun?: boolean;
}

const PROGRESS_DETAIL = { walk: 'trees', repack: 'packs rewritten', delete: 'packs deleted' } as const;

/** A percentage from 1 to 100: the unused share from which a pack is rewritten (100: never). */
function parseThreshold(text: string): number {
  const percent = /^(\d+)%?$/.exec(text);
  const value = percent ? Number(percent[1]) : NaN;
  if (!(value >= 1 && value <= 100)) {
    throw usageError(`bad repack threshold "${text}"`, 'write a percentage from 1 to 100, e.g. 20%');
  }
  return value / 100;
}

export function registerPruneCommand(program: Command, ctx: CommandContext): void {
  program
    .command('prune')
    .description('delete the data that removed snapshots alone used, and consolidate the index')
    .option('--grace <age>', 'how long a pack found unused waits before a later prune deletes it', '24h')
    .option(
      '--repack-threshold <percent>',
      'rewrite a pack once this share of it is unused (100%: never)',
      `${DEFAULT_REPACK_THRESHOLD * 100}%`,
    )
    .option('--max-repack-size <size>', 'rewrite at most this many bytes of packs in one run (e.g. 2G)')
    .option('--dry-run', 'show what would be deleted, rewritten and planned, and change nothing')
    .addHelpText(
      'after',
      `
prune is safe while backups run, in two steps: a run finds the packs that no snapshot uses any
more and records them in a prune plan; a run after the grace period deletes those still unused.
Backups that start after a plan store the planned data again instead of reusing it, so the grace
period only has to be longer than the longest backup (default 24h; units s, m, h, d, w, y).
Each run also replaces the store's index deltas by one, so opening the store reads one delta.

A pack still partly used is rewritten once --repack-threshold of it is unused: its live data is
copied into new packs (at most --max-repack-size of packs a run), and the old pack is planned
and deleted like the others. Packs in archive storage (S3 Glacier) are never rewritten, only
deleted when wholly unused; deleting one before its class's minimum storage duration (90 days
for Glacier, 180 for Deep Archive) is billed as if kept that long: prune says what it costs.
With --json, the report as one JSON object.

Examples:
  kloud forget --keep-daily 7 && kloud prune
  kloud at @home prune --dry-run --json`,
    )
    .action(async (flags: PruneFlags, command: Command) => {
      const graceMs = parseAge(flags.grace);
      const repackThreshold = parseThreshold(flags.repackThreshold);
      const maxRepackBytes = flags.maxRepackSize === undefined ? undefined : parseSize(flags.maxRepackSize);
      const dryRun = flags.dryRun === true;
      const report = await withStore(ctx, command, (store) =>
        withProgress(ctx.runtime.stderr, 'prune', 'items', (progress) =>
          store.prune({
            dryRun,
            graceMs,
            repackThreshold,
            ...(maxRepackBytes !== undefined && { maxRepackBytes }),
            onProgress: (p) =>
              progress.update({
                done: p.done,
                total: p.total || undefined,
                detail: PROGRESS_DETAIL[p.phase],
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
  if (r.repacked.length > 0) {
    const live = r.repacked.reduce((n, p) => n + p.liveBytes, 0);
    lines.push(
      `${dryRun ? 'would rewrite' : 'rewrote'} ${packs(r.repacked)}, moving the ${formatBytes(live)} still used to ${dryRun ? 'new packs' : plural(r.packsWritten, 'new pack')}; a prune after ${grace} deletes the old ones`,
    );
  }
  if (r.waiting > 0)
    lines.push(`${plural(r.waiting, 'pack')} planned earlier, still within the grace period`);
  if (r.deltasReplaced > 0) {
    lines.push(
      `${dryRun ? 'would consolidate' : 'consolidated'} ${plural(r.deltasReplaced, 'index delta')} into one`,
    );
  }
  if (r.deleted.length > 0) lines.push(`${dryRun ? 'would free' : 'freed'} ${formatBytes(r.freedBytes)}`);
  for (const [list, verb] of [
    [r.deleted, dryRun ? 'deleting them now would bill' : 'deleting them billed'],
    [r.planned, 'deleting them today would bill'],
  ] as const) {
    const early = list.filter((p) => p.earlyDeletion);
    if (early.length === 0) continue;
    const usd = early.reduce((n, p) => n + p.earlyDeletion!.usd, 0);
    const days = Math.max(...early.map((p) => p.earlyDeletion!.daysShort));
    lines.push(
      `${plural(early.length, 'archived pack')} ${list === r.deleted ? 'deleted' : 'planned'} before the archive class's minimum storage duration (up to ${days} days short): ${verb} about $${usd.toFixed(4)}`,
    );
  }
  if (lines.length === 0) lines.push('nothing to prune');
  if (dryRun) lines.push('dry run: nothing was changed');
  return lines.join('\n');
}
