/**
 * `create` looks before it asks: where a store, or anything else, already is, it fails at once,
 * before a passphrase is asked (twice) and with nothing written.
 */
import { stat } from 'node:fs/promises';
import type { LocationState, StoreConnection } from '../../layers/kloset/index.js';
import { isEngineError } from '../failures/engine-errors.js';
import { CliError, EXIT, systemReason } from '../failures/errors.js';
import { explainStoreFailure, type StoreTarget } from '../store-session.js';

const NEW_PLACE = 'choose a new or empty directory';

export async function requireFreshLocation(target: StoreTarget, connection: StoreConnection): Promise<void> {
  const state = await probe(target, connection);
  if (state === 'store') {
    throw new CliError(
      `a store already exists at ${target.label}`,
      `use it (kloud at ${target.at} info), or choose a new directory`,
    );
  }
  if (state === 'other') throw new CliError(await whyOccupied(target), NEW_PLACE);
}

async function probe(target: StoreTarget, connection: StoreConnection): Promise<LocationState> {
  try {
    return await connection.probe();
  } catch (err) {
    if (isEngineError(err)) throw explainStoreFailure(err, target);
    throw new CliError(
      `cannot look into ${target.label}: ${systemReason(err)}`,
      'check the location',
      EXIT.failure,
      {
        cause: err,
      },
    );
  }
}

/** A local file is named as such; anything else is a place holding data that is not a store. */
async function whyOccupied(target: StoreTarget): Promise<string> {
  const { place, label } = target;
  const isFile =
    place.location.scheme === 'fs' &&
    (await stat(place.location.path).then(
      (st) => !st.isDirectory(),
      () => false,
    ));
  return isFile ? `${label} is a file, not a directory` : `${label} is not empty and is not a store`;
}
