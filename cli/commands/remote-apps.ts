/** `kloud remote apps list|show|create|test|initialize`: the control plane's store apps. */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { StoreApp, TestResult } from '../../layers/control/store-apps/store-app.js';
import type { CommandContext } from '../context.js';
import { CliError, EXIT, systemReason, usageError } from '../failures/errors.js';
import { resolvePassphrase } from '../passphrase/passphrase.js';
import { resolveAppId } from '../remote/app-names.js';
import { remoteApi } from '../remote/remote-api.js';
import { terminalText } from '../text/name-text.js';
import { type KeepFlags, addKeepOptions, retentionBody } from './keep-options.js';

interface CreateOptions {
  resource: string;
  storageType: string;
  integration?: string;
  protocol?: string;
  configuration?: string;
  credentialsFile?: string;
  passphraseFile?: string;
}

export function registerRemoteApps(group: Command, ctx: CommandContext): void {
  const apps = group
    .command('apps')
    .description("the control plane's store apps: list, show, create, test, initialize, retention")
    .addHelpText(
      'after',
      `
Examples:
  kloud remote apps list
  kloud remote apps create main --resource s3-bucket:my-backups --protocol s3 --configuration '{"prefix":"team"}'
  kloud remote apps test main && kloud remote apps initialize main`,
    );

  apps
    .command('list')
    .alias('ls')
    .description('list the store apps')
    .addHelpText(
      'after',
      '\nWith --json, one StoreApp per line (NDJSON).\n\nExamples:\n  kloud remote apps list',
    )
    .action(async (_opts, command: Command) => {
      const api = await remoteApi(ctx, command);
      const out = ctx.output(command);
      let count = 0;
      for await (const app of api.list<StoreApp>('/store-apps')) {
        out.print(app, appLine);
        count++;
      }
      if (count === 0 && !out.json)
        out.note('no store apps (add one with: kloud remote apps create NAME --resource ID)');
    });

  apps
    .command('show')
    .description('show one store app')
    .argument('<app>', 'the app: its ID or name')
    .addHelpText('after', '\nExamples:\n  kloud remote apps show main\n  kloud remote apps show main --json')
    .action(async (ref: string, _opts, command: Command) => {
      const api = await remoteApi(ctx, command);
      const app = await api.get<StoreApp>(`/store-apps/${await resolveAppId(api, ref)}`);
      ctx.output(command).print(app, appText);
    });

  apps
    .command('create')
    .description(
      'add a store app on a resource (its passphrase as for every command: --passphrase-file, ...)',
    )
    .argument('<name>', 'the app name (unique on its resource)')
    .requiredOption('--resource <id>', 'the resource: s3-bucket:NAME, directory:NAME, sftp-server:ID')
    .option('--storage-type <type>', 'standard or cold', 'standard')
    .option('--integration <id>', 'when several integrations fit the resource')
    .option('--protocol <protocol>', 'when the integration has several (s3, s3-compatible, ...)')
    .option('--configuration <json>', 'the protocol\'s configuration, a JSON object, e.g. {"prefix":"team"}')
    .option('--credentials-file <file>', "the protocol's credentials: a file holding a JSON object")
    .addHelpText(
      'after',
      `
The store passphrase, first found: --passphrase-file, $KLOUD_PASSPHRASE, a prompt (asked twice)
when stdin is a terminal. It is kept by the control plane and never shown again. docs/API.md
lists each protocol's configuration and credentials.

Examples:
  kloud remote apps create main --resource s3-bucket:my-backups --protocol s3 --configuration '{"prefix":"team"}'
  kloud remote apps create nas --resource sftp-server:ID --configuration '{"path":"/srv/kloud"}' \\
    --credentials-file nas-key.json --passphrase-file nas-passphrase`,
    )
    .action(async (name: string, opts: CreateOptions, command: Command) => {
      const all = command.optsWithGlobals<CreateOptions>();
      const { env, cwd, stdin, stderr } = ctx.runtime;
      const configuration =
        opts.configuration === undefined ? {} : jsonObject(opts.configuration, '--configuration');
      const credentials =
        opts.credentialsFile === undefined
          ? undefined
          : await credentialsFrom(resolve(cwd, opts.credentialsFile));
      const passphrase = await resolvePassphrase(
        { file: all.passphraseFile, options: {}, env, cwd, stdin, stderr },
        { label: `store app ${name}`, confirm: true },
      );
      const api = await remoteApi(ctx, command);
      const app = await api.post<StoreApp>('/store-apps', {
        resourceId: opts.resource,
        name,
        storageType: opts.storageType,
        ...(opts.integration !== undefined && { integration: opts.integration }),
        ...(opts.protocol !== undefined && { protocol: opts.protocol }),
        configuration,
        ...(credentials !== undefined && { credentials }),
        passphrase: passphrase.value,
      });
      ctx
        .output(command)
        .print(
          app,
          (a) =>
            `created store app ${a.name} (${a.id}) at ${terminalText(a.location)}\nnext: kloud remote apps test ${a.id}`,
        );
    });

  for (const [action, description, example] of [
    [
      'test',
      "test the connection to the app's location (a store there, empty, or what is wrong)",
      'kloud remote apps test main',
    ],
    [
      'initialize',
      "create the Kloset store at the app's location (after a test found it empty)",
      'kloud remote apps initialize main',
    ],
  ] as const) {
    apps
      .command(action)
      .description(description)
      .argument('<app>', 'the app: its ID or name')
      .addHelpText(
        'after',
        `\nExit code 1 when the app is left failed (the outcome says why).\n\nExamples:\n  ${example}`,
      )
      .action(async (ref: string, _opts, command: Command) => {
        const api = await remoteApi(ctx, command);
        const result = await api.post<TestResult>(`/store-apps/${await resolveAppId(api, ref)}/${action}`);
        ctx
          .output(command)
          .print(
            result,
            (r) => `${r.outcome}: ${terminalText(r.message)}\napp ${r.app.name} is ${r.app.state}`,
          );
        if (result.app.state === 'failed') ctx.exitCode = EXIT.failure;
      });
  }
  registerRetention(apps, ctx);
}

