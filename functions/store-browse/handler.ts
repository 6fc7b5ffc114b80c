/**
 * Browsing a store app's restore points and downloading one file, with the engine; and starting
 * a restore, whose dry run plans the retrieval from archive storage (the engine again).
 */
import { apiHandler } from '../../layers/control/api/api-handler.js';
import { Answer, createdAnswer } from '../../layers/control/api/responses.js';
import { restorePlanner, storeBrowser } from '../../layers/control/browse/browse-service.js';
import { tasks } from '../../layers/control/runtime/tasks-service.js';

export const handler = apiHandler({
  'GET /store-apps/{appId}/snapshots': async ({ path, query }) => storeBrowser().snapshots(path.appId, query),
  'GET /store-apps/{appId}/snapshots/{snapshotId}/entries': async ({ path, query }) =>
    storeBrowser().entries(path.appId, path.snapshotId, query),
  'GET /store-apps/{appId}/snapshots/{snapshotId}/file': async ({ path, query }) =>
    storeBrowser().file(path.appId, path.snapshotId, query),
  'GET /store-apps/{appId}/snapshots/{a}/diff/{b}': async ({ path, query }) =>
    storeBrowser().diff(path.appId, path.a, path.b, query),
  'GET /store-apps/{appId}/search': async ({ path, query }) => storeBrowser().search(path.appId, query),
  'POST /store-apps/{appId}/restores': async ({ path, body: { dryRun, ...parameters }, caller }) =>
    dryRun
      ? new Answer(200, await restorePlanner()(path.appId, parameters))
      : createdAnswer(await tasks().create('restore', path.appId, parameters, caller)),
});
