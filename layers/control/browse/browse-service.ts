/** The store browser with the engine and the staging bucket: for the store-browse function only. */
import { KlosetAdapter } from '../engine/kloset-adapter.js';
import { services } from '../runtime/services.js';
import { AppStores } from '../store-apps/app-store.js';
import { FileDownloads } from './file-download.js';
import { StoreBrowser } from './store-browser.js';
import { planRestore } from '../tasks/restore/restore-plan.js';
import type { RestoreParameters, RetrievalPlan } from '../tasks/restore/restore-parameters.js';

let built: StoreBrowser | undefined;
let stores: AppStores | undefined;

function appStores(): AppStores {
  if (!stores) {
    const { settings, repository, secrets } = services();
    stores = new AppStores(
      settings,
      repository,
      secrets,
      new KlosetAdapter(settings.cacheDir, settings.indexMemoryBudget),
    );
  }
  return stores;
}

export function storeBrowser(): StoreBrowser {
  if (!built) {
    const { staging } = services();
    if (!staging) throw new Error('KLOUD_STAGING_BUCKET is not set: store-browse stages downloads there');
    built = new StoreBrowser(appStores(), new FileDownloads(staging));
  }
  return built;
}

/** A restore's dry run: its retrieval plan (C: cold restores). */
export function restorePlanner(): (appId: string, parameters: RestoreParameters) => Promise<RetrievalPlan> {
  return (appId, parameters) => planRestore(appStores(), appId, parameters);
}
