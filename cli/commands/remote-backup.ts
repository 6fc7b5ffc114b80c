/**
 * `kloud remote backup APP --from SOURCE_APP:PATH`: a backup task on the control plane, of the data
 * another app's resource holds (an S3 prefix, an SFTP path, a directory) into APP's store. Started
 * and followed as the other tasks are (remote-tasks.ts): --wait, exit codes, Idempotency-Key.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { usageError } from '../failures/errors.js';
import { resolveAppId } from '../remote/app-names.js';
import { remoteApi } from '../remote/remote-api.js';
import { start, type StartOptions, WAIT_HELP, waitOptions } from './remote-tasks.js';

/** `SOURCE_APP:PATH`: the app (ID or name, no colon) and the path below its resource (may be empty). */
function parseFrom(from: string): { app: string; path: string } {
  const colon = from.indexOf(':');
  if (colon <= 0)
    throw usageError(
      `bad --from "${from}": expected SOURCE_APP:PATH`,
      'e.g. kloud remote backup vault --from data-bucket:exports/',
    );
  return { app: from.slice(0, colon), path: from.slice(colon + 1) };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerRemoteBackup(group: Command, ctx: CommandContext): void {
  waitOptions(
    group
      .command('backup')
      .description(
        "back up what another app's resource holds (S3 prefix, SFTP path, directory) into an app's store",
      )
      .argument('<app>', 'the app whose store receives the snapshot: its ID or name')
      .requiredOption(
        '--from <source>',
        'SOURCE_APP:PATH: the app whose resource holds the data, and the path below it',
      )
      .option('--tag <tag>', 'a tag of the snapshot (repeat for more)', collect)
      .option('--exclude <pattern>', 'a glob pattern of paths not to back up (repeat for more)', collect)
      .addHelpText(
        'after',
        `${WAIT_HELP}\n\nThe progress bar counts batches: the plan cuts the source into batches that workers\nback up side by side.\n\nExamples:\n  kloud remote backup vault --from data-bucket:exports/ --wait\n  kloud remote backup vault --from files:/srv/www --tag nightly --exclude '*.tmp' --wait`,
      ),
    true,
  ).action(
    async (
      ref: string,
      opts: StartOptions & { from: string; tag?: string[]; exclude?: string[] },
      command: Command,
    ) => {
      const from = parseFrom(opts.from);
      const api = await remoteApi(ctx, command);
      const appId = await resolveAppId(api, ref);
      const body = {
        source: { appId: await resolveAppId(api, from.app), path: from.path },
        ...(opts.tag && { tags: opts.tag }),
        ...(opts.exclude && { excludes: opts.exclude }),
      };
      await start(ctx, command, api, `/store-apps/${appId}/backups`, body, opts);
    },
  );
}
