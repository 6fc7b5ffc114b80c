/** Test Connection and Initialize Store, with the engine: for the store-actions function only. */
import { KlosetAdapter } from '../engine/kloset-adapter.js';
import { StoreAppActions } from '../store-apps/store-app-actions.js';
import { services } from './services.js';

let built: StoreAppActions | undefined;

export function storeActions(): StoreAppActions {
  if (!built) {
    const { settings, repository, secrets } = services();
    built = new StoreAppActions(
      settings,
      repository,
      secrets,
      new KlosetAdapter(settings.cacheDir, settings.indexMemoryBudget),
    );
  }
  return built;
}
