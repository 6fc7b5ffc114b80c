/**
 * Aliases checked against the connector that will use them, by the engine's own rules: when one is
 * saved (refused, nothing written) and when one saved by an older kloud is used (named, with the fix).
 */
import { type Alias, badAliasError, connectorOptions, type Role } from './aliases.js';
import { isEngineError } from '../failures/engine-errors.js';
import { usageError } from '../failures/errors.js';
import type { Place } from './places.js';
import { type Engine, loadEngine } from '../store-session.js';

/** Refuses an alias that could never be opened, before the config is saved. */
export async function refuseUnusableAlias(role: Role, alias: Alias): Promise<void> {
  const engine = await loadEngine();
  try {
    engine.checkLocation(role, engine.parseLocation(alias.location, connectorOptions(alias.options)));
  } catch (err) {
    if (!isEngineError(err)) throw err;
    throw usageError(`${role} ${alias.name}: ${err.message}`, 'nothing was saved: fix or drop that option');
  }
}

/** Refuses to use an alias whose settings its connector would refuse, naming the alias and the fix. */
export function checkAliasInUse(engine: Engine, role: Role, place: Place): void {
  if (place.alias === undefined) return;
  try {
    engine.checkLocation(role, place.location);
  } catch (err) {
    if (!isEngineError(err)) throw err;
    throw badAliasError(role, place.alias, `@${place.alias} (${place.text})`, err);
  }
}
