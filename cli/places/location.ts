/**
 * Locations as the command line writes them: the engine's grammar (a path, `fs:/path`,
 * `s3://bucket/prefix`, `sftp://user@host:port/path`), with local paths made absolute from the
 * working directory and `~`, and the `@alias:path` override rule.
 */
// the grammar alone, not the engine's index: commands that never open a store stay fast
import {
  type Location,
  formatLocation,
  locationBelow,
  parseLocation as parseEngineLocation,
} from '../../layers/kloset/core/location.js';
import { expandHome } from '../../layers/kloset/core/home.js';
import { isEngineError } from '../failures/engine-errors.js';
import { usageError } from '../failures/errors.js';
import { resolve } from 'node:path';

export interface PathContext {
  cwd: string;
  home?: string;
}

const FORMS = 'use a path, fs:/path, s3://bucket/prefix or sftp://user@host:port/path';

/** A location the user typed; local paths absolute. A location the engine refuses is a usage error. */
export function parseLocation(text: string, ctx: PathContext): Location {
  let location: Location;
  try {
    location = parseEngineLocation(text);
  } catch (err) {
    throw isEngineError(err) ? usageError(err.message, FORMS) : err;
  }
  if (location.scheme !== 'fs') return location;
  return { ...location, path: resolve(ctx.cwd, expandHome(location.path, ctx.home)) };
}

/** How the command line writes a location back: with the settings of its own query. */
export function locationText(location: Location): string {
  return formatLocation(location, { withOptions: true });
}

/** `rel` appends to the root's path; `/abs` replaces it; the scheme and place always stay. */
export const applyOverride = locationBelow;
