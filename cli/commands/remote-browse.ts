/** `kloud remote snapshots|ls|get`: an app's restore points, their files, and one file's bytes. */
import type { Command } from 'commander';
import { open, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { CommandContext } from '../context.js';
import { CliError, EXIT, systemFailure, usageError } from '../failures/errors.js';
import type { ApiClient } from '../remote/api-client.js';
import { resolveAppId } from '../remote/app-names.js';
import { remoteApi } from '../remote/remote-api.js';
import {
  type RemoteEntry,
  remoteEntryLine,
  type RemoteFile,
  type RemoteSnapshot,
  remoteSnapshotLine,
} from '../remote/snapshot-text.js';
import { formatBytes } from '../text/human-units.js';
import { terminalText } from '../text/name-text.js';

const SNAPSHOT_HELP = 'latest, a snapshot ID or a unique prefix (4+ hex digits)';

export function registerRemoteBrowse(group: Command, ctx: CommandContext): void {
  group
    .command('snapshots')
    .description("list an app's snapshots (restore points), newest first")
    .argument('<app>', 'the app: its ID or name')
    .option('--tag <tag>', 'only snapshots with this tag')
    .addHelpText(
      'after',
      '\nWith --json, one snapshot per line (NDJSON): { id, time, hostname, sources, tags, size }.\n\nExamples:\n  kloud remote snapshots main\n  kloud remote snapshots main --tag daily --json',
    )
    .action(async (ref: string, opts: { tag?: string }, command: Command) => {
      const api = await remoteApi(ctx, command);
      const out = ctx.output(command);
      const path = `/store-apps/${await resolveAppId(api, ref)}/snapshots`;
      for await (const snapshot of api.list<RemoteSnapshot>(path, { tag: opts.tag })) {
        out.print(snapshot, remoteSnapshotLine);
      }
    });

  group
    .command('ls')
    .description('list a directory of a snapshot')
    .argument('<app>', 'the app: its ID or name')
    .argument('<snapshot>', SNAPSHOT_HELP)
    .argument('[path]', 'an absolute path in the snapshot', '/')
    .addHelpText(
      'after',
      '\nWith --json, one entry per line (NDJSON): { name, path, type, size, mode, mtime, target? }.\n\nExamples:\n  kloud remote ls main latest\n  kloud remote ls main 1a2b3c4d /etc/nginx',
    )
    .action(async (ref: string, snapshot: string, path: string, _opts, command: Command) => {
      const api = await remoteApi(ctx, command);
      const out = ctx.output(command);
      const route = `${await snapshotRoute(api, ref, snapshot)}/entries`;
      for await (const entry of api.list<RemoteEntry>(route, { path })) out.print(entry, remoteEntryLine);
    });

  group
    .command('get')
    .description('download one file of a snapshot, without a restore')
    .argument('<app>', 'the app: its ID or name')
    .argument('<snapshot>', SNAPSHOT_HELP)
    .argument('<path>', "the file's absolute path in the snapshot")
    .option('-o, --output <file>', 'write it to FILE (default: stdout, never a terminal)')
    .addHelpText(
      'after',
      `
Small files come in the API's answer; larger ones through a short-lived download link, which
kloud follows. The bytes are written to FILE, or to stdout when it is not a terminal. With --json
and no -o, the API's answer is printed instead ({ path, size, content (base64) } or
{ path, size, url, expiresAt }).

Examples:
  kloud remote get main latest /etc/hosts -o hosts
  kloud remote get main latest /var/log/app.log | tail`,
    )
    .action(
      async (ref: string, snapshot: string, path: string, opts: { output?: string }, command: Command) => {
        const out = ctx.output(command);
        const { stdout, cwd } = ctx.runtime;
        if (opts.output === undefined && !out.json && stdout.isTTY) {
          throw usageError(
            `not writing the bytes of ${terminalText(path)} to a terminal`,
            'give -o FILE, or redirect stdout',
          );
        }
        const api = await remoteApi(ctx, command);
        const file = await api.get<RemoteFile>(`${await snapshotRoute(api, ref, snapshot)}/file`, { path });
        if (opts.output === undefined && out.json) return out.print(file, () => '');
        const bytes =
          'content' in file
            ? Readable.from([Buffer.from(file.content, 'base64')])
            : await download(file.url, path);
        if (opts.output === undefined) {
          await expectSize(
            copy(bytes, (chunk) => out.write(chunk)),
            file,
          );
          return;
        }
        const target = resolve(cwd, opts.output);
        await writeFileFrom(bytes, target, file);
        out.print(
          { path: file.path, size: file.size, output: target },
          () => `wrote ${terminalText(file.path)} (${formatBytes(file.size)}) to ${target}`,
        );
      },
    );
}

/** The route of a snapshot of an app named by ID or name. */
async function snapshotRoute(api: ApiClient, ref: string, snapshot: string): Promise<string> {
  return `/store-apps/${await resolveAppId(api, ref)}/snapshots/${encodeURIComponent(snapshot)}`;
}

/** The body of a presigned URL (no authorization: the URL carries it). */
async function download(url: string, path: string): Promise<Readable> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new CliError(
      `cannot download ${terminalText(path)}: ${(err as { cause?: Error }).cause?.message ?? (err as Error).message}`,
      'check that this machine can reach the staging bucket, then run the command again',
      EXIT.unreachable,
      { cause: err, code: 'UNREACHABLE' },
    );
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    throw new CliError(
      `cannot download ${terminalText(path)}: the staging bucket answered HTTP ${response.status}`,
      'the download link lasts a few minutes: run the command again',
      EXIT.failure,
      { code: 'DOWNLOAD_FAILED' },
    );
  }
  return Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
}

async function copy(source: Readable, write: (chunk: Buffer) => Promise<unknown>): Promise<number> {
  let count = 0;
  for await (const chunk of source) {
    await write(chunk as Buffer);
    count += (chunk as Buffer).length;
  }
  return count;
}

async function expectSize(copied: Promise<number>, file: RemoteFile): Promise<void> {
  const count = await copied;
  if (count !== file.size) {
    throw new CliError(
      `${terminalText(file.path)}: received ${count} bytes of ${file.size}`,
      'the transfer was cut: run the command again',
      EXIT.failure,
      { code: 'TRUNCATED' },
    );
  }
}

/** Writes the file whole or not at all: a transfer that fails leaves no partial file behind. */
async function writeFileFrom(source: Readable, target: string, file: RemoteFile): Promise<void> {
  let handle;
  try {
    handle = await open(target, 'w', 0o644);
  } catch (err) {
    throw systemFailure(err) ?? err;
  }
  try {
    await expectSize(
      copy(source, (chunk) => handle.write(chunk)),
      file,
    );
    await handle.close();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(target, { force: true });
    throw systemFailure(err) ?? err;
  }
}
