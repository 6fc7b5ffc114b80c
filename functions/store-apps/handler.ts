/** Store apps: add, list, show, change, remove. */
import { apiHandler } from '../../layers/control/api/api-handler.js';
import { services } from '../../layers/control/runtime/services.js';

export const handler = apiHandler({
  'POST /store-apps': async ({ body }) => services().storeApps.create(body),
  'GET /store-apps': async ({ query }) => services().storeApps.list(query.limit, query.nextToken),
  'GET /store-apps/{appId}': async ({ path }) => services().storeApps.get(path.appId),
  'PATCH /store-apps/{appId}': async ({ path, body }) => services().storeApps.update(path.appId, body),
  'DELETE /store-apps/{appId}': async ({ path }) => services().storeApps.remove(path.appId),
});
