/**
 * The control plane's only door to the Kloset engine: every engine call goes through here, so a
 * change of the engine's location or opening API is a change of this file alone.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createStore, KlosetError, openStore, probeLocation } from '../../kloset/index.js';
import type { ConnectorTarget } from './connector-target.js';

export type LocationState = 'absent' | 'empty' | 'store' | 'other';

export { KlosetError };

export class KlosetAdapter {
  constructor(private readonly cacheDir: string) {}

  probe(target: ConnectorTarget): Promise<LocationState> {
    return this.withOptions(target, (options) => probeLocation(target.location, options));
  }

  /** Opens the store with `passphrase` and closes it: WRONG_PASSPHRASE when it does not open it. */
  unlock(target: ConnectorTarget, passphrase: string): Promise<void> {
    return this.withOptions(target, async (options) => {
      const store = await openStore(target.location, { passphrase, options, cacheDir: this.storeCache() });
      await store.close();
    });
  }

  /** Creates the store; STORE_EXISTS where a store or anything else already is. */
  create(target: ConnectorTarget, passphrase: string): Promise<void> {
    return this.withOptions(target, async (options) => {
      await createStore(target.location, { passphrase, options });
    });
  }

  private storeCache(): string {
    return join(this.cacheDir, 'index');
  }

  /** Writes the target's files (a key, known_hosts) in a private folder for the call's duration only. */
  private async withOptions<T>(
    target: ConnectorTarget,
    call: (options: Record<string, string>) => Promise<T>,
  ) {
    const names = Object.keys(target.files);
    if (names.length === 0) return call(target.options);
    const dir = join(this.cacheDir, 'connector', randomUUID());
    await mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      const options = { ...target.options };
      for (const name of names) {
        options[name] = join(dir, name);
        await writeFile(options[name], target.files[name]!, { mode: 0o600 });
      }
      return await call(options);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
