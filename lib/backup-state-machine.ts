import { Arn, ArnFormat, Fn, Stack } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import {
  Choice,
  Condition,
  DistributedMap,
  ItemBatcher,
  JsonPath,
  Map as InlineMap,
  ResultWriterV2,
  S3JsonItemReader,
  type StateMachine,
  StateMachineType,
  Succeed,
} from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { BACKUP_PREFIX } from '../layers/control/backup/backup-staging.js';
import { nagResource } from './nag-resource.js';
import {
  acknowledgeIam5,
  FAILURE_STATES,
  recordFailure,
  type WorkflowMachineProps,
  workerCall,
  workflowStateMachine,
} from './worker-states.js';

/** The task-worker function (`start`, then the backup's `plan`, `batch`, `commit`, `record`; `fail`), and: */
export interface BackupStateMachineProps extends WorkflowMachineProps {
  /** where the plan writes its batches and the Map its results, under `backups/` */
  readonly stagingBucket: IBucket;
  /** batch workers at once (default: 40) */
  readonly maxConcurrency?: number;
  /**
   * local mode's variant: an inline Map over the batches the plan answers (aws-local-stepfunctions
   * ignores ItemReader, ItemBatcher and ResultWriter); AWS runs the Distributed Map
   */
  readonly local?: boolean;
}

/** The state names, read as sentences: they are what a user sees in the console's graph. */
export const BACKUP_STATES = {
  start: 'Mark the task running',
  cancelledBeforeStart: 'Was it cancelled before it started?',
  plan: 'Plan the backup for one invocation',
  planned: 'Is the plan complete?',
  batches: 'Back up the batches',
  batch: 'Back up a batch for one invocation',
  batchDone: 'Is the batch done?',
  batchEnded: 'The batch is done',
  commit: 'Commit the snapshot',
  record: 'Record the result',
  ended: 'The task has ended',
  ...FAILURE_STATES,
} as const;

/** The plan's manifest (a JSON list of `{ key }`, one a batch); its grant is the workflow's prefix only. */
class ManifestReader extends S3JsonItemReader {
  override providePolicyStatements(): PolicyStatement[] {
    return []; // CDK's own would read the whole bucket: BackupStateMachine.grantStaging
  }
}

/** The Map's results; its grant is the workflow's prefix only. */
class ResultsWriter extends ResultWriterV2 {
  override providePolicyStatements(): PolicyStatement[] {
    return []; // CDK's own would write the whole bucket: BackupStateMachine.grantStaging
  }
}

/** Batch workers at once by default: S3 and Lambda take far more, the store's prefix rates too. */
const DEFAULT_CONCURRENCY = 40;

/**
 * The backup workflow (docs/ARCHITECTURE.md, "Backups"): the task is marked running; the plan runs
 * invocation after invocation (each to its deadline, its cursor in staging) until its manifest
 * lists every batch; a Distributed Map backs up one batch per child execution, MaxConcurrency at
 * once, each in invocations to their deadline (a slow source's batch takes several) until it is
 * done, and fails at the first batch that keeps failing; the commit makes the snapshot and the
 * task records its result. Every state's failure goes to the worker's `fail`.
 *
 * Child executions are STANDARD: a batch's worker may take the whole 15 minutes of a Lambda
 * invocation, and a batch several invocations and their retries, past an EXPRESS execution's
 * 5-minute limit; a child is a handful of transitions per invocation, so STANDARD's price per
 * transition does not count.
 */
