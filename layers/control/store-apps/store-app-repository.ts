/**
 * Store apps in the table. An app is its item (`APP#id`) plus a name claim
 * (`NAME#resourceId#name`) that makes names unique per resource with a conditional put. Without
 * transactions, writes are ordered so that a failure halfway leaves at most an unused claim
 * (which `claim` takes over when it points to no app) and never an app without its claim.
 */
import type { Page, Table } from '../data/table.js';
import { Conflict, NotFound } from '../errors.js';
import type { StoreAppRecord } from './store-app.js';

const LIST = 'APPS';
const appKey = (id: string) => ({ pk: `APP#${id}`, sk: 'APP' });
const nameKey = (resourceId: string, name: string) => ({ pk: `NAME#${resourceId}#${name}`, sk: 'NAME' });

function fromItem(item: Record<string, unknown>): StoreAppRecord {
  const record = { ...item };
  for (const key of ['pk', 'sk', 'gsi1pk', 'gsi1sk']) delete record[key];
  return record as unknown as StoreAppRecord;
}

export class StoreAppRepository {
  constructor(private readonly table: Table) {}

  /** Claims the app's name on its resource: 409 when another app has it. */
  async claimName(app: Pick<StoreAppRecord, 'id' | 'resourceId' | 'name'>): Promise<void> {
    const key = nameKey(app.resourceId, app.name);
    if (await this.table.putNew({ ...key, appId: app.id })) return;
    const holder = await this.table.get(key.pk, key.sk);
    const stale = holder && !(await this.table.get(appKey(String(holder.appId)).pk, 'APP'));
    // a claim left by a create that failed halfway: take it over, conditionally on it being gone
    if (
      stale &&
      (await this.table.delete(key.pk, key.sk)) &&
      (await this.table.putNew({ ...key, appId: app.id }))
    )
      return;
    throw new Conflict(
      `a store app named "${app.name}" already exists on ${app.resourceId}: choose another name`,
      'NAME_TAKEN',
    );
  }

  async releaseName(app: Pick<StoreAppRecord, 'resourceId' | 'name'>): Promise<void> {
    const key = nameKey(app.resourceId, app.name);
    await this.table.delete(key.pk, key.sk);
  }

  async insert(app: StoreAppRecord): Promise<void> {
    const inserted = await this.table.putNew({
      ...appKey(app.id),
      gsi1pk: LIST,
      gsi1sk: `${app.createdAt}#${app.id}`,
      ...app,
    });
    if (!inserted) throw new Conflict(`store app ${app.id} exists already`);
  }

  async get(id: string): Promise<StoreAppRecord> {
    const item = await this.table.get(appKey(id).pk, 'APP');
    if (!item) throw new NotFound(`no store app ${id}: see GET /store-apps`, 'APP_NOT_FOUND');
    return fromItem(item);
  }

  async list(limit: number, nextToken?: string): Promise<Page<StoreAppRecord>> {
    const page = await this.table.queryGsi1(LIST, limit, nextToken);
    return { ...page, items: page.items.map(fromItem) };
  }

  /** Writes `app` (version + 1) if nobody changed it since it was read at `app.version`. */
  async save(app: StoreAppRecord): Promise<StoreAppRecord> {
    const next = { ...app, version: app.version + 1 };
    const saved = await this.table.replace(
      { ...appKey(app.id), gsi1pk: LIST, gsi1sk: `${app.createdAt}#${app.id}`, ...next },
      app.version,
    );
    if (!saved)
      throw new Conflict(
        `store app ${app.id} changed meanwhile (or was removed): read it again and retry`,
        'CHANGED',
      );
    return next;
  }

  async remove(app: StoreAppRecord): Promise<void> {
    if (!(await this.table.delete(appKey(app.id).pk, 'APP')))
      throw new NotFound(`no store app ${app.id}: see GET /store-apps`, 'APP_NOT_FOUND');
    await this.releaseName(app);
  }
}
