/**
 * `kloud remote check|sync|restore|maintenance` start tasks on the control plane (`backup`:
 * remote-backup.ts); `tasks`, `task` and
 * `cancel` look at them. With `--wait` a task is followed until it ends and the exit code says
 * how it ended, which is what a CI job needs.
 */
import { randomUUID } from 'node:crypto';
import { type Command, Option } from 'commander';
import { TASK_STATES, TASK_TYPES, type Task } from '../../layers/control/tasks/task.js';
import type { RetrievalPlan } from '../../layers/control/tasks/restore/restore-parameters.js';
import { daysOption, type RetrievalFlags, tierOption } from '../archive-retrieval.js';
import type { CommandContext } from '../context.js';
import { retrievalPlanText } from './remote-restore-plan.js';
import { CliError, EXIT, formatError, usageError } from '../failures/errors.js';
import { parseAge } from '../text/age.js';
import type { ApiClient } from '../remote/api-client.js';
import { resolveAppId } from '../remote/app-names.js';
import { remoteApi } from '../remote/remote-api.js';
import { followTask } from '../remote/task-follower.js';
import { outcomeText, startedText, taskLine, taskText } from '../remote/task-text.js';
import { type KeepFlags, addKeepOptions, retentionBody } from './keep-options.js';

interface WaitOptions {
  wait?: boolean;
  waitTimeout: string;
}

export interface StartOptions extends WaitOptions {
  idempotencyKey?: string;
}

export const WAIT_HELP = `
Prints the task and returns at once; with --wait it follows the task (a progress bar on a
terminal, a line per change in logs) and exits 0 only when it succeeded: 6 when it failed, with
the reason, 7 when it was cancelled, 5 when --wait-timeout ran out. Ctrl-C stops waiting, not the
task. Each request carries an Idempotency-Key (a new one, or --idempotency-key): repeating a
command with the same key gives the same task instead of a second one.`;

/** `--wait`, `--wait-timeout`, and for task-creating commands `--idempotency-key`. */
export function waitOptions(command: Command, creates: boolean): Command {
  command
    .option('--wait', 'follow the task until it ends; the exit code says how it ended')
    .option('--wait-timeout <age>', 'how long --wait waits at most (s, m, h, d)', '6h');
  if (creates)
    command.option(
      '--idempotency-key <key>',
      'the same key gives the same task (1-128 printable characters)',
    );
  return command;
}