export class BackupStateMachine extends Construct {
  public readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: BackupStateMachineProps) {
    super(scope, id);
    // ResultWriterV2 is rendered only under its feature flag (a new app's default): this machine's
    this.node.setContext(cxapi.STEPFUNCTIONS_USE_DISTRIBUTED_MAP_RESULT_WRITER_V2, true);
    const { worker } = props;
    const taskId = JsonPath.stringAt('$.taskId');
    const failed = recordFailure(this, worker);
    const ended = new Succeed(this, BACKUP_STATES.ended, { stateName: BACKUP_STATES.ended });

    const start = workerCall(this, {
      stateName: BACKUP_STATES.start,
      worker,
      payload: { action: 'start', taskId },
      resultSelector: { 'done.$': '$.Payload.done' },
      resultPath: '$.start',
    });
    const plan = workerCall(this, {
      stateName: BACKUP_STATES.plan,
      worker,
      payload: { action: 'plan', taskId, ...(props.local && { answerItems: true }) },
      resultSelector: {
        'ended.$': '$.Payload.ended',
        'planned.$': '$.Payload.planned',
        'batches.$': '$.Payload.batches',
        'manifest.$': '$.Payload.manifest',
        'results.$': '$.Payload.results',
        ...(props.local && { 'items.$': '$.Payload.items' }),
      },
      resultPath: '$.plan',
    });
    const batch = workerCall(this, {
      stateName: BACKUP_STATES.batch,
      worker,
      payload: {
        action: 'batch',
        taskId: JsonPath.stringAt('$.Items[0].taskId'),
        items: JsonPath.listAt('$.Items'),
      },
      resultSelector: { 'done.$': '$.Payload.done' },
      resultPath: '$.result',
    });
    // a batch goes on invocation after invocation, each to its deadline, until it is done
    const batchLoop = batch.next(
      new Choice(this, BACKUP_STATES.batchDone, { stateName: BACKUP_STATES.batchDone })
        .when(
          Condition.booleanEquals('$.result.done', true),
          new Succeed(this, BACKUP_STATES.batchEnded, { stateName: BACKUP_STATES.batchEnded }),
        )
        .otherwise(batch),
    );
    const commit = workerCall(this, {
      stateName: BACKUP_STATES.commit,
      worker,
      payload: { action: 'commit', taskId },
      resultPath: JsonPath.DISCARD,
    });
    const record = workerCall(this, {
      stateName: BACKUP_STATES.record,
      worker,
      payload: { action: 'record', taskId },
      resultPath: JsonPath.DISCARD,
    });
    const batches = props.local
      ? this.inlineMap(props).itemProcessor(batchLoop)
      : this.distributedMap(props).itemProcessor(batchLoop);
    for (const state of [start, plan, commit, record]) state.addCatch(failed, { resultPath: '$.error' });
    batches.addCatch(failed, { resultPath: '$.error' });

    const definition = start.next(
      new Choice(this, BACKUP_STATES.cancelledBeforeStart, { stateName: BACKUP_STATES.cancelledBeforeStart })
        .when(Condition.booleanEquals('$.start.done', true), ended)
        .otherwise(
          plan.next(
            new Choice(this, BACKUP_STATES.planned, { stateName: BACKUP_STATES.planned })
              .when(Condition.booleanEquals('$.plan.ended', true), ended)
              .when(
                Condition.booleanEquals('$.plan.planned', true),
                batches.next(commit).next(record).next(ended),
              )
              .otherwise(plan),
          ),
        ),
    );
    this.stateMachine = workflowStateMachine(this, definition, props);
    if (!props.local) {
      this.grantStaging(props.stagingBucket);
      this.acknowledgeChildExecutions();
    }
  }

  /** CDK grants the Distributed Map its child executions (start, describe, stop): named at run time. */
  private acknowledgeChildExecutions(): void {
    const stack = Stack.of(this);
    // the name as CDK writes it in that policy: the ARN's seventh field
    const name = Fn.select(6, Fn.split(':', this.stateMachine.stateMachineArn));
    for (const resourceName of [`${name}:*`, `${name}/*:*`])
      acknowledgeIam5(
        this.stateMachine,
        nagResource(
          this,
          Arn.format(
            {
              service: 'states',
              resource: 'execution',
              resourceName,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            },
            stack,
          ),
        ),
        "the Distributed Map's child executions, named by Step Functions at run time under this machine's name",
      );
  }

  /** The AWS variant: the plan's manifest read by the Map itself, one batch per child execution. */
  private distributedMap(props: BackupStateMachineProps): DistributedMap {
    return new DistributedMap(this, BACKUP_STATES.batches, {
      stateName: BACKUP_STATES.batches,
      itemReader: new ManifestReader({
        bucket: props.stagingBucket,
        key: JsonPath.stringAt('$.plan.manifest'),
      }),
      // a batch is already a worker's share (bytes and entries): one a child, with its task
      itemBatcher: new ItemBatcher({ maxItemsPerBatch: 1 }),
      maxConcurrency: props.maxConcurrency ?? DEFAULT_CONCURRENCY,
      // no batch may fail: the snapshot would lack its part (0 is Step Functions' default, which CDK leaves out)
      toleratedFailureCount: 0,
      mapExecutionType: StateMachineType.STANDARD,
      resultWriterV2: new ResultsWriter({
        bucket: props.stagingBucket,
        prefix: JsonPath.stringAt('$.plan.results'),
      }),
      resultPath: JsonPath.DISCARD,
    });
  }

  /** Local mode's variant: the same processor, its input shaped as ItemBatcher's (`Items`). */
  private inlineMap(props: BackupStateMachineProps): InlineMap {
    return new InlineMap(this, BACKUP_STATES.batches, {
      stateName: BACKUP_STATES.batches,
      itemsPath: '$.plan.items',
      itemSelector: { Items: JsonPath.array(JsonPath.stringAt('$$.Map.Item.Value')) },
      maxConcurrency: props.maxConcurrency ?? DEFAULT_CONCURRENCY,
      resultPath: JsonPath.DISCARD,
    });
  }

  /** The Distributed Map reads the manifest and writes its results under `backups/` only, through the bucket's key. */
  private grantStaging(bucket: IBucket): void {
    const objects = bucket.arnForObjects(`${BACKUP_PREFIX}*`);
    const role = this.stateMachine.role;
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
        resources: [objects],
      }),
    );
    if (bucket.encryptionKey)
      role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [bucket.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    acknowledgeIam5(
      this.stateMachine,
      nagResource(this, objects),
      "the backup's batches, manifest and results, named after the task at run time, under the one prefix the workflow owns",
    );
  }
}
