/** Commands on the store as a whole: `create`, `info`, `check`, `passwd`, `key add|ls|rm`. */
import { Option, type Command } from 'commander';
import type { CheckReport, StoreConfig, StoreInfo } from '../../layers/kloset/index.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../failures/errors.js';
import { requireFreshLocation } from '../places/fresh-location.js';
import { formatBytes, plural } from '../text/human-units.js';
import { resolveNewPassphrase } from '../passphrase/passphrase.js';
import { withProgress } from '../text/progress.js';
import {
  askPassphrase,
  connectTarget,
  explainStoreFailure,
  loadEngine,
  namedStore,
  type StoreTarget,
  targetStore,
  withStore,
} from '../store-session.js';

export function registerStoreCommands(program: Command, ctx: CommandContext): void {
  registerCreateCommand(program, ctx);
  registerInfoCommand(program, ctx);
  registerCheckCommand(program, ctx);
  registerPasswdCommand(program, ctx);
  registerKeyCommands(program, ctx);
}

interface CreateCommandOptions {
  plaintext?: boolean;
  compression?: 'zstd' | 'none';
  copyChunkingFrom?: string;
}

function registerCreateCommand(program: Command, ctx: CommandContext): void {
  program
    .command('create')
    .description('create a new store at the selected location')
    .option('--plaintext', 'do not encrypt (anyone who can read the store can read the backups)')
    .addOption(new Option('--compression <algorithm>', 'compression of new data').choices(['zstd', 'none']))
    .option(
      '--copy-chunking-from <store>',
      'chunk content as that store does, so sync copies between them without re-chunking',
    )
    .addHelpText(
      'after',
      `
--copy-chunking-from reads only the other store's config (no passphrase needed). Both stores
then cut files at the same places: someone who sees both stores' encrypted packs can tell that
they hold the same content, though not what it is.

Examples:
  kloud at /var/backups create
  KLOUD_PASSPHRASE=... kloud at @home create
  kloud at /srv/public-mirror create --plaintext
  kloud at @offsite create --copy-chunking-from /var/backups`,
    )
    .action((opts: CreateCommandOptions, command: Command) => createStore(ctx, command, opts));
}

/** Looks, then creates, on one connection: an occupied place fails before a passphrase is asked. */
async function createStore(ctx: CommandContext, command: Command, opts: CreateCommandOptions): Promise<void> {
  const target = await targetStore(ctx);
  const connection = await connectTarget(target);
  let config: StoreConfig;
  try {
    await requireFreshLocation(target, connection);
    const chunking =
      opts.copyChunkingFrom === undefined ? undefined : await chunkingOf(ctx, opts.copyChunkingFrom);
    const passphrase = opts.plaintext ? undefined : await askPassphrase(ctx, command, target, true);
    config = await connection
      .create({
        passphrase: passphrase?.value,
        plaintext: opts.plaintext,
        compression: opts.compression,
        chunking,
      })
      .catch((err: unknown) => {
        throw explainStoreFailure(err, target);
      });
  } finally {
    await connection.close();
  }
  const created = {
    location: target.place.text,
    storeId: config.storeId,
    encryption: config.encryption.algorithm,
    compression: config.compression.algorithm,
  };
  const out = ctx.output(command);
  out.print(
    created,
    (c) => `created store ${c.location} (id ${c.storeId.slice(0, 8)}, ${c.encryption}, ${c.compression})`,
  );
  if (opts.plaintext) out.note('note: this store is not encrypted');
}

/** Another store's chunking parameters, gear seed included, from its config alone. */
async function chunkingOf(ctx: CommandContext, store: string) {
  const other = await namedStore(ctx, store);
  try {
    return (await other.engine.readStoreConfig(other.place.location)).chunking;
  } catch (err) {
    throw explainStoreFailure(err, other);
  }
}

