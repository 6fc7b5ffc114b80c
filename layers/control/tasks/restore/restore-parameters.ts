/**
 * A restore task's parameters and its exclusive key: what the API checks when the task is
 * created, without the engine (the task's work, restore-work.ts, brings it); the body of a
 * restore's request, and the retrieval plan a dry run answers (restore-plan.ts).
 */
import { z } from 'zod';
import { AppId } from '../../store-apps/store-app.js';
import { SnapshotRef } from '../../api/snapshot-ref.js';
import type { DestinationTargets } from './destination-target.js';

const SnapshotPath = z
  .string()
  .max(4096)
  .regex(/^\/[^\p{Cc}]*$/u, 'expected an absolute path inside the snapshot, such as /home/me/docs')
  .meta({ description: 'a path inside the snapshot; restored under its last name' });

/** The retrieval tiers, fastest and dearest first. */
export const RETRIEVAL_TIERS = ['expedited', 'standard', 'bulk'] as const;

const Retrieval = z
  .strictObject({
    tier: z.enum(RETRIEVAL_TIERS).default('standard').meta({
      description: 'how fast (and how dearly) archived data packs are made readable',
    }),
    days: z.number().int().min(1).max(365).default(7).meta({
      description: 'how many days the retrieved copies stay readable',
    }),
    deadlineHours: z
      .number()
      .positive()
      // the restore workflow's executions end after 7 days: a day is kept for the restore itself
      .max(24 * 6)
      .optional()
      .meta({
        description:
          "how long to wait for the retrieval before the task fails, listing the packs still archived (default: twice the tier's typical longest time, at least 1 hour: 10 h for a standard retrieval from Glacier Flexible Retrieval, 96 h for a bulk one from Deep Archive; at most 144 h)",
      }),
  })
  .meta({ id: 'RetrievalParameters' });
export type RetrievalParameters = z.infer<typeof Retrieval>;

export const RestoreParameters = z
  .strictObject({
    snapshot: SnapshotRef,
    paths: z.array(SnapshotPath).min(1).max(20).default(['/']),
    destination: z.union([
      z.strictObject({
        appId: AppId.shape.appId.meta({ description: 'the store app whose resource receives the files' }),
        path: z.string().max(1024).meta({
          description:
            "below the app's resource: a key prefix (S3), a path on the server (SFTP), a subdirectory (fs); never inside a store",
        }),
      }),
      z.strictObject({
        archive: z.literal('tar').meta({ description: 'a tar in the staging bucket, to download' }),
      }),
    ]),
    overwrite: z.enum(['never', 'if-newer', 'always']).default('never').meta({
      description:
        'existing files: never replaced (and reported when they differ), replaced when older, or always',
    }),
    retrieval: Retrieval.prefault({}).meta({
      description: 'from a cold app: how its archived data packs are retrieved before the restore',
    }),
  })
  .meta({ id: 'RestoreParameters' });
export type RestoreParameters = z.infer<typeof RestoreParameters>;

/** The restore's body: its task's parameters, or only the plan with `dryRun`. */
export const RestoreRequest = RestoreParameters.extend({
  dryRun: z.boolean().default(false).meta({
    description:
      'answer 200 with the retrieval plan (what the data to restore needs from archive storage) and create no task',
  }),
}).meta({ id: 'RestoreRequest' });
export type RestoreRequest = z.infer<typeof RestoreRequest>;

export const RetrievalPlan = z
  .object({
    /** the snapshot's full ID */
    snapshot: z.string(),
    archivedPacks: z
      .number()
      .int()
      .meta({ description: 'data packs the paths need that are in archive storage' }),
    archivedBytes: z.number().meta({ description: 'their bytes' }),
    readyPacks: z.number().int().meta({ description: 'of those, readable now (a retrieved copy lives)' }),
    archives: z.array(z.string()).meta({ description: 'their archive classes, e.g. GLACIER' }),
    tiers: z
      .array(
        z.object({
          tier: z.enum(RETRIEVAL_TIERS),
          hours: z.tuple([z.number(), z.number()]).meta({ description: 'typical time, from the request' }),
          costUsd: z
            .number()
            .meta({ description: 'what asking for the packs not asked for yet costs (list prices)' }),
        }),
      )
      .meta({ description: 'the tiers the archive classes offer; empty when nothing is archived' }),
  })
  .meta({ id: 'RetrievalPlan' });
export type RetrievalPlan = z.infer<typeof RetrievalPlan>;

/**
 * The key no two running restores may share: the destination's printable location. Archives
 * are each the task's own object and share nothing.
 */
export async function restoreExclusiveKey(
  destinations: DestinationTargets,
  parameters: RestoreParameters,
): Promise<string | undefined> {
  if ('archive' in parameters.destination) return undefined;
  return destinations.printable(parameters.destination);
}
