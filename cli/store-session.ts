/**
 * Opening (or creating) the store a command works on: choose it, find its passphrase, and explain
 * the two failures people meet most (no store there, wrong passphrase) in their own words.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Location, Store, StoreConnection } from '../layers/kloset/index.js';
import type { CommandContext } from './context.js';
import { fromEngineError, isEngineError } from './failures/engine-errors.js';
import { CliError, EXIT } from './failures/errors.js';
import { type Passphrase, type PassphraseSources, resolvePassphrase } from './passphrase/passphrase.js';
import { badAliasError } from './places/aliases.js';
import { type Place, placeLabel, resolvePlace, selectStore } from './places/places.js';

export type Engine = typeof import('../layers/kloset/index.js');

/** Loaded only by commands that use a store: importing the engine doubles the start-up time. */
export function loadEngine(): Promise<Engine> {
  return import('../layers/kloset/index.js');
}

export interface StoreTarget {
  engine: Engine;
  place: Place;
  /** The store as messages name it. */
  label: string;
  /** How to reach it again on the command line: `at ...`. */
  at: string;
}

export async function targetStore(ctx: CommandContext): Promise<StoreTarget> {
  const [engine, place] = await Promise.all([loadEngine(), selectStore(ctx.at, ctx.places())]);
  return storeTarget(ctx, engine, place);
}

/** A store named in a command's arguments (the other store of `sync`, say). */
export async function namedStore(ctx: CommandContext, arg: string): Promise<StoreTarget> {
  const [engine, place] = await Promise.all([loadEngine(), resolvePlace(arg, 'store', ctx.places())]);
  return storeTarget(ctx, engine, place);
}

function storeTarget(ctx: CommandContext, engine: Engine, place: Place): StoreTarget {
  const at = place.alias === undefined ? place.text : `@${place.alias}`;
  warnAboutConnector(ctx, engine, place.location);
  return { engine, place, label: placeLabel(place), at };
}

function passphraseSources(ctx: CommandContext, command: Command, place: Place): PassphraseSources {
  const { env, cwd, stdin, stderr } = ctx.runtime;
  return { file: ctx.options(command).passphraseFile, options: place.options, env, cwd, stdin, stderr };
}

export function askPassphrase(ctx: CommandContext, command: Command, target: StoreTarget, confirm: boolean) {
  return resolvePassphrase(passphraseSources(ctx, command, target.place), { label: target.label, confirm });
}

/** Opens the selected store, runs `use`, and closes the store whatever happens. */
export async function withStore<T>(
  ctx: CommandContext,
  command: Command,
  use: (store: Store, target: StoreTarget) => Promise<T>,
): Promise<T> {
  const target = await targetStore(ctx);
  const store = await openTarget(ctx, target, () => askPassphrase(ctx, command, target, false));
  try {
    return await use(store, target);
  } finally {
    await store.close();
  }
}

/**
 * Opens a store, asking for its passphrase only when it has one; the caller closes it. The
 * question and the opening share one connection and one read of the config.
 */
export async function openTarget(
  ctx: CommandContext,
  target: StoreTarget,
  ask: () => Promise<Passphrase>,
): Promise<Store> {
  const connection = await connectTarget(target);
  let passphrase: Passphrase | undefined;
  try {
    if (await connection.needsPassphrase()) passphrase = await ask();
    return await connection.unlock({ passphrase: passphrase?.value, cacheDir: cacheDir(ctx.runtime.env) });
  } catch (err) {
    await connection.close();
    throw explainStoreFailure(err, target, passphrase);
  }
}

/** A connection to the target's location (nothing is read yet); the caller closes it. */
export async function connectTarget(target: StoreTarget): Promise<StoreConnection> {
  try {
    return await target.engine.connectStore(target.place.location);
  } catch (err) {
    throw explainStoreFailure(err, target);
  }
}

/** Says once, before it is used, that a connector runs without a safety (an unchecked host key). */
export function warnAboutConnector(ctx: CommandContext, engine: Engine, location: Location): void {
  let warning: string | undefined;
  try {
    warning = engine.connectorWarning(location);
  } catch {
    return; // bad settings: opening the connector says what is wrong
  }
  if (warning) ctx.runtime.stderr.write(`warning: ${warning}\n`);
}

/** The engine's words for the failures people meet most, with the store named as they named it. */
export function explainStoreFailure(err: unknown, target: StoreTarget, passphrase?: Passphrase): unknown {
  if (!isEngineError(err)) return err;
  const because = { cause: err };
  switch (err.code) {
    case 'BUCKET_NOT_FOUND':
      return fromEngineError(err, `${target.label}: ${err.message}`);
    case 'STORE_NOT_FOUND':
      return new CliError(
        `no store at ${target.label}`,
        `create one with: kloud at ${target.at} create`,
        EXIT.failure,
        because,
      );
    case 'WRONG_PASSPHRASE':
      return new CliError(
        `wrong passphrase for ${target.label}${passphrase ? ` (from ${passphrase.source})` : ''}`,
        'give the right one (see "Passphrase" in kloud --help for where it is looked for)',
        EXIT.failure,
        because,
      );
    case 'NOT_A_DIRECTORY':
    case 'UNSUPPORTED': {
      // a location the engine cannot use (a file, a scheme it has no connector for yet)
      const what = err.message.includes(target.place.text) ? err.message : `${target.label}: ${err.message}`;
      const todo = err.code === 'NOT_A_DIRECTORY' ? 'check the location' : fromEngineError(err).todo;
      return new CliError(what, todo, EXIT.failure, because);
    }
    case 'INVALID_ARGUMENT':
      // an alias whose options the connector refuses: the config is wrong, not the command line
      if (target.place.alias === undefined) return err;
      return badAliasError('store', target.place.alias, target.label, err);
    default:
      return err;
  }
}

/** The merged-index cache: `$XDG_CACHE_HOME/kloud`, else `~/.cache/kloud`; none without either. */
function cacheDir(env: NodeJS.ProcessEnv): string | undefined {
  if (env.XDG_CACHE_HOME?.startsWith('/')) return join(env.XDG_CACHE_HOME, 'kloud');
  return env.HOME ? join(env.HOME, '.cache', 'kloud') : undefined;
}
