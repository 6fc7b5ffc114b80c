/**
 * A sync task's parameters: what the API checks when the task is created, without the engine
 * (the task's work, sync-work.ts, brings it).
 */
import { z } from 'zod';
import { Unprocessable } from '../errors.js';
import type { StoreAppRecord } from '../store-apps/store-app.js';
import { AppId } from '../store-apps/store-app.js';
import { SnapshotRef } from '../api/snapshot-ref.js';

export const SyncParameters = z
  .strictObject({
    peerAppId: AppId.shape.appId.meta({ description: 'the other store app' }),
    direction: z
      .enum(['to', 'from'])
      .default('to')
      .meta({ description: "to: from this app's store to the peer's; from: the other way" }),
    snapshots: z.array(SnapshotRef).min(1).max(100).optional().meta({
      description:
        'snapshots of the source to copy (default: every one); those the destination has are skipped',
    }),
  })
  .meta({ id: 'SyncParameters' });
export type SyncParameters = z.infer<typeof SyncParameters>;

/**
 * The peer a sync needs: another app, and ready (409 APP_NOT_READY otherwise). Asked when the
 * sync is created, so a mistake is a 4xx at once, and again by each slice (the peer may change).
 */
export async function syncPeer(
  appId: string,
  parameters: SyncParameters,
  readyApp: (id: string) => Promise<StoreAppRecord>,
): Promise<StoreAppRecord> {
  if (parameters.peerAppId === appId)
    throw new Unprocessable(
      'peerAppId: a store app cannot sync with itself; choose another app',
      'INVALID_INPUT',
    );
  return readyApp(parameters.peerAppId);
}
