/**
 * `kloud remote schedules` and `kloud remote schedule create|show|update|delete|pause|resume`:
 * tasks the control plane starts on a cron or rate expression (EventBridge Scheduler's syntax).
 */
import { type Command, Option } from 'commander';
import type { Schedule } from '../../layers/control/schedules/schedule.js';
import { TASK_TYPES } from '../../layers/control/tasks/task.js';
import type { CommandContext } from '../context.js';
import { usageError } from '../failures/errors.js';
import type { ApiClient } from '../remote/api-client.js';
import { resolveAppId } from '../remote/app-names.js';
import { remoteApi } from '../remote/remote-api.js';
import { terminalText } from '../text/name-text.js';
import { type KeepFlags, addKeepOptions, retentionBody } from './keep-options.js';
import { jsonObject } from './remote-apps.js';

const EXPRESSION_HELP = `
Expressions are EventBridge Scheduler's, in --timezone (an IANA name, default UTC):
  cron(minutes hours day-of-month month day-of-week year)  day-of-week 1-7 is SUN-SAT; one of
                                                           day-of-month and day-of-week is ?
  rate(N minute|minutes|hour|hours|day|days)               from when the schedule is written
  at(yyyy-mm-ddThh:mm:ss)                                  once
Each run is a task started by schedule:ID (kloud remote tasks); a run the control plane
refuses (the app not ready, the store busy) is a failed task saying why.`;

const RETENTION_HELP = `
A maintenance's --keep-* options are its own retention (parameters.retention), applied on each
run instead of the app's (kloud remote apps retention); without them the app's applies. Each run
forgets what its own policy does not keep: two maintenance schedules of one app do not add up,
so give one policy every rule the app's history needs.`;

interface DefinitionOptions extends KeepFlags {
  app?: string;
  type?: string;
  expression?: string;
  timezone?: string;
  parameters?: string;
  name?: string;
}

const path = (id: string) => `/schedules/${encodeURIComponent(id)}`;

export function registerRemoteSchedules(group: Command, ctx: CommandContext): void {
  group
    .command('schedules')
    .description('list the schedules, with their next and last runs')
    .addHelpText(
      'after',
      '\nWith --json, one Schedule per line (NDJSON).\n\nExamples:\n  kloud remote schedules\n  kloud remote schedules --json | jq -r .id',
    )
    .action(async (_opts, command: Command) => {
      const api = await remoteApi(ctx, command);
      const out = ctx.output(command);
      let count = 0;
      for await (const schedule of api.list<Schedule>('/schedules')) {
        out.print(schedule, scheduleLine);
        count++;
      }
      if (count === 0 && !out.json)
        out.note(
          "no schedules (add one with: kloud remote schedule create NAME --app APP --expression 'rate(1 day)')",
        );
    });

  const schedule = group
    .command('schedule')
    .description('create, show, update, delete, pause or resume a schedule of a task')
    .addHelpText(
      'after',
      `${EXPRESSION_HELP}

Examples:
  kloud remote schedule create nightly-check --app main --expression 'cron(0 2 * * ? *)' --timezone Europe/Paris
  kloud remote schedule pause 5f0c3b9e-...`,
    );

  addKeepOptions(schedule.command('create').description('create a schedule that starts a task on an app'))
    .argument('<name>', 'a label for people')
    .requiredOption('--app <app>', 'the app the task runs on: its ID or name')
    .requiredOption('--expression <expression>', 'when: cron(...), rate(...) or at(...)')
    .addOption(new Option('--type <type>', 'the task type').choices(TASK_TYPES).default('check'))
    .option('--timezone <zone>', "the expression's time zone, an IANA name", 'UTC')
    .option(
      '--parameters <json>',
      'the task\'s parameters as its own command takes them, e.g. {"readData":true}',
    )
    .option('--paused', 'create it paused (resume it later)')
    .addHelpText(
      'after',
      `${EXPRESSION_HELP}
${RETENTION_HELP}

Examples:
  kloud remote schedule create nightly-check --app main --expression 'cron(0 2 * * ? *)' --timezone Europe/Paris
  kloud remote schedule create weekly-read --app main --expression 'cron(0 3 ? * 1 *)' --parameters '{"readData":true}'
  kloud remote schedule create nightly-prune --app main --type maintenance --expression 'cron(0 4 * * ? *)' \\
    --keep-daily 7 --keep-weekly 8`,
    )
    .action(
      async (
        name: string,
        opts: Required<Pick<DefinitionOptions, 'app' | 'expression' | 'type' | 'timezone'>> &
          DefinitionOptions & { paused?: boolean },
        command: Command,
      ) => {
        const api = await remoteApi(ctx, command);
        const created = await api.post<Schedule>('/schedules', {
          name,
          expression: opts.expression,
          timezone: opts.timezone,
          task: {
            type: opts.type,
            appId: await resolveAppId(api, opts.app),
            parameters: taskParameters(
              opts.type,
              opts.parameters === undefined ? {} : jsonObject(opts.parameters, '--parameters'),
              opts,
            ),
          },
          enabled: opts.paused !== true,
        });
        ctx.output(command).print(created, (s) => `created schedule ${s.id}\n${scheduleText(s)}`);
      },
    );

  schedule
    .command('show')
    .description('show a schedule: its next runs and its last run')
    .argument('<id>', 'the schedule ID')
    .addHelpText('after', '\nExamples:\n  kloud remote schedule show 5f0c3b9e-...')
    .action(async (id: string, _opts, command: Command) => {
      const api = await remoteApi(ctx, command);
      ctx.output(command).print(await api.get<Schedule>(path(id)), scheduleText);
    });

  addKeepOptions(
    schedule
      .command('update')
      .description('change a schedule: what is not given stays as it is')
      .argument('<id>', 'the schedule ID'),
  )
    .option('--name <name>', 'a new label')
    .option('--expression <expression>', 'a new expression')
    .option('--timezone <zone>', 'a new time zone')
    .option('--app <app>', 'another app (ID or name)')
    .addOption(new Option('--type <type>', 'another task type').choices(TASK_TYPES))
    .option('--parameters <json>', "the task's parameters, replacing the current ones")
    .addHelpText(
      'after',
      `\nPause and resume with their own commands. --keep-* options replace a maintenance's retention
(the rest of its parameters stays).
${RETENTION_HELP}

Examples:
  kloud remote schedule update 5f0c3b9e-... --expression 'cron(30 1 * * ? *)'
  kloud remote schedule update 5f0c3b9e-... --keep-last 14`,
    )
    .action(async (id: string, opts: DefinitionOptions, command: Command) => {
      const api = await remoteApi(ctx, command);
      const current = await api.get<Schedule>(path(id));
      const updated = await api.call<Schedule>('PUT', path(id), {
        body: await definition(api, current, opts),
      });
      ctx.output(command).print(updated, scheduleText);
    });

  for (const [action, description] of [
    ['pause', 'pause a schedule: no runs until it is resumed'],
    ['resume', 'resume a paused schedule'],
  ] as const) {
    schedule
      .command(action)
      .description(description)
      .argument('<id>', 'the schedule ID')
      .addHelpText('after', `\nExamples:\n  kloud remote schedule ${action} 5f0c3b9e-...`)
      .action(async (id: string, _opts, command: Command) => {
        const api = await remoteApi(ctx, command);
        const changed = await api.post<Schedule>(`${path(id)}/${action}`);
        ctx.output(command).print(changed, scheduleText);
      });
  }

  schedule
    .command('delete')
    .alias('rm')
    .description('delete a schedule (the tasks it started stay)')
    .argument('<id>', 'the schedule ID')
    .addHelpText('after', '\nExamples:\n  kloud remote schedule delete 5f0c3b9e-...')
    .action(async (id: string, _opts, command: Command) => {
      const api = await remoteApi(ctx, command);
      await api.call('DELETE', path(id));
      ctx.output(command).print({ id, deleted: true }, () => `deleted schedule ${id}`);
    });
}

