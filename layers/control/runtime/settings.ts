/**
 * Every environment variable the control plane's runtime reads, in one place. Read once per
 * process (Lambda containers and local mode alike); nothing else touches `process.env`.
 */
import { z } from 'zod';
import type { Workflow } from '../tasks/task-runner.js';

export interface StoreBucket {
  readonly bucket: string;
  /** '' or a key prefix ending with '/' */
  readonly prefix: string;
}

export interface Settings {
  readonly tableName: string;
  /** secret names are `${secretPrefix}${appId}` */
  readonly secretPrefix: string;
  /** new secrets are encrypted with it (AWS only) */
  readonly kmsKeyArn?: string;
  /** the only buckets and prefixes a store app may point at */
  readonly storeBuckets: readonly StoreBucket[];
  readonly cacheDir: string;
  /** the bucket of files callers download (a restore's archive, a large file); never a store */
  readonly stagingBucket?: string;
  /** bytes of store index a function may hold in memory; the rest spills to cacheDir (none: no limit) */
  readonly indexMemoryBudget?: number;
  /** the state machine of each workflow tasks run on (AWS; local mode installs a stand-in runner) */
  readonly stateMachineArns?: Readonly<Record<Workflow, string>>;
  /** the EventBridge bus task state changes go to (none: the account's `default`) */
  readonly eventBus?: string;
  /** caps each task slice's time (ms), below what the invocation has left; tests make it tiny */
  readonly taskSliceMs?: number;
  /** caps each backup batch invocation's time instead (default: taskSliceMs); tests set it apart */
  readonly backupBatchSliceMs?: number;
  // a backup batch's bounds, for one worker invocation (docs/ARCHITECTURE.md, "Backups")
  /** content bytes one backup batch reads at most, a larger file split in ranges (default: 1 GiB) */
  readonly backupBatchBytes?: number;
  /** entries one backup batch holds at most (default: 5,000) */
  readonly backupBatchEntries?: number;
  /** local mode: a 0600 JSON file replaces Secrets Manager */
  readonly secretsFile?: string;
  /** local mode: the directories inventory */
  readonly localRoot?: string;
  /** set when S3 is a local service (local mode): its buckets form the S3 inventory */
  readonly localS3Endpoint?: string;
  /** EventBridge Scheduler's group, role and target for the schedules (AWS; local mode has a stand-in) */
  readonly scheduler?: { readonly group: string; readonly roleArn: string; readonly functionArn: string };
  /** local mode: how many ms one minute of schedule time lasts (default 60000; tests make it short) */
  readonly scheduleMinuteMs?: number;
}

const StoreBuckets = z.array(
  z.strictObject({
    bucket: z.string().min(3),
    prefix: z
      .string()
      .default('')
      .transform((p) => (p === '' || p.endsWith('/') ? p : `${p}/`)),
  }),
);

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`the environment variable ${name} is not set`);
  return value;
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string): number {
  const value = Number(env[name]);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} is not a positive whole number`);
  return value;
}

function storeBuckets(json: string | undefined): StoreBucket[] {
  if (!json) return [];
  const invalid = new Error('KLOUD_STORE_BUCKETS is not a JSON list of {"bucket","prefix"}');
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw invalid;
  }
  const parsed = StoreBuckets.safeParse(value);
  if (!parsed.success) throw invalid;
  return parsed.data;
}

/** The workflows' state machines: all three, or none (a function that runs no tasks). */
function stateMachineArns(env: NodeJS.ProcessEnv): Record<Workflow, string> {
  return {
    task: required(env, 'KLOUD_TASK_STATE_MACHINE_ARN'),
    backup: required(env, 'KLOUD_BACKUP_STATE_MACHINE_ARN'),
    restore: required(env, 'KLOUD_RESTORE_STATE_MACHINE_ARN'),
  };
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  return {
    tableName: required(env, 'KLOUD_TABLE_NAME'),
    secretPrefix: env.KLOUD_SECRET_PREFIX ?? 'kloud/store-apps/',
    ...(env.KLOUD_KMS_KEY_ARN && { kmsKeyArn: env.KLOUD_KMS_KEY_ARN }),
    storeBuckets: storeBuckets(env.KLOUD_STORE_BUCKETS),
    cacheDir: env.KLOUD_CACHE_DIR ?? '/tmp/kloud',
    ...(env.KLOUD_STAGING_BUCKET && { stagingBucket: env.KLOUD_STAGING_BUCKET }),
    ...(env.KLOUD_INDEX_MEMORY_BUDGET && {
      indexMemoryBudget: positiveInteger(env, 'KLOUD_INDEX_MEMORY_BUDGET'),
    }),
    ...(env.KLOUD_TASK_STATE_MACHINE_ARN && { stateMachineArns: stateMachineArns(env) }),
    ...(env.KLOUD_EVENT_BUS && { eventBus: env.KLOUD_EVENT_BUS }),
    ...(env.KLOUD_TASK_SLICE_MS && { taskSliceMs: positiveInteger(env, 'KLOUD_TASK_SLICE_MS') }),
    ...(env.KLOUD_BACKUP_BATCH_SLICE_MS && {
      backupBatchSliceMs: positiveInteger(env, 'KLOUD_BACKUP_BATCH_SLICE_MS'),
    }),
    ...(env.KLOUD_BACKUP_BATCH_BYTES && {
      backupBatchBytes: positiveInteger(env, 'KLOUD_BACKUP_BATCH_BYTES'),
    }),
    ...(env.KLOUD_BACKUP_BATCH_ENTRIES && {
      backupBatchEntries: positiveInteger(env, 'KLOUD_BACKUP_BATCH_ENTRIES'),
    }),
    ...(env.KLOUD_SECRETS_FILE && { secretsFile: env.KLOUD_SECRETS_FILE }),
    ...(env.KLOUD_LOCAL_ROOT && { localRoot: env.KLOUD_LOCAL_ROOT }),
    ...(env.KLOUD_SCHEDULE_GROUP && {
      scheduler: {
        group: env.KLOUD_SCHEDULE_GROUP,
        roleArn: required(env, 'KLOUD_SCHEDULER_ROLE_ARN'),
        functionArn: required(env, 'KLOUD_SCHEDULED_TASK_ARN'),
      },
    }),
    ...(env.KLOUD_SCHEDULE_MINUTE_MS && {
      scheduleMinuteMs: positiveInteger(env, 'KLOUD_SCHEDULE_MINUTE_MS'),
    }),
    ...((env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL) && {
      localS3Endpoint: env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL,
    }),
  };
}
