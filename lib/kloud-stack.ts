import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { ROUTES } from '../layers/control/api/routes.js';
import { BackupSchedules } from './backup-schedules.js';
import { ControlApi } from './control-api.js';
import { KloudFunction } from './kloud-function.js';
import { MetadataTable } from './metadata-table.js';
import { StagingBucket } from './staging-bucket.js';
import { BackupStateMachine } from './backup-state-machine.js';
import { TaskExecutionWatch } from './task-execution-watch.js';
import { RestoreStateMachine } from './restore-state-machine.js';
import { TaskStateMachine } from './task-state-machine.js';
import { BACKUP_PREFIX } from '../layers/control/backup/backup-staging.js';
import { MAINTENANCE_PREFIX } from '../layers/control/maintenance/prune-scratch.js';
import type { StoreBucket } from './store-buckets.js';

export interface KloudStackProps extends StackProps {
  /** the S3 buckets and prefixes store apps may use as locations (default: none; fs and SFTP locations only) */
  readonly storeBuckets?: readonly StoreBucket[];
  /** IAM principal ARNs allowed to call the API (default: any principal of the account that IAM allows) */
  readonly apiCallers?: readonly string[];
  /** an existing KMS key to encrypt with, by ARN (default: a new key with yearly rotation) */
  readonly kmsKeyArn?: string;
  /** memory of each API function in MiB (default: 1024) */
  readonly functionMemory?: number;
  /** memory of the task worker in MiB (default: 2048: CPU for hashing and encryption, room for the index) */
  readonly workerMemory?: number;
  /** reserved concurrency of each function (default: none) */
  readonly reservedConcurrency?: number;
  /** days before the staging bucket expires an object (default and least: 7, a backup's longest run: its batches live there) */
  readonly stagingExpiryDays?: number;
  /** the name prefix of the store apps' secrets (default: `kloud/store-apps/`) */
  readonly secretPrefix?: string;
}

/**
 * The kloud control plane: the metadata table, the staging bucket and the store apps' secrets,
 * all under one KMS key; the four API functions, each granted exactly what it uses; the REST API
 * built from the shared route table.
 */
export class KloudStack extends Stack {
  public readonly key: IKey;

