/**
 * Where a store app's secrets (credentials and passphrase) live: Secrets Manager in AWS, a 0600
 * file in local mode. The table holds only the secret's name.
 */
export interface SecretStore {
  /** Creates the secret `name`, or replaces its value. */
  put(name: string, value: string): Promise<void>;
  /** The value, or undefined when there is no such secret. */
  get(name: string): Promise<string | undefined>;
  /** Removes the secret; nothing happens when there is none. */
  delete(name: string): Promise<void>;
}
