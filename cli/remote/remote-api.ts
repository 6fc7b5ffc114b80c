/** The API client of one `kloud remote` command, from its connection options, the config and the environment. */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { ApiClient } from './api-client.js';
import { checkFlags, type ConnectionFlags, resolveConnection } from './connection.js';
import { RemoteBook } from './remotes.js';

export async function remoteApi(ctx: CommandContext, command: Command): Promise<ApiClient> {
  const flags = command.optsWithGlobals<ConnectionFlags>();
  checkFlags(flags);
  const remote = flags.remote === undefined ? undefined : (await remoteBook(ctx)).get(flags.remote);
  return new ApiClient(resolveConnection(flags, remote, ctx.runtime.env));
}

export async function remoteBook(ctx: CommandContext): Promise<RemoteBook> {
  return new RemoteBook(await ctx.configFile());
}
