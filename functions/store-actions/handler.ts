/** Store app actions that reach the store's location: Test Connection and Initialize Store. */
import { apiHandler } from '../../layers/control/api/api-handler.js';
import { services } from '../../layers/control/runtime/services.js';

export const handler = apiHandler({
  'POST /store-apps/{appId}/test': async ({ path }) => services().actions.test(path.appId),
  'POST /store-apps/{appId}/initialize': async ({ path }) => services().actions.initialize(path.appId),
});
