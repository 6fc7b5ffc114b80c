/**
 * The Kloset store behind a ready store app, opened with the app's secret for one call: what
 * browsing and every task reach the store through.
 */
import type { KlosetAdapter, Store } from '../engine/kloset-adapter.js';
import { engineAnswer, isKlosetError } from '../engine/engine-answers.js';
import type { Settings } from '../runtime/settings.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { connectorTarget } from './app-placement.js';
import { readSecret } from './app-secret.js';
import { readyApp } from './ready-app.js';
import type { StoreAppRecord } from './store-app.js';
import type { StoreAppRepository } from './store-app-repository.js';

export class AppStores {
  constructor(
    private readonly settings: Settings,
    private readonly repository: StoreAppRepository,
    private readonly secrets: SecretStore,
    private readonly engine: KlosetAdapter,
  ) {}

  /** The app, refused with 409 APP_NOT_READY unless a store is initialized and tested there. */
  readyApp(appId: string): Promise<StoreAppRecord> {
    return readyApp(this.repository, appId);
  }

  /**
   * Opens the app's store for `call`. Engine errors become API answers (engineAnswer), so a
   * caller that wants another wording catches KlosetError inside `call`.
   */
  async withStore<T>(app: StoreAppRecord, call: (store: Store) => Promise<T>): Promise<T> {
    const secret = await readSecret(this.secrets, app.secretName);
    const target = connectorTarget(app, secret, this.settings);
    try {
      return await this.engine.withStore(target, secret.passphrase, call);
    } catch (err) {
      throw isKlosetError(err) ? engineAnswer(err) : err;
    }
  }
}
