/** `kloud repair`: the index rebuilt from the packs where deltas are damaged or missing. */
import type { Command } from 'commander';
import type { RepairReport } from '../../layers/kloset/index.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../failures/errors.js';
import { plural } from '../text/human-units.js';
import { withProgress } from '../text/progress.js';
import { withStore } from '../store-session.js';

export function registerRepairCommand(program: Command, ctx: CommandContext): void {
  program
    .command('repair')
    .description('rebuild the index from the packs where index deltas are damaged or missing')
    .option('--dry-run', 'show what would be done, and change nothing')
    .option('--read-data', 'check the repaired store reading every pack (slow), not only the metadata')
    .addHelpText(
      'after',
      `
Every pack ends with its own index: repair lists, in one new index delta, every pack that no
readable delta lists, and the snapshots whose records they hold. Existing objects are never
modified; damaged index deltas are removed once the new delta is written (their content cannot
be authenticated, so nothing in them is usable). Then it checks the store and names the
snapshots and paths whose data is gone for good.

Exit code 4 when damage remains after the repair (with --dry-run: when there is anything to do).

Examples:
  kloud at /var/backups repair --dry-run
  kloud at @home repair --json`,
    )
    .action(async (opts: { dryRun?: boolean; readData?: boolean }, command: Command) => {
      const report = await withStore(ctx, command, (store) =>
        withProgress(ctx.runtime.stderr, 'repair', 'items', (progress) =>
          store.repair({
            dryRun: opts.dryRun,
            readData: opts.readData,
            onProgress: (p) => progress.update({ done: p.done, total: p.total, detail: p.phase }),
          }),
        ),
      );
      ctx.output(command).print(report, describeRepair);
      if (damageLeft(report)) ctx.exitCode = EXIT.integrity;
    });
}

function damageLeft(r: RepairReport): boolean {
  if (r.remaining) return r.remaining.length > 0;
  return (
    r.damagedDeltas.length +
      r.recoveredSnapshots.length +
      r.unreadablePacks.length +
      r.unreadableSnapshots.length >
    0
  );
}

function describeRepair(r: RepairReport): string {
  const lines: string[] = [];
  for (const d of r.damagedDeltas)
    lines.push(
      `damaged: ${d.reason} (${r.dryRun ? 'would be removed' : 'removed'}: the new delta covers what can be recovered)`,
    );
  if (r.adoptedPacks.length > 0)
    lines.push(
      `${r.dryRun ? 'would list' : 'listed'} ${plural(r.adoptedPacks.length, 'pack')} no readable index listed (${plural(r.recoveredBlobs, 'blob')} readable again)`,
    );
  for (const s of r.recoveredSnapshots)
    lines.push(
      `${r.dryRun ? 'would list again' : 'listed again'}: snapshot ${s.id.slice(0, 8)} ${s.time} ${s.sources.join(' ')}`,
    );
  for (const s of r.unreadableSnapshots) lines.push(`lost: snapshot ${s.id.slice(0, 8)}: ${s.reason}`);
  for (const p of r.unreadablePacks)
    lines.push(`lost: ${p.reason} (what pack ${p.name.slice(0, 12)} held cannot be listed)`);
  if (r.archivedPacks > 0)
    lines.push(
      `not read: ${plural(r.archivedPacks, 'unindexed pack')} in archive storage (retrieve them, then repair again)`,
    );
  if (r.newDelta) lines.push(`wrote index delta ${r.newDelta.slice(0, 12)}`);
  for (const p of r.remaining ?? []) {
    lines.push(`still damaged: ${p.message}`);
    if (p.snapshots.length > 0)
      lines.push(`  snapshots: ${p.snapshots.map((id) => id.slice(0, 8)).join(', ')}`);
    for (const path of p.paths) lines.push(`  ${path}`);
  }
  if (r.dryRun) lines.push(lines.length === 0 ? 'nothing to repair' : 'dry run: nothing was changed');
  else if (r.remaining?.length === 0)
    lines.push(lines.length === 0 ? 'nothing to repair: no problems found' : 'repaired: no problems left');
  else lines.push(`${plural(r.remaining!.length, 'problem')} left (the data they name is gone)`);
  return lines.join('\n');
}