/** The PUT body: the current definition with what the options change. */
async function definition(api: ApiClient, current: Schedule, opts: DefinitionOptions) {
  const type = opts.type ?? current.task.type;
  return {
    name: opts.name ?? current.name,
    expression: opts.expression ?? current.expression,
    timezone: opts.timezone ?? current.timezone,
    task: {
      type,
      appId: opts.app === undefined ? current.task.appId : await resolveAppId(api, opts.app),
      parameters: taskParameters(
        type,
        opts.parameters === undefined ? current.task.parameters : jsonObject(opts.parameters, '--parameters'),
        opts,
      ),
    },
  };
}

/** The task's parameters with the --keep-* options as a maintenance's own retention, if any are given. */
function taskParameters(
  type: string,
  parameters: Record<string, unknown>,
  flags: KeepFlags,
): Record<string, unknown> {
  const retention = retentionBody(flags);
  if (Object.keys(retention).length === 0) return parameters;
  if (type !== 'maintenance')
    throw usageError(
      `--keep-* options are a maintenance's retention, not a ${type}'s`,
      'add --type maintenance, or leave them out',
    );
  return { ...parameters, retention };
}

function lastRunText(schedule: Schedule): string {
  const run = schedule.lastRun;
  return run === undefined
    ? 'never'
    : `${run.at.slice(0, 19).replace('T', ' ')} ${run.state} (task ${run.taskId})`;
}

/** `kloud remote schedules`: ID, state, expression and zone, the task, the next run and the last. */
function scheduleLine(schedule: Schedule): string {
  const state = schedule.enabled ? 'enabled' : 'paused';
  const next = schedule.nextRuns[0] ?? '-';
  return `${schedule.id}  ${state.padEnd(7)}  ${schedule.expression} ${schedule.timezone}  ${schedule.task.type} app ${schedule.task.appId}  next ${next}  last ${lastRunText(schedule)}  ${terminalText(schedule.name)}`;
}

function scheduleText(schedule: Schedule): string {
  return [
    `schedule:   ${schedule.id}`,
    `name:       ${terminalText(schedule.name)}`,
    `state:      ${schedule.enabled ? 'enabled' : 'paused'}`,
    `expression: ${schedule.expression} (${schedule.timezone})`,
    `task:       ${schedule.task.type} on app ${schedule.task.appId} ${JSON.stringify(schedule.task.parameters)}`,
    `next runs:  ${schedule.nextRuns.length === 0 ? 'none' : schedule.nextRuns.join(', ')}`,
    `last run:   ${lastRunText(schedule)}`,
  ].join('\n');
}
