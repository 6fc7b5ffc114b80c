import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { mapLimit } from '../../core/concurrency.js';
import { KlosetError } from '../../core/errors.js';
import type {
  LocationState,
  ListedKind,
  ObjectInfo,
  ObjectKind,
  StoreBackend,
  TemporaryFile,
} from '../../core/store-backend.js';
import { ReadHandles } from './read-handles.js';
import { isNoSuchFile } from './sftp-errors.js';
import { SftpConnector } from './sftp-connector.js';
import { missingObject, noStoreAt } from '../store-errors.js';
import { STORE_FOLDERS, objectPath } from '../store-layout.js';

/** folder listings in flight at once */
const LIST_CONCURRENCY = 8;

/**
 * A store in a directory on an SFTP server, laid out as the fs store (the same directory works
 * through either connector):
 *   config, keys/<name>, index/<name>, packs/<first 2 hex>/<name>, tmp/ (in-flight writes)
 * An object is written to tmp/ and renamed into place with the plain SFTP v3 rename, which
 * OpenSSH's server performs as link + unlink: it fails rather than replaces when the name exists
 * (posix-rename@openssh.com would replace, so it is not used here). Names are content hashes,
 * so losing a race to the same name is harmless; only `config` must not be written twice.
 */
export class SftpStore extends SftpConnector implements StoreBackend {
  /** packs/xx directories known to exist, to spare a round trip per put */
  private readonly packDirs = new Set<string>();
  private readonly readHandles = new ReadHandles(this.session);

  private path(kind: ObjectKind, name: string): string {
    return posix.join(this.root, objectPath(kind, name));
  }

  /** The root's entries, or undefined when it does not exist; NOT_A_DIRECTORY when it is something else. */
  private async rootEntries(): Promise<string[] | undefined> {
    try {
      const st = await this.session.stat(this.root);
      if (!st.isDirectory())
        throw new KlosetError('NOT_A_DIRECTORY', `${this.location} exists and is not a directory`);
    } catch (err) {
      if (isNoSuchFile(err)) return undefined;
      throw err;
    }
    return (await this.session.readdir(this.root)).map((e) => e.filename);
  }

  async probe(): Promise<LocationState> {
    try {
      const entries = await this.rootEntries();
      if (!entries) return 'absent';
      if (entries.includes('config')) return 'store';
      return entries.length === 0 ? 'empty' : 'other';
    } catch (err) {
      if (err instanceof KlosetError && err.code === 'NOT_A_DIRECTORY') return 'other';
      throw err;
    }
  }

  async prepare(): Promise<void> {
    const entries = (await this.rootEntries()) ?? [];
    if (entries.includes('config'))
      throw new KlosetError('STORE_EXISTS', `a store already exists at ${this.location}`);
    if (entries.length > 0)
      throw new KlosetError(
        'STORE_EXISTS',
        `${this.location} is not empty; choose an empty or new directory`,
      );
    await this.session.mkdirp(this.root);
    for (const dir of STORE_FOLDERS) await this.session.mkdirp(posix.join(this.root, dir));
  }

  async put(kind: ObjectKind, name: string, parts: readonly Buffer[]): Promise<void> {
    const final = this.path(kind, name);
    const tmp = posix.join(this.root, 'tmp', `${name.slice(0, 16)}-${randomBytes(6).toString('hex')}`);
    await this.writeTemp(tmp, parts);
    try {
      if (kind === 'packs') await this.packDir(name);
      // stores created before prune existed have no plans folder
      if (kind === 'plans') await this.session.mkdirp(posix.join(this.root, 'plans'));
      await this.session.rename(tmp, final);
    } catch (err) {
      await this.session.unlink(tmp).catch(() => undefined);
      // SFTP v3 has no "exists" status (OpenSSH answers FAILURE): look before judging
      if ((await this.stat(kind, name)) === undefined) throw err;
      if (kind === 'config')
        throw new KlosetError('STORE_EXISTS', `a store already exists at ${this.location}`);
      // content-addressed: an object with this name already holds these bytes
    }
  }

