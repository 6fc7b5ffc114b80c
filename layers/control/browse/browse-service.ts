/** The store browser with the engine and the staging bucket: for the store-browse function only. */
import { KlosetAdapter } from '../engine/kloset-adapter.js';
import { services } from '../runtime/services.js';
import { AppStores } from '../store-apps/app-store.js';
import { FileDownloads } from './file-download.js';
import { StoreBrowser } from './store-browser.js';

let built: StoreBrowser | undefined;

export function storeBrowser(): StoreBrowser {
  if (!built) {
    const { settings, repository, secrets, staging } = services();
    if (!staging) throw new Error('KLOUD_STAGING_BUCKET is not set: store-browse stages downloads there');
    const engine = new KlosetAdapter(settings.cacheDir, settings.indexMemoryBudget);
    built = new StoreBrowser(
      new AppStores(settings, repository, secrets, engine),
      new FileDownloads(staging),
    );
  }
  return built;
}
