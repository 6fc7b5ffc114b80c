/**
 * A backup task's parameters and what the API checks when one is asked for, without the engine
 * (the task-worker function brings it: backup-stages.ts).
 */
import { z } from 'zod';
import { AppId } from '../store-apps/store-app.js';
import type { CreationContext } from '../tasks/task-kinds.js';

export const BackupParameters = z
  .strictObject({
    source: z.strictObject({
      appId: AppId.shape.appId.meta({ description: 'the store app whose resource holds the data' }),
      path: z.string().max(1024).meta({
        description:
          "below the app's resource: a key prefix (S3), a path on the server (SFTP), a subdirectory (fs); never inside a store",
      }),
    }),
    tags: z.array(z.string().min(1).max(128)).max(20).optional().meta({ description: "the snapshot's tags" }),
    excludes: z.array(z.string().min(1).max(1024)).max(100).optional().meta({
      description: 'glob patterns of paths not to back up (as `kloud backup --exclude`)',
    }),
  })
  .meta({ id: 'BackupParameters' });
export type BackupParameters = z.infer<typeof BackupParameters>;

/**
 * One backup into a store at a time: the key of its lease. A maintenance run that deletes
 * packs must not overlap a backup either, so it names the store, not the backup.
 */
export function storeLease(appId: string): { key: string; what: string } {
  return { key: `STORE#${appId}`, what: `the store of app ${appId}` };
}

/**
 * What the worker would refuse, refused when the backup is asked for: a source app that is not
 * ready, a path that does not fit its app or overlaps a store.
 */
export async function checkBackupSource(
  parameters: BackupParameters,
  context: CreationContext,
): Promise<void> {
  await context.readyApp(parameters.source.appId);
  await context.destinations.printable(parameters.source, 'source');
}
