/**
 * A restore's retrieval plan, answered by `POST /store-apps/{appId}/restores` with `dryRun`: the
 * archived data packs the paths need (the engine walks metadata only and asks for nothing), and
 * per retrieval tier the typical time and the cost of asking for those not asked for yet, so a
 * user sees the price before paying it. Nothing is written and no task is created.
 */
import { isKlosetError } from '../../engine/engine-answers.js';
import type { Store } from '../../engine/kloset-adapter.js';
import { retrievalOfPaths } from '../../engine/retrieval-needed.js';
import type { AppStores } from '../../store-apps/app-store.js';
import { type RestoreParameters, RETRIEVAL_TIERS, type RetrievalPlan } from './restore-parameters.js';

/** The plan of a restore of `parameters.paths` from the app's store. */
export async function planRestore(
  apps: AppStores,
  appId: string,
  parameters: RestoreParameters,
): Promise<RetrievalPlan> {
  const app = await apps.readyApp(appId);
  return apps.withStore(app, (store) => plan(store, parameters));
}

async function plan(store: Store, parameters: RestoreParameters): Promise<RetrievalPlan> {
  const snapshot = (await store.resolveSnapshot(parameters.snapshot)).id;
  const { days } = parameters.retrieval;
  const tiers: RetrievalPlan['tiers'] = [];
  let status;
  for (const tier of RETRIEVAL_TIERS) {
    try {
      status = await retrievalOfPaths(store, snapshot, parameters.paths, { tier, days, dryRun: true });
    } catch (err) {
      // a tier the archive class does not offer (Deep Archive has no expedited retrieval)
      if (isKlosetError(err) && err.code === 'INVALID_ARGUMENT') continue;
      throw err;
    }
    if (status.needed === 0) break;
    tiers.push({ tier, hours: [...status.estimate.hours], costUsd: status.estimate.costUsd });
  }
  return {
    snapshot,
    archivedPacks: status?.needed ?? 0,
    archivedBytes: status?.bytes ?? 0,
    readyPacks: status?.ready ?? 0,
    archives: status?.archives ?? [],
    tiers,
  };
}
