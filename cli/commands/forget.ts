/** `kloud forget --keep-daily 7 ...`: snapshots marked removed by a retention policy, group by group. */
import type { Command } from 'commander';
import type { ForgetGroup, GroupField, RetentionPolicy, SnapshotRecord } from '../../layers/kloset/index.js';
import type { CommandContext } from '../context.js';
import { type KeepFlags, addKeepOptions } from './keep-options.js';
import { usageError } from '../failures/errors.js';
import { parseCalendarSpan } from '../text/calendar-span.js';
import { plural } from '../text/human-units.js';
import { snapshotLine } from '../text/listing-text.js';
import { terminalText } from '../text/name-text.js';
import { withStore } from '../store-session.js';

interface ForgetFlags extends KeepFlags {
  groupBy: string;
  dryRun?: boolean;
  unsafeAllowRemoveAll?: boolean;
}

const GROUP_FIELDS: readonly GroupField[] = ['host', 'sources', 'tags'];
export function registerForgetCommand(program: Command, ctx: CommandContext): void {
  addKeepOptions(
    program
      .command('forget')
      .description(
        'remove the snapshots a retention policy does not keep (instant: prune reclaims the space)',
      ),
  )
    .option(
      '--group-by <fields>',
      'retain each group on its own: host, sources, tags, comma-separated',
      'host,sources',
    )
    .option('--dry-run', 'show what would be kept and why, and remove nothing')
    .option('--unsafe-allow-remove-all', 'accept a policy without any --keep-* rule: every snapshot goes')
    .addHelpText(
      'after',
      `
Snapshots are grouped (by default, by host and sources) and each group is retained on its own,
as restic and Borg do: from the newest, --keep-daily 7 keeps the newest snapshot of each of the
7 most recent days that have one. A snapshot stays when any rule keeps it; hours, days, weeks
(ISO, Monday to Sunday), months and years are counted in UTC. --keep-within counts back from
the group's newest snapshot, not from now. --group-by '' makes one group of all snapshots.

forget is instant and safe while backups run: like rm, it marks snapshots removed; kloud prune
deletes the data only they used. With --json, the groups as one JSON array, each with the
snapshots kept (and the rules that keep them) and forgotten.

Examples:
  kloud forget --keep-daily 7 --keep-weekly 5 --keep-monthly 12 --dry-run
  kloud forget --keep-within 30d --keep-tag release --group-by host`,
    )
    .action(async (flags: ForgetFlags, command: Command) => {
      const policy = retentionPolicy(flags);
      const groupBy = groupFields(flags.groupBy);
      const out = ctx.output(command);
      const dryRun = flags.dryRun === true;
      const allowForgetAll = flags.unsafeAllowRemoveAll === true;
      if (!allowForgetAll && Object.keys(policy).length === 0) {
        throw usageError(
          'this policy keeps no snapshot',
          'give a --keep-* rule, or --unsafe-allow-remove-all to forget every snapshot',
        );
      }
      const groups = await withStore(ctx, command, (store) =>
        store.forget({ policy, groupBy, dryRun, allowForgetAll }),
      );
      out.print(groups.map(jsonGroup), () => groups.map((g) => groupText(g, dryRun)).join('\n'));
      if (!out.json) out.note(describeForgetting(groups, dryRun));
    });
}

function retentionPolicy(flags: ForgetFlags): RetentionPolicy {
  return {
    ...(flags.keepLast !== undefined && { last: flags.keepLast }),
    ...(flags.keepHourly !== undefined && { hourly: flags.keepHourly }),
    ...(flags.keepDaily !== undefined && { daily: flags.keepDaily }),
    ...(flags.keepWeekly !== undefined && { weekly: flags.keepWeekly }),
    ...(flags.keepMonthly !== undefined && { monthly: flags.keepMonthly }),
    ...(flags.keepYearly !== undefined && { yearly: flags.keepYearly }),
    ...(flags.keepWithin !== undefined && { within: parseCalendarSpan(flags.keepWithin) }),
    ...(flags.keepTag.length > 0 && { tags: flags.keepTag }),
  };
}

function groupFields(text: string): GroupField[] {
  const fields = text.split(',').filter((f) => f !== '');
  const unknown = fields.find((f) => !GROUP_FIELDS.includes(f as GroupField));
  if (unknown !== undefined) {
    throw usageError(`cannot group by "${unknown}"`, 'group by host, sources or tags, comma-separated');
  }
  return fields as GroupField[];
}

function jsonGroup(g: ForgetGroup) {
  const { decisions, ...key } = g;
  return {
    ...key,
    keep: decisions.filter((d) => d.reasons.length > 0).map((d) => ({ ...d.snapshot, reasons: d.reasons })),
    forget: decisions.filter((d) => d.reasons.length === 0).map((d) => d.snapshot),
  };
}

function groupText(g: ForgetGroup, dryRun: boolean): string {
  const key = [
    g.host !== undefined && `host ${g.host}`,
    g.sources !== undefined && `sources ${g.sources.join(' ')}`,
    g.tags !== undefined && `tags [${g.tags.join(',')}]`,
  ].filter((part) => part !== false);
  const heading = terminalText(key.length > 0 ? `${key.join(', ')}:` : 'all snapshots:');
  const forgetVerb = dryRun ? 'would forget' : 'forgot';
  const lines = g.decisions.map((d) =>
    d.reasons.length > 0
      ? `  keep         ${snapshotLine(d.snapshot)}  (${d.reasons.join(', ')})`
      : `  ${forgetVerb.padEnd(12)} ${snapshotLine(d.snapshot)}`,
  );
  return [heading, ...lines].join('\n');
}

function describeForgetting(groups: readonly ForgetGroup[], dryRun: boolean): string {
  const all = groups.flatMap((g) => g.decisions);
  const forgotten: SnapshotRecord[] = all.filter((d) => d.reasons.length === 0).map((d) => d.snapshot);
  const kept = all.length - forgotten.length;
  if (forgotten.length === 0) return `${plural(kept, 'snapshot')} kept: nothing to forget`;
  const gone = plural(forgotten.length, 'snapshot');
  if (dryRun) return `dry run: ${gone} would be forgotten, ${kept} kept; nothing was changed`;
  return `${gone} forgotten, ${kept} kept; the data stays in the store until kloud prune`;
}
