/**
 * Local mode's secret store: one JSON object `{ name: value }` in a file only its owner can read
 * (0600), replaced atomically (write beside, rename over) so a crash never leaves half a file.
 * Writes within the process go one after another.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SecretStore } from './secret-store.js';

export class FileSecretStore implements SecretStore {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly file: string) {}

  async put(name: string, value: string): Promise<void> {
    await this.update((secrets) => ({ ...secrets, [name]: value }));
  }

  async get(name: string): Promise<string | undefined> {
    await this.queue;
    return (await this.read())[name];
  }

  async delete(name: string): Promise<void> {
    await this.update(({ [name]: _gone, ...rest }) => rest);
  }

  private update(change: (secrets: Record<string, string>) => Record<string, string>): Promise<void> {
    const next = this.queue.then(async () => this.write(change(await this.read())));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async read(): Promise<Record<string, string>> {
    try {
      return JSON.parse(await readFile(this.file, 'utf8')) as Record<string, string>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
  }

  private async write(secrets: Record<string, string>): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${process.pid}.tmp`;
    await writeFile(temp, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
    await chmod(temp, 0o600);
    await rename(temp, this.file);
  }
}
