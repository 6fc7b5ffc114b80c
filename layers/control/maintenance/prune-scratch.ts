import type { PruneScratch } from '../../kloset/index.js';
import type { StagingArea } from '../staging/staging-area.js';

/**
 * A maintenance task's scratch place for its prune's mark state (12.5 MB at 100 million blobs,
 * sealed with the store's keys by the engine): objects under `maintenance/<taskId>/` of the
 * staging bucket, so the mark continues in the task's next slice, in another Lambda. The bucket
 * expires what a failed task leaves.
 */
/** Where maintenance tasks keep their scratch objects in the staging bucket (the worker's grant). */
export const MAINTENANCE_PREFIX = 'maintenance/';

export function prunePlace(staging: StagingArea, taskId: string): PruneScratch {
  const key = (name: string) => `${MAINTENANCE_PREFIX}${taskId}/${name}`;
  return {
    save: async (name, bytes) => {
      await staging.upload(key(name), bytes);
    },
    load: (name) => staging.getBytes(key(name)),
    remove: (name) => staging.remove(key(name)),
  };
}
