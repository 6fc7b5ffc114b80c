/** Store apps: add, list, show, change, remove. */
import { apiHandler } from '../../layers/control/api/api-handler.js';
import { services } from '../../layers/control/runtime/services.js';

const DEFAULT_LIMIT = 25;

export const handler = apiHandler({
  'POST /store-apps': async ({ body }) => services().storeApps.create(body),
  'GET /store-apps': async ({ query }) =>
    services().storeApps.list(query.limit ?? DEFAULT_LIMIT, query.nextToken),
  'GET /store-apps/{appId}': async ({ path }) => services().storeApps.get(path.appId),
  'PATCH /store-apps/{appId}': async ({ path, body }) => services().storeApps.update(path.appId, body),
  'DELETE /store-apps/{appId}': async ({ path }) => services().storeApps.remove(path.appId),
});
