/** Secrets Manager as the secret store, each new secret encrypted with the stack's KMS key and tagged. */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SecretStore } from './secret-store.js';

/** Days a deleted secret can still be restored by an administrator. */
const RECOVERY_WINDOW_DAYS = 7;

export class SecretsManagerStore implements SecretStore {
  constructor(
    private readonly kmsKeyArn: string | undefined,
    private readonly client: SecretsManagerClient,
  ) {}

  async put(name: string, value: string): Promise<void> {
    try {
      await this.client.send(
        new CreateSecretCommand({
          Name: name,
          SecretString: value,
          KmsKeyId: this.kmsKeyArn,
          Tags: [{ Key: 'kloud', Value: 'store-app' }],
        }),
      );
    } catch (err) {
      if (!(err instanceof ResourceExistsException)) throw err;
      await this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
    }
  }

  async get(name: string): Promise<string | undefined> {
    try {
      const out = await this.client.send(new GetSecretValueCommand({ SecretId: name }));
      return out.SecretString;
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return undefined;
      throw err;
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: RECOVERY_WINDOW_DAYS }),
      );
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw err;
    }
  }
}
