/**
 * The control plane's only door to the Kloset engine: every engine call goes through here, so a
 * change of the engine's location or opening API is a change of this file alone.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  connectStore,
  KlosetError,
  type LocationState,
  parseLocation,
  type StoreConnection,
} from '../../kloset/index.js';
import type { ConnectorTarget } from './connector-target.js';

export type { LocationState };
export { KlosetError };

export class KlosetAdapter {
  /**
   * A call the Lambda timeout kills never reaches its `finally`: the keys it wrote would stay in
   * the sandbox. The adapter is made once per cold start, so that is when leftovers are removed.
   */
  private readonly swept: Promise<void>;

  constructor(private readonly cacheDir: string) {
    this.swept = rm(join(cacheDir, 'connector'), { recursive: true, force: true }).catch(() => undefined);
  }

  /**
   * What is at the target; where a store is, also opens it with `passphrase` (WRONG_PASSPHRASE
   * when it does not), on the same connection: one handshake, one read of the config.
   */
  test(target: ConnectorTarget, passphrase: string): Promise<LocationState> {
    return this.connected(target, async (connection) => {
      const state = await connection.probe();
      if (state === 'store') {
        const store = await connection.unlock({ passphrase, cacheDir: join(this.cacheDir, 'index') });
        await store.close();
      }
      return state;
    });
  }

  /**
   * Creates a store where nothing is yet (`absent` or `empty`), on the connection that looked:
   * answers what is there when it did not create one (`store` or `other`), else `created`.
   */
  initialize(target: ConnectorTarget, passphrase: string): Promise<LocationState | 'created'> {
    return this.connected(target, async (connection) => {
      const state = await connection.probe();
      if (state === 'store' || state === 'other') return state;
      await connection.create({ passphrase });
      return 'created';
    });
  }

  /**
   * Connects to the target for one call, its files (a key, known_hosts) written in a private
   * folder for the call's duration only.
   */
  private async connected<T>(target: ConnectorTarget, call: (c: StoreConnection) => Promise<T>): Promise<T> {
    const names = Object.keys(target.files);
    const dir = join(this.cacheDir, 'connector', randomUUID());
    const options = { ...target.options };
    await this.swept;
    try {
      if (names.length > 0) await mkdir(dir, { recursive: true, mode: 0o700 });
      for (const name of names) {
        options[name] = join(dir, name);
        await writeFile(options[name], target.files[name]!, { mode: 0o600 });
      }
      const connection = await connectStore(parseLocation(target.location, options));
      try {
        return await call(connection);
      } finally {
        await connection.close();
      }
    } finally {
      if (names.length > 0) await rm(dir, { recursive: true, force: true });
    }
  }
}
