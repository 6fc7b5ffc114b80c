/** The `--keep-*` options of a retention policy, as `forget`, `remote maintenance` and `remote apps retention` take them. */
import { type Command, InvalidArgumentError } from 'commander';

export interface KeepFlags {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  keepWithin?: string;
  keepTag: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function addKeepOptions(command: Command): Command {
  const count = (flag: string, what: string) =>
    command.createOption(`${flag} <n>`, what).argParser(parseCount);
  const newest = (period: string) => `keep the newest snapshot of each of the last N ${period} that have one`;
  return command
    .addOption(count('--keep-last', 'keep the N newest snapshots'))
    .addOption(count('--keep-hourly', newest('hours')))
    .addOption(count('--keep-daily', newest('days')))
    .addOption(count('--keep-weekly', newest('weeks')))
    .addOption(count('--keep-monthly', newest('months')))
    .addOption(count('--keep-yearly', newest('years')))
    .option('--keep-within <duration>', 'keep every snapshot this close to the newest one: 30d, 1y2m, 12h')
    .option('--keep-tag <tag>', 'keep every snapshot with this tag; repeatable', collect, []);
}

/** The control plane's `Retention` (docs/API.md) the flags give; empty when they give no rule. */
export function retentionBody(flags: KeepFlags): Record<string, unknown> {
  return {
    ...(flags.keepLast !== undefined && { keepLast: flags.keepLast }),
    ...(flags.keepHourly !== undefined && { keepHourly: flags.keepHourly }),
    ...(flags.keepDaily !== undefined && { keepDaily: flags.keepDaily }),
    ...(flags.keepWeekly !== undefined && { keepWeekly: flags.keepWeekly }),
    ...(flags.keepMonthly !== undefined && { keepMonthly: flags.keepMonthly }),
    ...(flags.keepYearly !== undefined && { keepYearly: flags.keepYearly }),
    ...(flags.keepWithin !== undefined && { keepWithin: flags.keepWithin }),
    ...(flags.keepTag.length > 0 && { keepTags: flags.keepTag }),
  };
}

function parseCount(text: string): number {
  if (!/^[1-9]\d{0,5}$/.test(text)) throw new InvalidArgumentError('expected a whole number, 1 or more');
  return Number(text);
}
