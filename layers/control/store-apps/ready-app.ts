/**
 * Whether a store app's store may be used: a check of its item alone, so that functions without
 * the engine (tasks) refuse what the engine's functions would (AppStores.readyApp).
 */
import { Conflict } from '../errors.js';
import type { StoreAppRecord } from './store-app.js';
import type { StoreAppRepository } from './store-app-repository.js';

/** The app, refused with 409 APP_NOT_READY unless a store is initialized and tested there. */
export async function readyApp(repository: StoreAppRepository, appId: string): Promise<StoreAppRecord> {
  const app = await repository.get(appId);
  if (app.state !== 'ready')
    throw new Conflict(
      `store app ${app.name} is ${app.state}, not ready: test its connection (and initialize the store) first`,
      'APP_NOT_READY',
    );
  return app;
}
