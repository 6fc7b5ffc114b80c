import { openLocation } from './connectors/open-location.js';
import type { LocationInput } from './core/location.js';
import type { LocationState, StoreBackend } from './core/store-backend.js';
import { type CreateOptions, type OpenOptions, Repository } from './repository/repository.js';
import type { StoreConfig } from './repository/store-config.js';
import { Store } from './store.js';

/**
 * One connection to a store's location, shared by the questions asked before a passphrase (what
 * is there, does it need a passphrase) and by the opening or the creation that follows: one
 * connector (one SSH handshake) and one read of the config per command.
 */
export class StoreConnection {
  private config?: Promise<StoreConfig>;
  /** the Store that `unlock` handed the connection to, which closes it from then on */
  private store?: Store;

  constructor(private readonly backend: StoreBackend) {}

  /** The location as messages name it (no settings: they may hold secrets). */
  get location(): string {
    return this.backend.location;
  }

  /** What is at the location, without a passphrase and without changing anything. */
  probe(): Promise<LocationState> {
    return this.backend.probe();
  }

  /** The store's config (chunking, compression, encryption): readable without the passphrase, read once. */
  readConfig(): Promise<StoreConfig> {
    this.config ??= Repository.readConfig(this.backend);
    return this.config;
  }

  async needsPassphrase(): Promise<boolean> {
    return (await this.readConfig()).encryption.algorithm !== 'none';
  }

  /** Opens the store on this connection; the Store owns the connection then (close the Store). */
  async unlock(opts: OpenOptions = {}): Promise<Store> {
    this.store = new Store(await Repository.open(this.backend, opts, await this.readConfig()));
    return this.store;
  }

  /** Creates a store at the (absent or empty) location; STORE_EXISTS where anything is. */
  create(opts: CreateOptions): Promise<StoreConfig> {
    return Repository.create(this.backend, opts);
  }

  /** Releases the connection, unless a Store it opened holds it. */
  async close(): Promise<void> {
    if (!this.store) await this.backend.close();
  }
}

/** Connects to the store at a location (the connector is chosen by its scheme); nothing is read yet. */
export async function connectStore(location: LocationInput): Promise<StoreConnection> {
  return new StoreConnection(await openLocation(location));
}

/** Runs `use` on a connection that is closed afterwards whatever happens. */
async function withConnection<T>(
  location: LocationInput,
  use: (c: StoreConnection) => Promise<T>,
): Promise<T> {
  const connection = await connectStore(location);
  try {
    return await use(connection);
  } finally {
    await connection.close();
  }
}

export function createStore(location: LocationInput, opts: CreateOptions): Promise<StoreConfig> {
  return withConnection(location, (c) => c.create(opts));
}

/** What is at a location, without a passphrase and without changing anything. */
export function probeLocation(location: LocationInput): Promise<LocationState> {
  return withConnection(location, (c) => c.probe());
}

/** A store's config (chunking, compression, encryption): readable without the passphrase. */
export function readStoreConfig(location: LocationInput): Promise<StoreConfig> {
  return withConnection(location, (c) => c.readConfig());
}

export function storeNeedsPassphrase(location: LocationInput): Promise<boolean> {
  return withConnection(location, (c) => c.needsPassphrase());
}

export function openStore(location: LocationInput, opts: OpenOptions = {}): Promise<Store> {
  return withConnection(location, (c) => c.unlock(opts));
}