export function registerRemoteTasks(group: Command, ctx: CommandContext): void {
  waitOptions(
    group
      .command('check')
      .description("start a check of an app's store: metadata, and with --read-data every byte")
      .argument('<app>', 'the app: its ID or name')
      .option('--read-data', 'read and verify every blob of the store')
      .addHelpText(
        'after',
        `${WAIT_HELP}\n\nExamples:\n  kloud remote check main --wait\n  kloud remote check main --read-data --wait --wait-timeout 2h`,
      ),
    true,
  ).action(async (ref: string, opts: StartOptions & { readData?: boolean }, command: Command) => {
    const api = await remoteApi(ctx, command);
    const appId = await resolveAppId(api, ref);
    await start(ctx, command, api, `/store-apps/${appId}/checks`, { readData: opts.readData === true }, opts);
  });

  waitOptions(
    group
      .command('sync')
      .description("copy an app's snapshots to or from another app's store")
      .argument('<app>', 'the app: its ID or name')
      .option('--to <peer>', 'copy into this app (ID or name)')
      .option('--from <peer>', 'copy from this app (ID or name)')
      .option('--snapshot <id...>', 'only these snapshots of the sending store (default: all)')
      .addHelpText(
        'after',
        `${WAIT_HELP}\n\nExamples:\n  kloud remote sync main --to offsite --wait\n  kloud remote sync main --from laptop --snapshot 1a2b3c4d latest`,
      ),
    true,
  ).action(
    async (
      ref: string,
      opts: StartOptions & { to?: string; from?: string; snapshot?: string[] },
      command: Command,
    ) => {
      if ((opts.to === undefined) === (opts.from === undefined)) {
        throw usageError(
          'sync needs --to PEER or --from PEER (one of them)',
          'e.g. kloud remote sync main --to offsite',
        );
      }
      const api = await remoteApi(ctx, command);
      const appId = await resolveAppId(api, ref);
      const peerAppId = await resolveAppId(api, (opts.to ?? opts.from)!);
      const body = {
        peerAppId,
        direction: opts.to === undefined ? 'from' : 'to',
        ...(opts.snapshot !== undefined && { snapshots: opts.snapshot }),
      };
      await start(ctx, command, api, `/store-apps/${appId}/syncs`, body, opts);
    },
  );

  waitOptions(
    group
      .command('restore')
      .description("restore paths of a snapshot onto another app's resource, or into a downloadable archive")
      .argument('<app>', 'the app whose store holds the snapshot: its ID or name')
      .argument('<snapshot>', 'latest, a snapshot ID or a unique prefix')
      .argument('[paths...]', 'absolute paths in the snapshot (default: /)')
      .option('--to-app <app>', "restore onto this app's resource (its bucket, SFTP server or directory)")
      .option('--path <path>', 'where below that resource (never inside a store)')
      .option('--archive', 'restore into a tar archive to download (its URL is in the result)')
      .addOption(
        new Option('--overwrite <policy>', 'what to do with files already there')
          .choices(['never', 'if-newer', 'always'])
          .default('never'),
      )
      .addOption(tierOption())
      .addOption(daysOption())
      .option(
        '--deadline <hours>',
        'from a cold app: fail the task when the retrieval takes longer (default: twice the typical time)',
        positiveNumber,
      )
      .option(
        '--dry-run',
        'print what the restore needs from archive storage, what it takes and costs; start nothing',
      )
      .addHelpText(
        'after',
        `${WAIT_HELP}\n\nFrom a cold app the task first retrieves the archived data packs the paths need (the state\nwaiting-for-retrieval, with the packs ready, the time left and the cost), then restores.\n\nExamples:\n  kloud remote restore main latest /etc --to-app scratch --path restored/etc --wait\n  kloud remote restore main 1a2b3c4d /home/me/docs --archive --wait\n  kloud remote restore cold latest /home --to-app scratch --path home --dry-run\n  kloud remote restore cold latest /home --to-app scratch --path home --tier bulk --wait`,
      ),
    true,
  ).action(
    async (
      ref: string,
      snapshot: string,
      paths: string[],
      opts: StartOptions &
        RetrievalFlags & {
          toApp?: string;
          path?: string;
          archive?: boolean;
          overwrite: string;
          deadline?: number;
          dryRun?: boolean;
        },
      command: Command,
    ) => {
      if (
        (opts.archive === true) === (opts.toApp !== undefined) ||
        (opts.toApp === undefined) !== (opts.path === undefined)
      ) {
        throw usageError(
          'restore needs --to-app APP --path PATH, or --archive',
          'e.g. kloud remote restore main latest /etc --to-app scratch --path restored',
        );
      }
      const api = await remoteApi(ctx, command);
      const appId = await resolveAppId(api, ref);
      const destination = opts.archive
        ? { archive: 'tar' }
        : { appId: await resolveAppId(api, opts.toApp!), path: opts.path! };
      const body = {
        snapshot,
        ...(paths.length > 0 && { paths }),
        destination,
        overwrite: opts.overwrite,
        retrieval: {
          tier: opts.tier,
          days: opts.days,
          ...(opts.deadline !== undefined && { deadlineHours: opts.deadline }),
        },
      };
      const path = `/store-apps/${appId}/restores`;
      if (opts.dryRun) {
        const plan = await api.post<RetrievalPlan>(path, { ...body, dryRun: true });
        ctx.output(command).print(plan, retrievalPlanText);
        return;
      }
      await start(ctx, command, api, path, body, opts);
    },
  );

  waitOptions(
    addKeepOptions(
      group
        .command('maintenance')
        .description(
          "forget an app's snapshots by a retention policy, then prune the store (space comes back)",
        )
        .argument('<app>', 'the app: its ID or name'),
    )
      .option('--dry-run', 'report what would be forgotten and freed, change nothing')
      .addHelpText(
        'after',
        `
Without --keep-* options the app's retention applies (set it with kloud remote apps retention).
Prune deletes in two runs a grace period (24 h) apart: a maintenance plans what is unused now,
and the next one (the next day's, on a schedule) deletes it. Two maintenances of one store never
run at once (409 STORE_BUSY).
${WAIT_HELP}

Examples:
  kloud remote maintenance main --dry-run --wait
  kloud remote maintenance main --keep-daily 7 --keep-weekly 5 --wait`,
      ),
    true,
  ).action(async (ref: string, opts: StartOptions & KeepFlags & { dryRun?: boolean }, command: Command) => {
    const api = await remoteApi(ctx, command);
    const appId = await resolveAppId(api, ref);
    const retention = retentionBody(opts);
    const body = {
      ...(Object.keys(retention).length > 0 && { retention }),
      dryRun: opts.dryRun === true,
    };
    await start(ctx, command, api, `/store-apps/${appId}/maintenance`, body, opts);
  });

  group
    .command('tasks')
    .description('list tasks, newest first')
    .option('--app <app>', "only this app's (ID or name)")
    .addOption(new Option('--state <state>', 'only tasks in this state').choices(TASK_STATES))
    .addOption(new Option('--type <type>', 'only tasks of this type').choices(TASK_TYPES))
    .option('--limit <n>', 'at most this many', positiveInteger, 25)
    .addHelpText(
      'after',
      '\nWith --json, one Task per line (NDJSON).\n\nExamples:\n  kloud remote tasks --app main --state failed\n  kloud remote tasks --json --limit 100 | jq -r .id',
    )
    .action(
      async (opts: { app?: string; state?: string; type?: string; limit: number }, command: Command) => {
        const api = await remoteApi(ctx, command);
        const appId = opts.app === undefined ? undefined : await resolveAppId(api, opts.app);
        const out = ctx.output(command);
        for await (const task of api.list<Task>(
          '/tasks',
          { appId, state: opts.state, type: opts.type },
          opts.limit,
        )) {
          out.print(task, taskLine);
        }
      },
    );

  waitOptions(
    group
      .command('task')
      .description('show a task; with --wait, follow it until it ends')
      .argument('<id>', 'the task ID')
      .addHelpText(
        'after',
        '\nWith --wait, the exit codes are those of check, sync and restore --wait.\n\nExamples:\n  kloud remote task 0f6e... --wait',
      ),
    false,
  ).action(async (id: string, opts: WaitOptions, command: Command) => {
    const api = await remoteApi(ctx, command);
    const task = await api.get<Task>(`/tasks/${encodeURIComponent(id)}`);
    if (opts.wait) await waitAndReport(ctx, command, api, task, opts);
    else ctx.output(command).print(task, taskText);
  });

  group
    .command('cancel')
    .description('cancel a queued or running task (what it did so far stays valid)')
    .argument('<id>', 'the task ID')
    .addHelpText('after', '\nExamples:\n  kloud remote cancel 0f6e...')
    .action(async (id: string, _opts, command: Command) => {
      const api = await remoteApi(ctx, command);
      const task = await api.post<Task>(`/tasks/${encodeURIComponent(id)}/cancel`);
      ctx.output(command).print(task, (t) => `task ${t.id} ${t.state}`);
    });
}

