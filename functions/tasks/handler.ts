/** Tasks: start a check, a sync, a restore, a backup or a maintenance; list, show, cancel. */
import { apiHandler } from '../../layers/control/api/api-handler.js';
import { Answer } from '../../layers/control/api/responses.js';
import { tasks } from '../../layers/control/runtime/tasks-service.js';
import type { Created } from '../../layers/control/tasks/tasks.js';

/** 202 for a task created now, 200 for the one an earlier request with the same Idempotency-Key created. */
const answer = ({ created, task }: Created) => (created ? task : new Answer(200, task));

export const handler = apiHandler({
  'POST /store-apps/{appId}/checks': async ({ path, body, caller }) =>
    answer(await tasks().create('check', path.appId, body, caller)),
  'POST /store-apps/{appId}/syncs': async ({ path, body, caller }) =>
    answer(await tasks().create('sync', path.appId, body, caller)),
  'POST /store-apps/{appId}/restores': async ({ path, body, caller }) =>
    answer(await tasks().create('restore', path.appId, body, caller)),
  'POST /store-apps/{appId}/maintenance': async ({ path, body, caller }) =>
    answer(await tasks().create('maintenance', path.appId, body, caller)),
  'GET /tasks': async ({ query: { limit, nextToken, ...filter } }) => tasks().list(filter, limit, nextToken),
  'GET /tasks/{taskId}': async ({ path }) => tasks().get(path.taskId),
  'POST /tasks/{taskId}/cancel': async ({ path }) => tasks().cancel(path.taskId),
  'POST /store-apps/{appId}/backups': async ({ path, body, caller }) =>
    answer(await tasks().create('backup', path.appId, body, caller)),
});