  constructor(scope: Construct, id: string, props: KloudStackProps = {}) {
    super(scope, id, props);
    if (props.stagingExpiryDays !== undefined && props.stagingExpiryDays < 7)
      throw new Error(
        `stagingExpiryDays is ${props.stagingExpiryDays}: at least 7, or a long backup's batches expire under it`,
      );
    const secretPrefix = props.secretPrefix ?? 'kloud/store-apps/';
    this.key = props.kmsKeyArn
      ? Key.fromKeyArn(this, 'Key', props.kmsKeyArn)
      : new Key(this, 'Key', { description: 'kloud control plane', enableKeyRotation: true });
    const { table } = new MetadataTable(this, 'Metadata', { encryptionKey: this.key });
    const staging = new StagingBucket(this, 'Staging', {
      encryptionKey: this.key,
      expireAfter: props.stagingExpiryDays === undefined ? undefined : Duration.days(props.stagingExpiryDays),
    });

    const sizing = {
      memorySize: props.functionMemory,
      reservedConcurrentExecutions: props.reservedConcurrency,
    };
    const storeBuckets = props.storeBuckets ?? [];
    const inventories = new KloudFunction(this, 'Inventories', { name: 'inventories', ...sizing })
      .bindTable(table, 'RW')
      .bindStoreBuckets(storeBuckets, 'names')
      .bindBucketInventory();
    const storeApps = new KloudFunction(this, 'StoreApps', { name: 'store-apps', ...sizing })
      .bindTable(table, 'RW')
      .bindStoreBuckets(storeBuckets, 'names')
      .bindSecrets(secretPrefix, this.key, 'manage');
    const storeActions = new KloudFunction(this, 'StoreActions', {
      name: 'store-actions',
      engine: true,
      ...sizing,
    })
      .bindTable(table, 'RW')
      .bindSecrets(secretPrefix, this.key, 'read')
      .bindStoreBuckets(storeBuckets, 'objects');
    // reads stores (metadata, a downloaded file's data), writes none; stages large downloads under files/;
    // creates restore tasks (their dry run plans with the engine): the table's tasks, the runner below
    const storeBrowse = new KloudFunction(this, 'StoreBrowse', {
      name: 'store-browse',
      engine: true,
      ...sizing,
    })
      .bindTable(table, 'RW')
      .bindSecrets(secretPrefix, this.key, 'read')
      .bindStoreBuckets(storeBuckets, 'read')
      .bindStagingBucket(staging.bucket, 'files/');

    const workerMemory = props.workerMemory ?? 2048;
    const taskWorker = new KloudFunction(this, 'TaskWorker', {
      name: 'task-worker',
      engine: true,
      memorySize: workerMemory,
      // Lambda's limit: a slice keeps a margin below it and the state machine calls the next one
      timeout: Duration.minutes(15),
    })
      .bindTable(table, 'RW')
      .bindSecrets(secretPrefix, this.key, 'read')
      // a maintenance's prune deletes; nothing else of the control plane does
      .bindStoreBuckets(storeBuckets, 'maintain')
      .bindStagingBucket(staging.bucket, 'restores/')
      .bindStagingBucket(staging.bucket, BACKUP_PREFIX)
      // a maintenance's mark state between slices, removed when its prune is done
      .bindStagingBucket(staging.bucket, MAINTENANCE_PREFIX, { remove: true })
      .bindArchiveRetrieval(storeBuckets)
      .bindTaskEvents();
    // a quarter of the memory for the store's index; the rest spills to /tmp (docs/ARCHITECTURE.md, "Tasks")
    taskWorker.fn.addEnvironment('KLOUD_INDEX_MEMORY_BUDGET', String((workerMemory / 4) * 2 ** 20));
    const tasks = new TaskStateMachine(this, 'Tasks', { worker: taskWorker.fn });
    const backups = new BackupStateMachine(this, 'Backups', {
      worker: taskWorker.fn,
      stagingBucket: staging.bucket,
    });
    const restores = new RestoreStateMachine(this, 'Restores', { worker: taskWorker.fn });
    const workflows = {
      task: tasks.stateMachine,
      backup: backups.stateMachine,
      restore: restores.stateMachine,
    };
    const watch = new TaskExecutionWatch(this, 'ExecutionWatch', {
      worker: taskWorker.fn,
      stateMachines: Object.values(workflows),
    });
    // the store buckets' names: a restore's destination is checked against them when it is asked for
    const tasksApi = new KloudFunction(this, 'TasksApi', { name: 'tasks', ...sizing })
      .bindTable(table, 'RW')
      .bindStoreBuckets(storeBuckets, 'names')
      .bindTaskRunner(workflows)
      .bindTaskEvents();
    // restores are created where their dry run is planned, with the engine
    storeBrowse.bindTaskRunner(workflows).bindTaskEvents();

    // Scheduler invokes scheduled-task, which creates each run's task as the tasks API does
    const scheduledTask = new KloudFunction(this, 'ScheduledTask', { name: 'scheduled-task', ...sizing })
      .bindTable(table, 'RW')
      .bindStoreBuckets(storeBuckets, 'names')
      .bindTaskRunner(workflows)
      .bindTaskEvents();
    const schedules = new BackupSchedules(this, 'Schedules', { target: scheduledTask.fn });
    const schedulesApi = new KloudFunction(this, 'SchedulesApi', { name: 'schedules', ...sizing }).bindTable(
      table,
      'RW',
    );
    schedules.bindManager(schedulesApi);

    const { api } = new ControlApi(this, 'Api', {
      routes: ROUTES,
      functions: {
        inventories: inventories.fn,
        'store-apps': storeApps.fn,
        'store-actions': storeActions.fn,
        tasks: tasksApi.fn,
        'store-browse': storeBrowse.fn,
        schedules: schedulesApi.fn,
      },
      callers: props.apiCallers,
    });

    new CfnOutput(this, 'ApiUrl', { value: api.url, description: 'the API stage URL' });
    new CfnOutput(this, 'ApiInvokeArn', {
      value: api.arnForExecuteApi('*', '/*', api.deploymentStage.stageName),
      description: 'the ARN a caller needs execute-api:Invoke on',
    });
    new CfnOutput(this, 'TaskStateMachineArn', { value: tasks.stateMachine.stateMachineArn });
    new CfnOutput(this, 'BackupStateMachineArn', { value: backups.stateMachine.stateMachineArn });
    // what an operator needs when the watch's alarm fires (docs/DEPLOY.md, section 7)
    new CfnOutput(this, 'UndeliveredEndsQueueUrl', {
      value: watch.deadLetterQueue.queueUrl,
      description: 'execution ends the task worker never received (redrive them to it)',
    });
    new CfnOutput(this, 'UndeliveredEndsAlarmName', { value: watch.alarm.alarmName });
    new CfnOutput(this, 'TaskWorkerName', { value: taskWorker.fn.functionName });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'KeyArn', { value: this.key.keyArn });
  }
}
