/** Tasks: start a check, a sync, a backup or a maintenance (a restore: store-browse, which has the engine); list, show, cancel. */
import { apiHandler } from '../../layers/control/api/api-handler.js';
import { createdAnswer as answer } from '../../layers/control/api/responses.js';
import { tasks } from '../../layers/control/runtime/tasks-service.js';

export const handler = apiHandler({
  'POST /store-apps/{appId}/checks': async ({ path, body, caller }) =>
    answer(await tasks().create('check', path.appId, body, caller)),
  'POST /store-apps/{appId}/syncs': async ({ path, body, caller }) =>
    answer(await tasks().create('sync', path.appId, body, caller)),
  'POST /store-apps/{appId}/maintenance': async ({ path, body, caller }) =>
    answer(await tasks().create('maintenance', path.appId, body, caller)),
  'GET /tasks': async ({ query: { limit, nextToken, ...filter } }) => tasks().list(filter, limit, nextToken),
  'GET /tasks/{taskId}': async ({ path }) => tasks().get(path.taskId),
  'POST /tasks/{taskId}/cancel': async ({ path }) => tasks().cancel(path.taskId),
  'POST /store-apps/{appId}/backups': async ({ path, body, caller }) =>
    answer(await tasks().create('backup', path.appId, body, caller)),
});