  /** Writes and flushes a new file in tmp/. */
  private async writeTemp(tmp: string, parts: readonly Buffer[]): Promise<void> {
    const fill = async (handle: Buffer) => {
      await this.session.writeAt(handle, tmp, parts);
      await this.session.fsync(handle, tmp);
    };
    try {
      await this.session.createFile(tmp, fill);
    } catch (err) {
      if (!isNoSuchFile(err)) throw err;
      // tmp/ holds nothing worth keeping, so a store copied without empty directories lacks it
      await this.session.mkdirp(posix.dirname(tmp));
      await this.session.createFile(tmp, fill);
    }
  }

  private async packDir(name: string): Promise<void> {
    const sub = name.slice(0, 2);
    if (this.packDirs.has(sub)) return;
    await this.session.mkdirp(posix.join(this.root, 'packs', sub));
    this.packDirs.add(sub);
  }

  async get(kind: ObjectKind, name: string): Promise<Buffer> {
    try {
      return await this.session.readFile(this.path(kind, name));
    } catch (err) {
      if (!isNoSuchFile(err)) throw err;
      if (kind === 'config') throw await this.noStore();
      throw missingObject(this.location, kind, name, err);
    }
  }

  private async noStore(): Promise<KlosetError> {
    return noStoreAt(this.location, (await this.rootEntries()) !== undefined);
  }

  async getRange(
    kind: ObjectKind,
    name: string,
    offset: number,
    length: number,
    into?: Buffer,
  ): Promise<Buffer> {
    try {
      return await this.readHandles.read(this.path(kind, name), offset, length, into);
    } catch (err) {
      throw isNoSuchFile(err) ? missingObject(this.location, kind, name, err) : err;
    }
  }

  async stat(kind: ObjectKind, name: string): Promise<number | undefined> {
    try {
      return (await this.session.stat(this.path(kind, name))).size;
    } catch (err) {
      if (isNoSuchFile(err)) return undefined;
      throw err;
    }
  }

  async *list(kind: ListedKind): AsyncIterable<ObjectInfo> {
    const top = posix.join(this.root, kind);
    const dirs =
      kind === 'packs'
        ? (await this.readdirOrEmpty(top)).filter((e) => e.attrs.isDirectory()).map((e) => e.filename)
        : [''];
    // the 256 pack folders are read a few at a time: one after another costs ~1,000 round trips
    const listed = await mapLimit(dirs.sort(), LIST_CONCURRENCY, (sub) =>
      this.readdirOrEmpty(posix.join(top, sub)),
    );
    for (const entries of listed) {
      const files = entries
        .filter((e) => e.attrs.isFile())
        .sort((a, b) => (a.filename < b.filename ? -1 : 1));
      for (const e of files) yield { name: e.filename, size: e.attrs.size };
    }
  }

  private async readdirOrEmpty(dir: string) {
    try {
      return await this.session.readdir(dir);
    } catch (err) {
      if (isNoSuchFile(err)) return [];
      throw err;
    }
  }

  async *listTemporary(): AsyncIterable<TemporaryFile> {
    for (const e of await this.readdirOrEmpty(posix.join(this.root, 'tmp'))) {
      if (e.attrs.isFile())
        yield { name: e.filename, size: e.attrs.size, modified: new Date(e.attrs.mtime * 1000) };
    }
  }

  async removeTemporary(name: string): Promise<void> {
    try {
      await this.session.unlink(posix.join(this.root, 'tmp', posix.basename(name)));
    } catch (err) {
      if (!isNoSuchFile(err)) throw err;
    }
  }

  async delete(kind: ObjectKind, name: string): Promise<void> {
    this.readHandles.forget(this.path(kind, name));
    try {
      await this.session.unlink(this.path(kind, name));
    } catch (err) {
      if (!isNoSuchFile(err)) throw err;
    }
  }

  override async close(): Promise<void> {
    this.readHandles.clear();
    await super.close();
  }
}