/** `kloud remote apps retention APP --keep-daily 7 ...`: the policy a maintenance applies by default. */
function registerRetention(apps: Command, ctx: CommandContext): void {
  addKeepOptions(
    apps
      .command('retention')
      .description("set the app's retention policy (what a maintenance keeps), or --clear it")
      .argument('<app>', 'the app: its ID or name'),
  )
    .option('--clear', 'remove the policy (a maintenance then needs --keep-* options)')
    .addHelpText(
      'after',
      `
The rules are those of kloud forget, per group of host and sources; at least one is needed (a
policy that keeps nothing is refused). The new policy replaces the old one whole.

Examples:
  kloud remote apps retention main --keep-daily 7 --keep-weekly 5 --keep-monthly 12
  kloud remote apps retention main --keep-within 30d --keep-tag release
  kloud remote apps retention main --clear`,
    )
    .action(async (ref: string, flags: KeepFlags & { clear?: boolean }, command: Command) => {
      const retention = retentionBody(flags);
      if ((Object.keys(retention).length === 0) === (flags.clear !== true)) {
        throw usageError(
          'retention needs --keep-* rules, or --clear (one of them)',
          'e.g. kloud remote apps retention main --keep-daily 7',
        );
      }
      const api = await remoteApi(ctx, command);
      const app = await api.call<StoreApp>('PATCH', `/store-apps/${await resolveAppId(api, ref)}`, {
        body: { retention: flags.clear ? null : retention },
      });
      ctx.output(command).print(app, (a) => `app ${a.name}: retention ${retentionText(a.retention)}`);
    });
}

function retentionText(retention: StoreApp['retention']): string {
  if (!retention) return 'none';
  const flag = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  return Object.entries(retention)
    .flatMap(([key, value]) =>
      Array.isArray(value)
        ? value.map((v) => `${flag(key).replace(/s$/, '')} ${v}`)
        : [`${flag(key)} ${value}`],
    )
    .join(' ');
}

function appLine(app: StoreApp): string {
  return `${app.id}  ${app.name}  ${app.state.padEnd(7)}  ${terminalText(app.location)}`;
}

function appText(app: StoreApp): string {
  const lines = [
    `id:           ${app.id}`,
    `name:         ${app.name}`,
    `state:        ${app.state}`,
    `location:     ${terminalText(app.location)}`,
    `resource:     ${app.resourceId}`,
    `protocol:     ${app.integration}/${app.protocol}`,
    `storage type: ${app.storageType}`,
    `credentials:  ${app.hasCredentials ? 'yes (kept by the control plane)' : 'none'}`,
    `retention:    ${terminalText(retentionText(app.retention))}`,
    `updated:      ${app.updatedAt}`,
  ];
  if (app.lastTest) {
    lines.push(
      `last test:    ${app.lastTest.outcome} at ${app.lastTest.at}: ${terminalText(app.lastTest.message)}`,
    );
  }
  return lines.join('\n');
}

export function jsonObject(text: string, option: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw usageError(`${option} takes a JSON object`, `e.g. ${option} '{"prefix":"team"}'`);
  }
  return value as Record<string, unknown>;
}

async function credentialsFrom(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(
      `cannot read ${file}: ${systemReason(err)}`,
      'give a file holding the credentials as a JSON object',
    );
  }
  // never quote the file: it holds secrets
  try {
    return jsonObject(text, '--credentials-file');
  } catch {
    throw usageError(`${file} does not hold a JSON object`, 'write the credentials as {"key": "value", ...}');
  }
}
