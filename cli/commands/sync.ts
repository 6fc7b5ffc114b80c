/** `kloud sync to|from|with STORE [SNAPSHOT...]`: snapshots copied between two stores. */
import { Argument, type Command } from 'commander';
import type { Store, SyncResult } from '../../layers/kloset/index.js';
import type { CommandContext } from '../context.js';
import { isEngineError } from '../failures/engine-errors.js';
import { CliError, EXIT, usageError } from '../failures/errors.js';
import { formatBytes, plural } from '../text/human-units.js';
import { shortId } from '../text/listing-text.js';
import { resolvePassphrase } from '../passphrase/passphrase.js';
import { withProgress } from '../text/progress.js';
import { askPassphrase, namedStore, openTarget, type StoreTarget, targetStore } from '../store-session.js';

type Direction = 'to' | 'from' | 'with';

interface SyncOptions {
  otherPassphraseFile?: string;
}

/** One direction of a sync, as `--json` prints it. */
interface SyncReport extends SyncResult {
  from: string;
  to: string;
}

export function registerSyncCommand(program: Command, ctx: CommandContext): void {
  program
    .command('sync')
    .description('copy snapshots to, from, or both ways with another store')
    .addArgument(new Argument('<direction>', 'to, from or with (both ways)').choices(['to', 'from', 'with']))
    .argument('<store>', 'the other store: a path, s3://bucket/prefix, sftp://host/path or @ALIAS')
    .argument('[snapshots...]', 'latest, snapshot IDs or unique prefixes in the sending store (default: all)')
    .option('--other-passphrase-file <file>', "read the other store's passphrase from FILE")
    .addHelpText(
      'after',
      `
The stores may have different passphrases, compression, encryption or chunking. A snapshot the
receiving store already has (copied earlier, in either direction) or has removed is skipped, so
sync can run again and again; an interrupted sync leaves whole snapshots only, and the next run
reuses what it had uploaded. Snapshots removed from the sending store are not copied.

Copies between stores that chunk alike are cheaper (no re-chunking): create the new store with
  kloud at NEW create --copy-chunking-from EXISTING

The other store's passphrase, first found: --other-passphrase-file, its alias's passphrase or
passphrase_cmd, $KLOUD_OTHER_PASSPHRASE, a prompt when stdin is a terminal. The store after
'at' takes its passphrase as every command does (--passphrase-file, $KLOUD_PASSPHRASE, ...).

With --json, one object per direction (NDJSON): { from, to, copied: [{ from, to }], skipped,
bytesRead, newBytes, storedBytes, warnings }.

What the sending store cannot list (a damaged index delta, an unreadable snapshot record) is
not copied: each is named on stderr and the exit code is 3 (partial); kloud repair may help.

Examples:
  kloud at /var/backups sync to @offsite
  kloud at @home sync to s3://my-bucket/kloud latest
  kloud at @offsite sync from /var/backups 1a2b3c 4d5e6f
  kloud at @laptop sync with @nas --other-passphrase-file ~/.nas-passphrase`,
    )
    .action(
      async (direction: Direction, other: string, refs: string[], opts: SyncOptions, command: Command) => {
        if (direction === 'with' && refs.length > 0) {
          throw usageError(
            'sync with copies every snapshot both ways',
            'name snapshots with sync to or sync from instead',
          );
        }
        const here = await targetStore(ctx);
        const there = await namedStore(ctx, other);
        const out = ctx.output(command);
        await withBothStores(ctx, command, here, there, opts, async (a, b) => {
          const mine: Side = { store: a, target: here };
          const theirs: Side = { store: b, target: there };
          const ways: Record<Direction, [Side, Side][]> = {
            to: [[mine, theirs]],
            from: [[theirs, mine]],
            with: [
              [mine, theirs],
              [theirs, mine],
            ],
          };
          for (const [from, to] of ways[direction]) {
            const report = await syncOneWay(ctx, from, to, refs);
            out.print(report, (r) =>
              r.copied.map((c) => `copied ${shortId(c.from)} as ${shortId(c.to)}`).join('\n'),
            );
            if (!out.json) out.note(describeSync(report, from.target, to.target));
            for (const what of report.warnings) out.note(`warning: not copied: ${what}`);
            if (report.warnings.length > 0) ctx.exitCode = EXIT.partial;
            if (report.copied.length > 0 && encrypted(from) && !encrypted(to))
              out.note(
                `note: ${to.target.label} is not encrypted: anyone who can read it can read these copies`,
              );
          }
        });
      },
    );
}

/** Opens both stores (each with its own passphrase), runs `use`, and closes them whatever happens. */
async function withBothStores<T>(
  ctx: CommandContext,
  command: Command,
  here: StoreTarget,
  there: StoreTarget,
  opts: SyncOptions,
  use: (a: Store, b: Store) => Promise<T>,
): Promise<T> {
  const a = await openTarget(ctx, here, () => askPassphrase(ctx, command, here, false));
  try {
    const b = await openTarget(ctx, there, () => otherPassphrase(ctx, there, opts.otherPassphraseFile)).catch(
      (err: unknown) => {
        throw adviseCreating(err, here, there);
      },
    );
    try {
      return await use(a, b);
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}

/** Never the first store's sources: one passphrase given for one store must not be tried on the other. */
function otherPassphrase(ctx: CommandContext, there: StoreTarget, file: string | undefined) {
  const { env, cwd, stdin, stderr } = ctx.runtime;
  return resolvePassphrase(
    {
      file,
      options: there.place.options,
      env,
      cwd,
      stdin,
      stderr,
      variables: ['KLOUD_OTHER_PASSPHRASE'],
      fileOption: '--other-passphrase-file',
    },
    { label: there.label, confirm: false },
  );
}

/** A missing other store is most likely one to create for this sync: say how, chunking alike. */
function adviseCreating(err: unknown, here: StoreTarget, there: StoreTarget): unknown {
  const cause = err instanceof CliError ? err.cause : err;
  if (!isEngineError(cause) || cause.code !== 'STORE_NOT_FOUND') return err;
  return new CliError(
    `no store at ${there.label}`,
    `create one with: kloud at ${there.at} create --copy-chunking-from ${here.at}`,
    undefined,
    { cause },
  );
}

/** One end of a sync: the open store and how the user named it. */
interface Side {
  store: Store;
  target: StoreTarget;
}

async function syncOneWay(ctx: CommandContext, from: Side, to: Side, refs: string[]): Promise<SyncReport> {
  const result = await withProgress(ctx.runtime.stderr, `sync to ${to.target.label}`, 'bytes', (progress) =>
    from.target.engine.syncSnapshots(from.store, to.store, {
      snapshots: refs,
      onProgress: (p) =>
        progress.update({
          done: p.bytesRead,
          detail: `snapshot ${Math.min(p.snapshots + 1, p.total)}/${p.total}`,
          path: p.snapshot && shortId(p.snapshot),
        }),
    }),
  );
  return { from: from.target.place.text, to: to.target.place.text, ...result };
}

function encrypted(side: Side): boolean {
  return side.store.config.encryption.algorithm !== 'none';
}

function describeSync(report: SyncReport, from: StoreTarget, to: StoreTarget): string {
  const skipped = report.skipped > 0 ? `, ${report.skipped} already there (or removed there)` : '';
  return (
    `${plural(report.copied.length, 'snapshot')} copied from ${from.label} to ${to.label}${skipped}; ` +
    `read ${formatBytes(report.bytesRead)}, added ${formatBytes(report.newBytes)}`
  );
}
