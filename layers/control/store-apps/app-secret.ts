/** An app's secret as one JSON value in the secret store. */
import { Conflict } from '../errors.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { AppSecret } from './store-app.js';

export async function writeSecret(secrets: SecretStore, name: string, secret: AppSecret): Promise<void> {
  await secrets.put(name, JSON.stringify(secret));
}

export async function readSecret(secrets: SecretStore, name: string): Promise<AppSecret> {
  const value = await secrets.get(name);
  if (value === undefined)
    throw new Conflict(
      "the app's secret is gone from the secret store: update the app with its passphrase (and credentials)",
      'SECRET_MISSING',
    );
  return JSON.parse(value) as AppSecret;
}