function registerInfoCommand(program: Command, ctx: CommandContext): void {
  program
    .command('info')
    .description('show how the store is configured and how much it holds')
    .addHelpText('after', '\nExample:\n  kloud at /var/backups info --json')
    .action(async (_opts, command: Command) => {
      const info = await withStore(ctx, command, (store) => store.info());
      const out = ctx.output(command);
      out.print(info, describeInfo);
      // the counts leave these out: say so, as ls does
      for (const what of info.unreadable) out.note(`warning: not counted: ${what}`);
      if (info.unreadable.length > 0) ctx.exitCode = EXIT.partial;
    });
}

function registerCheckCommand(program: Command, ctx: CommandContext): void {
  program
    .command('check')
    .description('verify the store: metadata, and with --read-data every stored byte')
    .option('--read-data', 'read and verify all data (slow: reads the whole store)')
    .addHelpText(
      'after',
      `
Exit code 4 when damage is found.

Examples:
  kloud at /var/backups check
  kloud at @home check --read-data --json`,
    )
    .action((opts: { readData?: boolean }, command: Command) => checkStore(ctx, command, opts));
}

async function checkStore(
  ctx: CommandContext,
  command: Command,
  opts: { readData?: boolean },
): Promise<void> {
  const report = await withStore(ctx, command, (store) =>
    withProgress(ctx.runtime.stderr, 'check', 'items', (progress) =>
      store.check({
        readData: opts.readData,
        onProgress: (p) => progress.update({ done: p.done, total: p.total, detail: p.phase }),
      }),
    ),
  ).catch(async (err: unknown) => {
    // a damaged config or key slot stops the open: that damage is the check's finding
    const damage = (await loadEngine()).accessDamageReport(err);
    if (!damage) throw err;
    return damage;
  });
  ctx.output(command).print(report, describeCheck);
  if (!report.ok) ctx.exitCode = EXIT.integrity;
}

function registerPasswdCommand(program: Command, ctx: CommandContext): void {
  program
    .command('passwd')
    .description("change the store's passphrase (the data is not re-encrypted)")
    .option('--new-passphrase-file <file>', 'read the new passphrase from FILE instead of asking')
    .addHelpText(
      'after',
      `
The passphrase that opens the store is replaced; other key slots stay (see kloud key).

Examples:
  kloud at /var/backups passwd
  kloud at @home passwd --passphrase-file old.txt --new-passphrase-file new.txt`,
    )
    .action(async (opts: { newPassphraseFile?: string }, command: Command) => {
      const slot = await withStore(ctx, command, async (store, target) =>
        store.changePassphrase((await newPassphrase(ctx, opts.newPassphraseFile, target)).value),
      );
      const out = ctx.output(command);
      out.print({ keySlot: slot }, () => `passphrase changed (key slot ${slot.slice(0, 8)})`);
      noteAliasPassphrase(ctx, command);
    });
}

function registerKeyCommands(program: Command, ctx: CommandContext): void {
  const key = program
    .command('key')
    .description("manage the store's key slots: each holds the master key under one passphrase")
    .addHelpText(
      'after',
      '\nExamples:\n  kloud at /var/backups key add\n  kloud at /var/backups key ls\n  kloud at /var/backups key rm 3f2a',
    );

  key
    .command('add')
    .description('add a passphrase that also opens the store')
    .addHelpText(
      'after',
      '\nExamples:\n  kloud at /var/backups key add\n  kloud at @home key add --new-passphrase-file second.txt',
    )
    .option('--new-passphrase-file <file>', 'read the new passphrase from FILE instead of asking')
    .action(async (opts: { newPassphraseFile?: string }, command: Command) => {
      const slot = await withStore(ctx, command, async (store, target) =>
        store.addKey((await newPassphrase(ctx, opts.newPassphraseFile, target)).value),
      );
      ctx.output(command).print({ keySlot: slot }, () => `added key slot ${slot.slice(0, 8)}`);
    });

  key
    .command('ls')
    .description('list the key slots')
    .addHelpText(
      'after',
      `
* marks the slot whose passphrase opened the store (--json: "current": true).

Examples:
  kloud at /var/backups key ls
  kloud at /var/backups key ls --json`,
    )
    .action(async (_opts, command: Command) => {
      const { slots, current } = await withStore(ctx, command, async (store) => ({
        slots: await store.keys(),
        current: store.currentKeySlot,
      }));
      const out = ctx.output(command);
      for (const slot of slots) {
        out.print(
          { ...slot, current: slot.id === current },
          (s) => `${s.current ? '*' : ' '} ${s.id.slice(0, 8)}  ${s.createdAt}  ${s.username}@${s.hostname}`,
        );
      }
    });

  key
    .command('rm')
    .description('remove a key slot (never the last one)')
    .addHelpText('after', '\nExample:\n  kloud at /var/backups key rm 3f2a9c')
    .argument('<id>', 'the slot ID or a unique prefix, as key ls shows it')
    .action(async (id: string, _opts, command: Command) => {
      await withStore(ctx, command, (store) => store.removeKey(id));
      ctx.output(command).print({ removed: id }, () => `removed key slot ${id}`);
    });
}

