/**
 * Browsing the restore points of a ready store app: its snapshots, a directory's entries, one
 * file's bytes, the difference of two snapshots and a search, each a page. Every call opens the
 * store with the app's secret for its duration (AppStores.withStore) and reads metadata only,
 * except a file download, which reads the file's data.
 */
import { losslessNames } from '../../kloset/core/byte-names.js';
import type { EntryInfo } from '../../kloset/index.js';
import type { Page } from '../data/table.js';
import { retrievalNeeded } from '../engine/retrieval-needed.js';
import { isKlosetError } from '../engine/engine-answers.js';
import { Unprocessable } from '../errors.js';
import type { PageQuery } from '../api/common-schemas.js';
import type { AppStores } from '../store-apps/app-store.js';
import type {
  ChangeItem,
  EntryItem,
  FileAnswer,
  FoundItem,
  PathParameters,
  SnapshotItem,
} from './browse-schemas.js';
import { cursorKey, cursorToken, pageAfter } from './cursor-page.js';
import type { FileDownloads } from './file-download.js';
import { snapshotPath } from './snapshot-path.js';

const TYPES = { file: 'file', dir: 'directory', symlink: 'symlink' } as const;

/** The item with its names made JSON-safe for UTF-8 readers (`<field>Bytes` beside a name that is not UTF-8). */
function lossless<T extends object>(item: T): T {
  return losslessNames('', item) as T;
}

function entryItem(e: EntryInfo): EntryItem {
  return lossless({
    name: e.name,
    path: e.path,
    type: TYPES[e.type],
    size: e.size,
    mode: (e.mode & 0o7777).toString(8).padStart(4, '0'),
    mtime: e.mtime,
    ...(e.target !== undefined && { target: e.target }),
  });
}

function mapPage<T, U>(page: Page<T>, map: (item: T) => U): Page<U> {
  return { ...page, items: page.items.map(map) };
}

export class StoreBrowser {
  constructor(
    private readonly apps: AppStores,
    private readonly downloads: FileDownloads,
  ) {}

  /** The app's snapshots, newest first (those with `tag`, if given). */
  async snapshots(appId: string, query: PageQuery & { tag?: string }): Promise<Page<SnapshotItem>> {
    const app = await this.apps.readyApp(appId);
    return this.apps.withStore(app, async (store) => {
      const { snapshots } = await store.listSnapshots(query.tag === undefined ? {} : { tag: query.tag });
      const page = await pageAfter(snapshots, (s) => s.id, query.limit, query.nextToken);
      return mapPage(page, (s) =>
        lossless({
          id: s.id,
          time: s.time,
          hostname: s.hostname,
          sources: s.sources,
          tags: s.tags,
          size: s.summary.bytes,
          files: s.summary.files,
        }),
      );
    });
  }

  /** A directory's entries in name order (bytewise), or the one entry of a file or symlink. */
  async entries(
    appId: string,
    snapshotId: string,
    query: PageQuery & PathParameters,
  ): Promise<Page<EntryItem>> {
    const path = snapshotPath(query);
    const after = cursorKey(query.nextToken);
    const app = await this.apps.readyApp(appId);
    return this.apps.withStore(app, async (store) => {
      // one more than the page: whether there is a next page, without a second call
      const listed = await store.ls(snapshotId, path, {
        ...(after !== undefined && { after }),
        limit: query.limit + 1,
      });
      const items = listed.slice(0, query.limit);
      const more = listed.length > query.limit;
      return { items: items.map(entryItem), ...(more && { nextToken: cursorToken(items.at(-1)!.name) }) };
    });
  }

  /** A file's bytes: inline up to 1 MiB, else a presigned URL of its copy in the staging bucket. */
  async file(appId: string, snapshotId: string, query: PathParameters): Promise<FileAnswer> {
    const path = snapshotPath(query);
    const app = await this.apps.readyApp(appId);
    return this.apps.withStore(app, async (store) => {
      const snapshot = await store.resolveSnapshot(snapshotId);
      // a file's ls is its own entry; a directory's is its first child (or nothing)
      const [entry] = await store.ls(snapshot.id, path, { limit: 1 });
      const shown = path.toWellFormed();
      if (entry?.path !== path)
        throw new Unprocessable(
          `${shown} is a directory: list it with .../entries, or name a file`,
          'NOT_A_FILE',
        );
      if (entry.type === 'symlink')
        throw new Unprocessable(
          `${shown} is a symlink to ${entry.target!.toWellFormed()}: download what it points to`,
          'NOT_A_FILE',
        );
      try {
        return lossless(await this.downloads.download(store, app.id, snapshot.id, entry));
      } catch (err) {
        if (isKlosetError(err) && err.code === 'ARCHIVED')
          throw (await retrievalNeeded(store, snapshot.id, [path], 'downloaded')) ?? err;
        throw err;
      }
    });
  }

  /** What changed below `path` from snapshot `a` to snapshot `b`. */
  async diff(
    appId: string,
    a: string,
    b: string,
    query: PageQuery & PathParameters,
  ): Promise<Page<ChangeItem>> {
    const path = snapshotPath(query);
    const app = await this.apps.readyApp(appId);
    return this.apps.withStore(app, async (store) => {
      const changes = store.diff({ ref: a, path }, { ref: b, path });
      const page = await pageAfter(changes, (c) => c.path, query.limit, query.nextToken);
      return mapPage(page, (c) => lossless({ path: c.path, change: c.change, type: TYPES[c.type] }));
    });
  }

  /** Entries matching a glob, in every snapshot (newest first) or in one. */
  async search(
    appId: string,
    query: PageQuery & { pattern: string; snapshot?: string },
  ): Promise<Page<FoundItem>> {
    const app = await this.apps.readyApp(appId);
    return this.apps.withStore(app, async (store) => {
      const found = store.find(
        query.pattern,
        query.snapshot === undefined ? {} : { snapshot: query.snapshot },
      );
      // NUL is in no name: snapshot and path cannot run together
      const page = await pageAfter(
        found,
        (f) => `${f.snapshot.id}\0${f.entry.path}`,
        query.limit,
        query.nextToken,
      );
      return mapPage(page, ({ snapshot, entry }) =>
        lossless({
          snapshot: snapshot.id,
          path: entry.path,
          type: TYPES[entry.type],
          size: entry.size,
          mtime: entry.mtime,
        }),
      );
    });
  }
}
