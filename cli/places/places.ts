/**
 * Turns what the user typed (`/path`, `s3://...`, `@name`, `@name:sub`, `@name:/abs`) into the
 * location handed to the engine, and picks the store when no `at` is given.
 */
import { join } from 'node:path';
import type { Location } from '../../layers/kloset/core/location.js';
import { type AliasBook, type Role, connectorOptions } from './aliases.js';
import { ALIAS_NAME } from './config-file.js';
import { CliError, usageError } from '../failures/errors.js';
import { applyOverride, locationText, parseLocation, type PathContext } from './location.js';

export interface Place {
  /** What the engine receives: the location with its connector settings, an alias's among them. */
  location: Location;
  /** How messages name it: the path, or the URL with its own query (never an alias's options). */
  text: string;
  /** The alias's options (passphrase, connector settings); empty for a literal location. */
  options: Record<string, string>;
  alias?: string;
}

export interface PlaceContext extends PathContext {
  env: NodeJS.ProcessEnv;
  /** Loads the config only when an alias is actually needed. */
  aliases: () => Promise<AliasBook>;
}

export async function resolvePlace(arg: string, role: Role, ctx: PlaceContext): Promise<Place> {
  if (!arg.startsWith('@')) {
    const location = parseLocation(arg, ctx);
    return { location, text: locationText(location), options: {} };
  }
  const colon = arg.indexOf(':');
  const name = arg.slice(1, colon < 0 ? undefined : colon);
  if (!ALIAS_NAME.test(name)) {
    throw usageError(
      `bad alias reference "${arg}"`,
      'write @NAME, @NAME:relative/path or @NAME:/absolute/path',
    );
  }
  const alias = (await ctx.aliases()).get(role, name);
  const root = parseLocation(alias.location, ctx);
  const location = colon < 0 ? root : applyOverride(root, arg.slice(colon + 1));
  return {
    location: { ...location, options: { ...location.options, ...connectorOptions(alias.options) } },
    text: locationText(location),
    options: alias.options,
    alias: name,
  };
}

/** `at LOCATION`, else `$KLOUD_REPOSITORY`, else the default store alias, else `~/.kloud`. */
export async function selectStore(at: string | undefined, ctx: PlaceContext): Promise<Place> {
  const chosen = at ?? ctx.env.KLOUD_REPOSITORY;
  if (chosen) return resolvePlace(chosen, 'store', ctx);
  const fallback = (await ctx.aliases()).defaultAlias('store');
  if (fallback) return resolvePlace(`@${fallback.name}`, 'store', ctx);
  if (!ctx.home) {
    throw new CliError('no store given and HOME is not set', 'name one with: kloud at LOCATION COMMAND');
  }
  return resolvePlace(join(ctx.home, '.kloud'), 'store', ctx);
}

/** How messages name a place: `@home (/srv/backups)` for an alias, else the location. */
export function placeLabel(place: Place): string {
  return place.alias === undefined ? place.text : `@${place.alias} (${place.text})`;
}
