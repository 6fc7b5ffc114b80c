/** Browsing a store app's restore points and downloading one file, with the engine. */
import { apiHandler } from '../../layers/control/api/api-handler.js';
import { storeBrowser } from '../../layers/control/browse/browse-service.js';

export const handler = apiHandler({
  'GET /store-apps/{appId}/snapshots': async ({ path, query }) => storeBrowser().snapshots(path.appId, query),
  'GET /store-apps/{appId}/snapshots/{snapshotId}/entries': async ({ path, query }) =>
    storeBrowser().entries(path.appId, path.snapshotId, query),
  'GET /store-apps/{appId}/snapshots/{snapshotId}/file': async ({ path, query }) =>
    storeBrowser().file(path.appId, path.snapshotId, query),
  'GET /store-apps/{appId}/snapshots/{a}/diff/{b}': async ({ path, query }) =>
    storeBrowser().diff(path.appId, path.a, path.b, query),
  'GET /store-apps/{appId}/search': async ({ path, query }) => storeBrowser().search(path.appId, query),
});
