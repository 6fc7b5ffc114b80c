/** Inventories, their resources, registered SFTP servers and the integrations catalog. */
import { apiHandler } from '../../layers/control/api/api-handler.js';
import { pageOfArray } from '../../layers/control/data/array-page.js';
import {
  compatibleIntegrations,
  INTEGRATIONS,
} from '../../layers/control/integrations/integration-catalog.js';
import { parseResourceId } from '../../layers/control/inventories/resource.js';
import { services } from '../../layers/control/runtime/services.js';

export const handler = apiHandler({
  'GET /inventories': async ({ query }) =>
    pageOfArray(services().inventories.list(), (i) => i.id, query.limit, query.nextToken),
  'GET /inventories/{inventoryId}/resources': async ({ path, query }) =>
    services().inventories.resources(path.inventoryId, query.limit, query.nextToken),
  'GET /sftp-servers': async ({ query }) => services().sftpServers.list(query.limit, query.nextToken),
  'POST /sftp-servers': async ({ body }) => services().sftpServers.register(body),
  'DELETE /sftp-servers/{serverId}': async ({ path }) => services().sftpServers.forget(path.serverId),
  'GET /integrations': async ({ query }) => {
    const list = query.resourceId
      ? compatibleIntegrations(parseResourceId(query.resourceId).subClass)
      : INTEGRATIONS;
    return pageOfArray(list, (i) => i.id, query.limit, query.nextToken);
  },
});
