/**
 * Where a restore writes, or a backup reads, when it names a store app: that app's resource (its
 * S3 bucket, SFTP server or directory) with its credentials, at `path` instead of the app's store
 * location, checked as the app's own location is (an `s3` prefix stays within the deployment's
 * store buckets), and never overlapping a store: restored files would mix with its objects, and
 * a backup would read packs being written (a store is copied with a sync).
 */
import { ApiError, Unprocessable } from '../../errors.js';
import type { ConnectorTarget } from '../../engine/connector-target.js';
// the location grammar alone, imported directly (as the protocols do)
import { parseLocation } from '../../../kloset/core/location.js';
import type { Settings } from '../../runtime/settings.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import { checkConfiguration, connectorTarget } from '../../store-apps/app-placement.js';
import { readSecret } from '../../store-apps/app-secret.js';
import type { StoreAppRecord } from '../../store-apps/store-app.js';
import type { StoreAppRepository } from '../../store-apps/store-app-repository.js';

export interface AppDestination {
  readonly appId: string;
  readonly path: string;
}

/** What the place is for: the words and codes of a refusal. */
export type PlaceUse = 'destination' | 'source';

const REFUSALS = {
  destination: { verb: 'restore into', field: 'destination', code: 'DESTINATION' },
  source: { verb: 'back up', field: 'source', code: 'SOURCE' },
} as const;

/** The configuration field that places a store inside its app's resource. */
const PLACE_FIELD = { fs: 'path', s3: 'prefix', 's3-compatible': 'prefix', sftp: 'path' } as const;

export class DestinationTargets {
  constructor(
    private readonly settings: Settings,
    private readonly repository: StoreAppRepository,
    private readonly secrets: SecretStore,
  ) {}

  /**
   * The destination's target (with the app's credentials), refused where it overlaps the store of
   * any app (apps share buckets, servers and directories: the source's and the destination's are
   * only two of them).
   */
  async target(destination: AppDestination, use: PlaceUse = 'destination'): Promise<ConnectorTarget> {
    const app = await this.repository.get(destination.appId);
    const secret = await readSecret(this.secrets, app.secretName);
    return this.outsideStores(
      connectorTarget(placedAt(app, destination.path, use), secret, this.settings),
      use,
    );
  }

  /**
   * What the destination is, without secrets, refused as `target` refuses it: the restore's
   * exclusive key and its result's `destination`, checked when the restore is asked for.
   */
  async printable(destination: AppDestination, use: PlaceUse = 'destination'): Promise<string> {
    const app = await this.repository.get(destination.appId);
    const target = connectorTarget(placedAt(app, destination.path, use), undefined, this.settings);
    return (await this.outsideStores(target, use)).printable;
  }

  private async outsideStores(target: ConnectorTarget, use: PlaceUse): Promise<ConnectorTarget> {
    for await (const store of this.allApps()) {
      const storeTarget = placeOf(store, this.settings);
      if (storeTarget && overlaps(target, storeTarget))
        throw new Unprocessable(
          `cannot ${REFUSALS[use].verb} ${target.printable}: it overlaps the store of app ${store.name} (${storeTarget.printable}); choose a path outside it`,
          `${REFUSALS[use].code}_IN_STORE`,
        );
    }
    return target;
  }

  private async *allApps(): AsyncGenerator<StoreAppRecord> {
    let nextToken: string | undefined;
    do {
      const page = await this.repository.list(100, nextToken);
      yield* page.items;
      nextToken = page.nextToken;
    } while (nextToken);
  }
}

/** Where an app's store is; undefined for an app the deployment no longer allows (it reaches nothing). */
function placeOf(app: StoreAppRecord, settings: Settings): ConnectorTarget | undefined {
  try {
    return connectorTarget(app, undefined, settings);
  } catch (err) {
    if (err instanceof ApiError) return undefined;
    throw err;
  }
}

/** The app with `path` in place of its store location, checked as the app's own configuration is. */
function placedAt(app: StoreAppRecord, path: string, use: PlaceUse): StoreAppRecord {
  const configuration = { ...app.configuration, [PLACE_FIELD[app.protocol]]: path };
  try {
    checkConfiguration(app.protocol, configuration);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    throw new Unprocessable(
      `${REFUSALS[use].field}.path does not fit the ${app.protocol} app ${app.name}: ${err.message}`,
      `INVALID_${REFUSALS[use].code}`,
    );
  }
  return { ...app, configuration };
}

/** Whether two targets are one place or one is inside the other (same service, nested paths). */
function overlaps(a: ConnectorTarget, b: ConnectorTarget): boolean {
  const [la, lb] = [parseLocation(a.location), parseLocation(b.location)];
  const place = (l: typeof la, t: ConnectorTarget): string => {
    switch (l.scheme) {
      case 's3':
        return `s3 ${t.options.endpoint ?? ''} ${l.bucket}`;
      case 'sftp':
        return `sftp ${l.user ?? ''}@${l.host}:${l.port ?? 22}`;
      case 'fs':
        return 'fs';
    }
  };
  if (place(la, a) !== place(lb, b)) return false;
  const [pa, pb] = [la.path, lb.path].map((p) => `${p.replace(/\/+$/, '')}/`);
  return pa!.startsWith(pb!) || pb!.startsWith(pa!);
}
