import { randomBytes } from 'node:crypto';
import { type FileHandle, link, mkdir, open, readFile, readdir, stat, unlink } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { KlosetError, errnoCode } from '../../core/errors.js';
import type {
  LocationState,
  ListedKind,
  ObjectInfo,
  ObjectKind,
  StoreBackend,
  TemporaryFile,
} from '../../core/store-backend.js';
import { OpenFiles } from './open-files.js';
import { missingObject, noStoreAt } from '../store-errors.js';
import { STORE_FOLDERS, objectPath } from '../store-layout.js';

/**
 * A store in a local directory:
 *   config, keys/<name>, index/<name>, packs/<first 2 hex>/<name>, tmp/ (in-flight writes)
 * Writes go to tmp/ and are hard-linked into place, which fails rather than replaces when the
 * name exists, so no object is ever overwritten and a crash never leaves a half-written object
 * under its final name.
 */
export class FsStore implements StoreBackend {
  readonly root: string;
  private readonly openFiles = new OpenFiles();

  constructor(readonly location: string) {
    this.root = resolve(location);
  }

  get localRoot(): string {
    return this.root;
  }

  private path(kind: ObjectKind, name: string): string {
    return join(this.root, objectPath(kind, name));
  }

  async probe(): Promise<LocationState> {
    const st = await stat(this.root).catch(() => undefined);
    if (!st) return 'absent';
    if (!st.isDirectory()) return 'other';
    const entries = await readdir(this.root);
    if (entries.includes('config')) return 'store';
    return entries.length === 0 ? 'empty' : 'other';
  }

  async prepare(): Promise<void> {
    let entries: string[] = [];
    try {
      const st = await stat(this.root);
      if (!st.isDirectory()) {
        throw new KlosetError('NOT_A_DIRECTORY', `${this.location} exists and is not a directory`);
      }
      entries = await readdir(this.root);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
    if (entries.includes('config'))
      throw new KlosetError('STORE_EXISTS', `a store already exists at ${this.location}`);
    if (entries.length > 0) {
      throw new KlosetError(
        'STORE_EXISTS',
        `${this.location} is not empty; choose an empty or new directory`,
      );
    }
    for (const dir of STORE_FOLDERS) await mkdir(join(this.root, dir), { recursive: true });
  }

  async put(kind: ObjectKind, name: string, parts: readonly Buffer[]): Promise<void> {
    const final = this.path(kind, name);
    const tmp = join(this.root, 'tmp', `${name.slice(0, 16)}-${randomBytes(6).toString('hex')}`);
    let fh: FileHandle | undefined = await open(tmp, 'wx', 0o600);
    try {
      await fh.writev(parts as Buffer[]);
      await fh.sync();
      await fh.close();
      fh = undefined;
      if (kind === 'packs') await mkdir(join(this.root, 'packs', name.slice(0, 2)), { recursive: true });
      // stores created before prune existed have no plans folder
      if (kind === 'plans') await mkdir(join(this.root, 'plans'), { recursive: true });
      try {
        await link(tmp, final);
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw err;
        if (kind === 'config')
          throw new KlosetError('STORE_EXISTS', `a store already exists at ${this.location}`);
        // content-addressed: an object with this name already holds these bytes
      }
    } finally {
      await fh?.close();
      await unlink(tmp).catch(() => undefined);
    }
  }

  async *listTemporary(): AsyncIterable<TemporaryFile> {
    const dir = join(this.root, 'tmp');
    for (const name of await this.readdirOrEmpty(dir)) {
      const st = await stat(join(dir, name)).catch(() => undefined);
      if (st?.isFile()) yield { name, size: st.size, modified: st.mtime };
    }
  }

  async removeTemporary(name: string): Promise<void> {
    await unlink(join(this.root, 'tmp', basename(name))).catch((err: unknown) => {
      if (errnoCode(err) !== 'ENOENT') throw err;
    });
  }

  async get(kind: ObjectKind, name: string): Promise<Buffer> {
    try {
      return await readFile(this.path(kind, name));
    } catch (err) {
      if (kind === 'config' && errnoCode(err) === 'ENOENT') throw await this.noStore();
      if (kind === 'config' && errnoCode(err) === 'ENOTDIR') {
        throw new KlosetError('NOT_A_DIRECTORY', `${this.location} is a file, not a store directory`);
      }
      throw this.missing(err, kind, name);
    }
  }

  private async noStore(): Promise<KlosetError> {
    const st = await stat(this.root).catch(() => undefined);
    return noStoreAt(this.location, st !== undefined);
  }

  async getRange(
    kind: ObjectKind,
    name: string,
    offset: number,
    length: number,
    into?: Buffer,
  ): Promise<Buffer> {
    try {
      return this.openFiles.read(this.path(kind, name), offset, length, into);
    } catch (err) {
      throw this.missing(err, kind, name);
    }
  }

  async stat(kind: ObjectKind, name: string): Promise<number | undefined> {
    try {
      return (await stat(this.path(kind, name))).size;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  async *list(kind: ListedKind): AsyncIterable<ObjectInfo> {
    const dirs = kind === 'packs' ? await this.readdirOrEmpty(join(this.root, 'packs')) : [''];
    for (const sub of dirs.sort()) {
      const dir = join(this.root, kind, sub);
      for (const name of (await this.readdirOrEmpty(dir)).sort()) {
        const size = (await stat(join(dir, name))).size;
        yield { name, size };
      }
    }
  }

  async delete(kind: ObjectKind, name: string): Promise<void> {
    try {
      await unlink(this.path(kind, name));
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }

  async close(): Promise<void> {
    this.openFiles.closeAll();
  }

  private async readdirOrEmpty(dir: string): Promise<string[]> {
    try {
      return await readdir(dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
  }

  private missing(err: unknown, kind: ObjectKind, name: string): Error {
    if (errnoCode(err) === 'ENOENT') return missingObject(this.location, kind, name, err);
    return err instanceof Error ? err : new Error(String(err));
  }
}
