/** An app's secret as one JSON value in the secret store. */
import { ApiError } from '../errors.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { AppSecret } from './store-app.js';

export async function writeSecret(secrets: SecretStore, name: string, secret: AppSecret): Promise<void> {
  await secrets.put(name, JSON.stringify(secret));
}

/** The secret, or undefined when the secret store lost it. */
export async function findSecret(secrets: SecretStore, name: string): Promise<AppSecret | undefined> {
  const value = await secrets.get(name);
  return value === undefined ? undefined : (JSON.parse(value) as AppSecret);
}

export async function readSecret(secrets: SecretStore, name: string): Promise<AppSecret> {
  const secret = await findSecret(secrets, name);
  if (secret === undefined)
    throw new ApiError(
      409,
      'SECRET_MISSING',
      "the app's secret is gone from the secret store: update the app with its passphrase (and credentials)",
    );
  return secret;
}
