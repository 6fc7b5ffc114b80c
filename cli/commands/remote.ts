/**
 * `kloud remote`: the control plane's API from a terminal or a CI job. This file holds the group,
 * its connection options and the named remotes (`add`, `list`, `rm`); the API's commands are in
 * remote-apps.ts, remote-tasks.ts,
 * remote-browse.ts and remote-schedules.ts.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { usageError } from '../failures/errors.js';
import { MASK } from '../places/aliases.js';
import { NEW_ALIAS_NAME } from '../places/config-file.js';
import { checkFlags, type ConnectionFlags, parseApiUrl } from '../remote/connection.js';
import { remoteBook } from '../remote/remote-api.js';
import type { Remote } from '../remote/remotes.js';
import { registerRemoteApps } from './remote-apps.js';
import { registerRemoteBackup } from './remote-backup.js';
import { registerRemoteBrowse } from './remote-browse.js';
import { registerRemoteSchedules } from './remote-schedules.js';
import { registerRemoteTasks } from './remote-tasks.js';

const GROUP_HELP = `
Which control plane, first found:
  URL:          --url, else the --remote's, else $KLOUD_URL
  credentials:  --token or --aws, else the --remote's, else $KLOUD_TOKEN, else SigV4
  SigV4 region: --region, else the --remote's, else the URL's host, else $AWS_REGION
Without a token, requests are signed with AWS SigV4 (service execute-api) using the AWS SDK's
default credential chain (environment, AWS_PROFILE or --profile, SSO, web identity, roles).
In CI, prefer KLOUD_TOKEN to --token: a command line is visible to other processes.

Apps are named by ID or by name. Task-creating commands (check, sync, restore) print the task
and return; with --wait they follow it and exit 0 only when it succeeded.

Exit codes:
  0  success (with --wait: the task succeeded)
  1  failure: the API refused (its error code is on the line), an unknown app or remote
  2  usage error
  5  --wait: the task is still running when --wait-timeout ran out
  6  --wait: the task failed (the reason is on the line)
  7  --wait: the task was cancelled
  8  the control plane could not be reached (refused, unknown host, no answer in time)
  130  Ctrl-C while waiting: the task goes on

Examples:
  kloud remote add prod https://abc123.execute-api.eu-west-1.amazonaws.com/v1 --aws
  kloud remote add local http://127.0.0.1:4710 --token "$(cat .kloud-local/token)"
  kloud remote --remote prod apps list
  KLOUD_URL=http://127.0.0.1:4710 KLOUD_TOKEN=... kloud remote check main --wait`;

interface RemoteView {
  name: string;
  url: string;
  authorization: 'token' | 'aws';
  token?: string;
  region?: string;
  profile?: string;
}

export function registerRemoteCommands(program: Command, ctx: CommandContext): void {
  const group = program
    .command('remote')
    .description('call a kloud control plane: store apps, checks, syncs, restores, browsing, schedules')
    .option('--remote <name>', 'a control plane added with kloud remote add')
    .option('--url <url>', 'the API base URL (default: $KLOUD_URL)')
    .option('--token <token>', 'bearer token of local mode (default: $KLOUD_TOKEN)')
    .option('--aws', 'sign requests with AWS SigV4 (the default without a token)')
    .option('--region <region>', 'AWS region of the API, for SigV4')
    .option('--profile <profile>', 'AWS profile for SigV4 credentials')
    .addHelpText('after', GROUP_HELP);
  group.hook('preAction', () => {
    if (ctx.at !== undefined) {
      throw usageError(`'at ${ctx.at}' does not apply to 'remote' commands`, 'drop it: kloud remote ...');
    }
  });
  registerNamedRemotes(group, ctx);
  registerRemoteApps(group, ctx);
  registerRemoteTasks(group, ctx);
  registerRemoteBackup(group, ctx);
  registerRemoteBrowse(group, ctx);
  registerRemoteSchedules(group, ctx);
}

function registerNamedRemotes(group: Command, ctx: CommandContext): void {
  group
    .command('add')
    .description('name a control plane, with how to authorize to it')
    .argument('<name>', 'the name, used as --remote NAME')
    .argument('<url>', "the API base URL: the stack output ApiUrl, or local mode's url")
    .addHelpText(
      'after',
      `
The connection options of 'kloud remote' are saved with it: --token (local mode), or --aws
(SigV4; the default without a token) with --region and --profile when the URL does not tell.
Remotes are kept in the CLI's config file (kloud --help), mode 0600.

Examples:
  kloud remote add prod https://abc123.execute-api.eu-west-1.amazonaws.com/v1 --aws --profile ops
  kloud remote add local http://127.0.0.1:4710 --token "$(cat .kloud-local/token)"`,
    )
    .action(async (name: string, url: string, _opts, command: Command) => {
      const flags = command.optsWithGlobals<ConnectionFlags>();
      if (flags.remote !== undefined || flags.url !== undefined) {
        throw usageError('kloud remote add takes the URL as its argument', 'drop --remote and --url');
      }
      checkFlags(flags);
      if (!NEW_ALIAS_NAME.test(name)) {
        throw usageError(
          `bad remote name "${name}"`,
          'use up to 64 letters, digits, ".", "_" and "-", starting with a letter or digit',
        );
      }
      const entry = {
        url: parseApiUrl(url).href,
        ...(flags.token === undefined ? { aws: true } : { token: flags.token }),
        ...(flags.region !== undefined && { region: flags.region }),
        ...(flags.profile !== undefined && { profile: flags.profile }),
      };
      const book = await remoteBook(ctx);
      const remote = book.add(name, entry);
      await (await ctx.configFile()).save();
      const how = remote.aws ? 'AWS SigV4' : 'a bearer token';
      ctx.output(command).print(view(remote, false), () => `added remote ${name}: ${remote.url} (${how})`);
    });

  group
    .command('list')
    .description('list the named control planes (tokens masked)')
    .option('--secrets', 'show tokens in clear')
    .addHelpText('after', '\nExamples:\n  kloud remote list\n  kloud remote list --json --secrets')
    .action(async (opts: { secrets?: boolean }, command: Command) => {
      const views = (await remoteBook(ctx)).list().map((remote) => view(remote, opts.secrets === true));
      const out = ctx.output(command);
      if (views.length === 0 && !out.json) out.note('no remotes (add one with: kloud remote add NAME URL)');
      for (const remote of views) out.print(remote, describe);
    });

  group
    .command('rm')
    .description('forget a named control plane (nothing changes there)')
    .argument('<name>', 'the remote')
    .addHelpText('after', '\nExamples:\n  kloud remote rm local')
    .action(async (name: string, _opts, command: Command) => {
      (await remoteBook(ctx)).remove(name);
      await (await ctx.configFile()).save();
      ctx.output(command).print({ name, removed: true }, () => `removed remote ${name}`);
    });
}

function view(remote: Remote, secrets: boolean): RemoteView {
  return {
    name: remote.name,
    url: remote.url,
    authorization: remote.token === undefined ? 'aws' : 'token',
    ...(remote.token !== undefined && { token: secrets ? remote.token : MASK }),
    ...(remote.region !== undefined && { region: remote.region }),
    ...(remote.profile !== undefined && { profile: remote.profile }),
  };
}

function describe(remote: RemoteView): string {
  const how =
    remote.authorization === 'token'
      ? `token ${remote.token}`
      : [
          'aws',
          ...(remote.region ? [`region ${remote.region}`] : []),
          ...(remote.profile ? [`profile ${remote.profile}`] : []),
        ].join(' ');
  return `${remote.name}  ${remote.url}  ${how}`;
}
