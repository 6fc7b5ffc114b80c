/** Store app actions that reach the store's location: Test Connection and Initialize Store. */
import { apiHandler } from '../../layers/control/api/api-handler.js';
import { storeActions } from '../../layers/control/runtime/store-actions-service.js';

export const handler = apiHandler({
  'POST /store-apps/{appId}/test': async ({ path }) => storeActions().test(path.appId),
  'POST /store-apps/{appId}/initialize': async ({ path }) => storeActions().initialize(path.appId),
});
