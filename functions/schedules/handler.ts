/** Schedules: create, list, show, replace, delete, pause, resume. */
import { apiHandler } from '../../layers/control/api/api-handler.js';
import { schedules } from '../../layers/control/runtime/schedules-service.js';

export const handler = apiHandler({
  'POST /schedules': async ({ body }) => schedules().create(body),
  'GET /schedules': async ({ query }) => schedules().list(query.limit, query.nextToken),
  'GET /schedules/{scheduleId}': async ({ path }) => schedules().get(path.scheduleId),
  'PUT /schedules/{scheduleId}': async ({ path, body }) => schedules().update(path.scheduleId, body),
  'DELETE /schedules/{scheduleId}': async ({ path }) => schedules().remove(path.scheduleId),
  'POST /schedules/{scheduleId}/pause': async ({ path }) => schedules().setEnabled(path.scheduleId, false),
  'POST /schedules/{scheduleId}/resume': async ({ path }) => schedules().setEnabled(path.scheduleId, true),
});
