/**
 * Store apps in the table. An app is its item (`APP#id`) plus a name claim
 * (`NAME#resourceId#name`) that makes names unique per resource with a conditional put. Without
 * transactions, writes are ordered so that a failure halfway leaves at most an unused claim
 * and never an app without its claim. A claim whose app does not exist is either a create under
 * way (it writes the secret, then the app) or one that failed halfway: only a claim older than
 * any call can run is taken over, and a claim is deleted or taken over only while it still
 * names the app that was seen in it.
 */
import type { Page, Table } from '../data/table.js';
import { Conflict, NotFound } from '../errors.js';
import type { StoreAppRecord } from './store-app.js';

const LIST = 'APPS';
const appKey = (id: string) => ({ pk: `APP#${id}`, sk: 'APP' });
const nameKey = (resourceId: string, name: string) => ({ pk: `NAME#${resourceId}#${name}`, sk: 'NAME' });
const appNotFound = (id: string) => new NotFound(`no store app ${id}: see GET /store-apps`, 'APP_NOT_FOUND');
/** longer than any function's run time limit (29 s): a create this old has ended, one way or the other */
export const STALE_CLAIM_MS = 60_000;

function fromItem(item: Record<string, unknown>): StoreAppRecord {
  const record = { ...item };
  for (const key of ['pk', 'sk', 'gsi1pk', 'gsi1sk']) delete record[key];
  return record as unknown as StoreAppRecord;
}

export class StoreAppRepository {
  constructor(
    private readonly table: Table,
    private readonly now: () => number = Date.now,
  ) {}

  /** Claims the app's name on its resource: 409 when another app has it. */
  async claimName(app: Pick<StoreAppRecord, 'id' | 'resourceId' | 'name'>): Promise<void> {
    const key = nameKey(app.resourceId, app.name);
    const claim = { ...key, appId: app.id, claimedAt: new Date(this.now()).toISOString() };
    if (await this.table.putNew(claim)) return;
    const holder = await this.table.get(key.pk, key.sk);
    // a claim left by a create that failed halfway: take it over, only while it is the one seen
    if (
      holder &&
      (await this.isStale(holder)) &&
      (await this.table.delete(key.pk, key.sk, { appId: String(holder.appId) })) &&
      (await this.table.putNew(claim))
    )
      return;
    throw new Conflict(
      `a store app named "${app.name}" already exists on ${app.resourceId}: choose another name`,
      'NAME_TAKEN',
    );
  }

  /** Frees the app's name, unless another app has claimed it meanwhile. */
  async releaseName(app: Pick<StoreAppRecord, 'id' | 'resourceId' | 'name'>): Promise<void> {
    const key = nameKey(app.resourceId, app.name);
    await this.table.delete(key.pk, key.sk, { appId: app.id });
  }

  /** Old enough that no create can still be writing its app (a claim without a time predates them). */
  private async isStale(claim: Record<string, unknown>): Promise<boolean> {
    const age = this.now() - Date.parse(String(claim.claimedAt));
    if (age < STALE_CLAIM_MS) return false;
    return !(await this.table.get(appKey(String(claim.appId)).pk, 'APP'));
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
    if (!item) throw appNotFound(id);
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
    if (!(await this.table.delete(appKey(app.id).pk, 'APP'))) throw appNotFound(app.id);
    await this.releaseName(app);
  }
}
