import { KlosetError, corrupt } from '../core/errors.js';
import type { ObjectKind } from '../core/store-backend.js';

/** A store's location without its config: nothing there, or something that is not a store. */
export function noStoreAt(location: string, occupied: boolean): KlosetError {
  return occupied
    ? new KlosetError('NOT_A_STORE', `${location} exists but is not a kloud store (no config)`)
    : new KlosetError('STORE_NOT_FOUND', `no store at ${location} (create one with "create")`);
}

/** An object the store's index names but the location does not hold. */
export function missingObject(
  location: string,
  kind: ObjectKind,
  name: string,
  cause?: unknown,
): KlosetError {
  return corrupt(`${kind} object ${name.slice(0, 12)} is missing from ${location}`, cause);
}