function newPassphrase(ctx: CommandContext, file: string | undefined, target: StoreTarget) {
  const { cwd, stdin, stderr } = ctx.runtime;
  return resolveNewPassphrase({ file, cwd, stdin, stderr }, target.label);
}

function noteAliasPassphrase(ctx: CommandContext, command: Command): void {
  ctx
    .output(command)
    .note(
      'note: an alias or $KLOUD_PASSPHRASE holding the old passphrase must be updated too (kloud store set NAME passphrase=...)',
    );
}

function describeInfo(info: StoreInfo): string {
  const kdf = info.kdf ? ` (${info.kdf.algorithm} N=${info.kdf.N} r=${info.kdf.r} p=${info.kdf.p})` : '';
  const { min, avg, max } = info.chunking;
  const rows: [string, string][] = [
    ['location', info.location],
    ['store id', info.storeId],
    ['created', info.createdAt],
    ['format', `version ${info.formatVersion}`],
    ['encryption', `${info.encryption}${kdf}`],
    ['compression', `${info.compression.algorithm} level ${info.compression.level}`],
    [
      'chunking',
      `${info.chunking.algorithm} ${formatBytes(min)} / ${formatBytes(avg)} / ${formatBytes(max)}`,
    ],
    ['pack size', formatBytes(info.packSize)],
    ['key slots', String(info.keySlots)],
    ['snapshots', String(info.snapshots)],
    ['packs', `${info.packs.data} data, ${info.packs.metadata} metadata`],
    ['logical size', formatBytes(info.logicalBytes)],
    ['unique data', `${formatBytes(info.uniqueBytes)} (dedup ratio ${info.dedupRatio})`],
    ['stored', `${formatBytes(info.storedBytes)} (compression ratio ${info.compressionRatio})`],
  ];
  return rows.map(([key, value]) => `${`${key}:`.padEnd(14)}${value}`).join('\n');
}

function describeCheck(report: CheckReport): string {
  const { stats } = report;
  const lines = [
    `checked ${plural(stats.snapshots, 'snapshot')}, ${plural(stats.packs, 'pack')}, ${plural(stats.blobs, 'blob')}` +
      (stats.bytesRead > 0 ? `, read ${formatBytes(stats.bytesRead)}` : ''),
    ...report.notes.map((note) => `note: ${note}`),
  ];
  for (const problem of report.problems) {
    lines.push(`problem: ${problem.message}`);
    if (problem.advice) lines.push(`  ${problem.advice}`);
    if (problem.snapshots.length > 0)
      lines.push(`  snapshots: ${problem.snapshots.map((id) => id.slice(0, 8)).join(', ')}`);
    for (const path of problem.paths) lines.push(`  ${path}`);
  }
  lines.push(report.ok ? 'no problems found' : `${plural(report.problems.length, 'problem')} found`);
  return lines.join('\n');
}