/** Creates the task (with an Idempotency-Key), then prints it, or follows it with --wait. */
export async function start(
  ctx: CommandContext,
  command: Command,
  api: ApiClient,
  path: string,
  body: Record<string, unknown>,
  opts: StartOptions,
): Promise<void> {
  // checked before the task is created: a bad value must not leave a task nobody follows
  if (opts.wait) parseAge(opts.waitTimeout);
  const key = opts.idempotencyKey ?? randomUUID();
  const task = await api.post<Task>(path, body, { 'Idempotency-Key': key });
  if (opts.wait) await waitAndReport(ctx, command, api, task, opts);
  else ctx.output(command).print(task, startedText);
}

/** Follows the task to its end, prints it, and sets the exit code from how it ended. */
async function waitAndReport(
  ctx: CommandContext,
  command: Command,
  api: ApiClient,
  task: Task,
  opts: WaitOptions,
): Promise<void> {
  const out = ctx.output(command);
  const ended = await followTask(api, task, ctx.runtime.stderr, parseAge(opts.waitTimeout));
  out.print(ended, (t) => outcomeText(t) || `task ${t.id} ${t.state}`);
  const failure = endFailure(ended);
  if (failure) {
    // the task is the answer (on stdout, also with --json); why it did not succeed is the error line
    out.note(formatError(failure).trimEnd());
    ctx.exitCode = failure.exitCode;
  }
}

function endFailure(task: Task): CliError | undefined {
  const see = `see it with: kloud remote task ${task.id}`;
  if (task.state === 'failed') {
    const reason = task.failure ? `${task.failure.code}: ${task.failure.message}` : 'no reason was recorded';
    return new CliError(`${task.type} task ${task.id} failed: ${reason}`, see, EXIT.taskFailed);
  }
  if (task.state === 'cancelled') {
    return new CliError(`${task.type} task ${task.id} was cancelled`, see, EXIT.taskCancelled);
  }
  return undefined;
}

function positiveNumber(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw usageError(`bad number "${text}"`, 'give a number above 0, e.g. 24');
  return n;
}

function positiveInteger(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw usageError(`bad number "${text}"`, 'give a whole number of at least 1');
  return n;
}
