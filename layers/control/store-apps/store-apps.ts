/** Adding, listing, changing and removing store apps. Removing one never touches its store's data. */
import { randomUUID } from 'node:crypto';
import type { Page } from '../data/table.js';
import { chooseIntegration } from '../integrations/integration-catalog.js';
import { parseResourceId } from '../inventories/resource.js';
import type { SftpServers } from '../inventories/sftp-servers.js';
import { Unprocessable } from '../errors.js';
import type { Settings } from '../runtime/settings.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { checkConfiguration, checkCredentials, connectorTarget, resolveTarget } from './app-placement.js';
import { writeSecret } from './app-secret.js';
import {
  publicView,
  type AppSecret,
  type CreateStoreAppBody,
  type StoreApp,
  type StoreAppRecord,
  type UpdateStoreAppBody,
} from './store-app.js';
import type { StoreAppRepository } from './store-app-repository.js';

export class StoreApps {
  constructor(
    private readonly settings: Settings,
    private readonly repository: StoreAppRepository,
    private readonly secrets: SecretStore,
    private readonly sftpServers: SftpServers,
  ) {}

  async create(input: CreateStoreAppBody): Promise<StoreApp> {
    const { subClass } = parseResourceId(input.resourceId);
    const { integration, protocol } = chooseIntegration(subClass, input);
    const configuration = checkConfiguration(protocol, input.configuration);
    const credentials = checkCredentials(protocol, input.credentials);
    const target = await resolveTarget(input.resourceId, this.settings, this.sftpServers);
    const id = randomUUID();
    const placed = connectorTarget({ target, protocol, configuration }, undefined, this.settings);
    const now = new Date().toISOString();
    const record: StoreAppRecord = {
      id,
      name: input.name,
      resourceId: input.resourceId,
      integration,
      protocol,
      storageType: input.storageType,
      configuration,
      location: placed.printable,
      hasCredentials: credentials !== undefined,
      state: 'created',
      createdAt: now,
      updatedAt: now,
      target,
      secretName: `${this.settings.secretPrefix}${id}`,
      version: 1,
    };
    await this.repository.claimName(record);
    try {
      await writeSecret(this.secrets, record.secretName, {
        passphrase: input.passphrase,
        ...(credentials && { credentials }),
      });
      await this.repository.insert(record);
    } catch (err) {
      await this.secrets.delete(record.secretName).catch(() => undefined);
      await this.repository.releaseName(record).catch(() => undefined);
      throw err;
    }
    return publicView(record);
  }

  async get(id: string): Promise<StoreApp> {
    return publicView(await this.repository.get(id));
  }

  async list(limit: number, nextToken?: string): Promise<Page<StoreApp>> {
    const page = await this.repository.list(limit, nextToken);
    return { ...page, items: page.items.map(publicView) };
  }

  /**
   * A change of configuration, credentials or passphrase sends the app back to `created`: the
   * last test no longer says anything about it. A retention policy changes nothing else.
   */
  async update(id: string, change: UpdateStoreAppBody): Promise<StoreApp> {
    const app = await this.repository.get(id);
    const configuration = change.configuration && checkConfiguration(app.protocol, change.configuration);
    const credentials =
      change.credentials === undefined ? undefined : checkCredentials(app.protocol, change.credentials);
    const placed = configuration && connectorTarget({ ...app, configuration }, undefined, this.settings);
    const secretChanged = change.passphrase !== undefined || change.credentials !== undefined;
    const secret = secretChanged ? wholeSecret(change, app.hasCredentials, credentials) : undefined;
    const renamed = change.name !== undefined && change.name !== app.name;
    const updated: StoreAppRecord = {
      ...app,
      ...(change.name && { name: change.name }),
      ...(change.storageType && { storageType: change.storageType }),
      ...(configuration && placed && { configuration, location: placed.printable }),
      ...(change.credentials !== undefined && { hasCredentials: credentials !== undefined }),
      ...(change.retention !== undefined && { retention: change.retention ?? undefined }),
      ...((configuration || secretChanged) && { state: 'created' as const, lastTest: undefined }),
      updatedAt: new Date().toISOString(),
    };
    if (renamed) await this.repository.claimName(updated);
    let saved: StoreAppRecord;
    try {
      saved = await this.repository.save(updated);
    } catch (err) {
      if (renamed) await this.repository.releaseName(updated).catch(() => undefined);
      throw err;
    }
    if (renamed) await this.repository.releaseName(app);
    // after the versioned save: a lost race writes no secret, and a failed write leaves the app
    // `created` (untested), which is safe
    if (secret) await writeSecret(this.secrets, app.secretName, secret);
    return publicView(saved);
  }

  /** Removes the app and its secret; the store at its location stays as it is. */
  async remove(id: string): Promise<void> {
    const app = await this.repository.get(id);
    await this.repository.remove(app);
    await this.secrets.delete(app.secretName);
  }
}

/**
 * The store-apps function may write secrets but never read them back (its role has no
 * GetSecretValue): a change of passphrase or credentials gives the whole secret.
 */
function wholeSecret(
  change: UpdateStoreAppBody,
  hasCredentials: boolean,
  credentials: Record<string, unknown> | undefined,
): AppSecret {
  if (change.passphrase === undefined)
    throw new Unprocessable(
      'passphrase: required when the credentials change (the secret is written whole, never read back)',
      'WHOLE_SECRET',
    );
  if (change.credentials === undefined && hasCredentials)
    throw new Unprocessable(
      'credentials: required with a new passphrase, as this app has credentials (null removes them): the secret is written whole, never read back',
      'WHOLE_SECRET',
    );
  return { passphrase: change.passphrase, ...(credentials && { credentials }) };
}
