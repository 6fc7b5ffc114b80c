/**
 * A sync task's parameters: what the API checks when the task is created, without the engine
 * (the task's work, sync-work.ts, brings it).
 */
import { z } from 'zod';
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
