import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Arn, ArnFormat, Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { WORKFLOWS, type Workflow } from '../layers/control/tasks/task-runner.js';
import { functionBundling } from './function-bundling.js';
import { nagResource } from './nag-resource.js';
import {
  type StoreBucket,
  storeBucketStatements,
  storePackResources,
  storeRetrievalStatement,
} from './store-buckets.js';

/**
 * The repository's root, the nearest folder above with `package-lock.json` (this file runs from
 * `lib/` under tsx and jest, from `dist/lib/` once compiled): entries, the lock file and the
 * local esbuild are found from it.
 */
function findProjectRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package-lock.json'))) return dir;
    if (dirname(dir) === dir)
      throw new Error('no package-lock.json above lib/: run from the kloud repository');
  }
}
const PROJECT_ROOT = findProjectRoot();

/** Only what layers/control/data/table.ts sends (GetCommand, QueryCommand; PutCommand, DeleteCommand). */
const TABLE_READ = ['dynamodb:GetItem', 'dynamodb:Query'];
const TABLE_WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];
/** What DynamoDB does with a table's customer managed key on a caller's behalf. */
const TABLE_KEY = [
  'kms:Decrypt',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:DescribeKey',
];

export interface KloudFunctionProps {
  /** the function's folder under `functions/` (required); its entry is `functions/<name>/handler.ts` */
  readonly name: string;
  /** memory in MiB (default: 1024, which also buys CPU for the engine's hashing and encryption) */
  readonly memorySize?: number;
  /** reserved concurrent executions (default: none, the account's unreserved pool) */
  readonly reservedConcurrentExecutions?: number;
  /** run time limit (default: 29 seconds, API Gateway's integration timeout) */
  readonly timeout?: Duration;
  /** how long its log group keeps events (default: one month) */
  readonly logRetention?: RetentionDays;
  /** Powertools log level (default: INFO) */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** the handler runs the Kloset engine: ship its worker entries and native zstd packages (default: false) */
  readonly engine?: boolean;
}

/**
 * A control-plane Lambda function with every default in one place: Node 22 on x86_64 (the native
 * zstd bindings shipped are x64 builds), bundled by esbuild (with the engine's worker entries and
 * native packages when it runs the engine), active tracing, its own log group and a role that may
 * write only there. The
 * `bind*` methods set an environment variable and grant the access it implies in one call, so
 * configuration and permissions cannot drift apart.
 */
export class KloudFunction extends Construct {
  public readonly fn: NodejsFunction;
  public readonly role: Role;
  public readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: KloudFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention ?? RetentionDays.ONE_MONTH });
    // its own role instead of AWSLambdaBasicExecutionRole, which may write to every log group
    this.role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.fn = new NodejsFunction(this, 'Function', {
      entry: join(PROJECT_ROOT, 'functions', props.name, 'handler.ts'),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.X86_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(29),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tracing: Tracing.ACTIVE,
      logGroup: this.logGroup,
      role: this.role,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'kloud',
        POWERTOOLS_METRICS_NAMESPACE: 'kloud',
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
        KLOUD_CACHE_DIR: '/tmp/kloud',
      },
      bundling: functionBundling({ engine: props.engine ?? false }),
    });
    this.acknowledge(
      'AwsSolutions-IAM5[Resource::*]',
      'actions AWS grants only on Resource "*": X-Ray trace segments, and s3:ListAllMyBuckets where bindBucketInventory adds it',
    );
    this.acknowledge(
      'AwsSolutions-L1',
      'nodejs22.x: the newest runtime whose Node major is covered by the tests here (the code runs on Node 20 and 22); moving to a newer one is a tested change, not a default',
    );
  }

  /**
   * The metadata table: `KLOUD_TABLE_NAME`, and item read or read/write access to it and its
   * indexes; its customer managed key only through DynamoDB (written out rather than CDK's table
   * grant, which allows the key's use directly and adds stream reads).
   */
  bindTable(table: ITable, access: 'R' | 'RW'): this {
    this.fn.addEnvironment('KLOUD_TABLE_NAME', table.tableName);
    const indexes = `${table.tableArn}/index/*`;
    this.role.addToPolicy(
      new PolicyStatement({
        actions: access === 'RW' ? [...TABLE_READ, ...TABLE_WRITE] : TABLE_READ,
        resources: [table.tableArn, indexes],
      }),
    );
    if (table.encryptionKey) {
      this.role.addToPolicy(
        new PolicyStatement({
          actions: TABLE_KEY,
          resources: [table.encryptionKey.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` },
          },
        }),
      );
    }
    this.acknowledge(
      `AwsSolutions-IAM5[${nagResource(this, indexes)}]`,
      "the table's own indexes: queries by gsi1",
    );
    return this;
  }

  /**
   * The store apps' secrets, named `<prefix><appId>` and encrypted with `key`: the prefix and key
   * in the environment; `manage` may create, update, describe, tag and delete them but never read
   * them, `read` may only read their values. The key serves only calls made through Secrets
   * Manager.
   */
  bindSecrets(prefix: string, key: IKey, access: 'manage' | 'read'): this {
    this.fn.addEnvironment('KLOUD_SECRET_PREFIX', prefix);
    this.fn.addEnvironment('KLOUD_KMS_KEY_ARN', key.keyArn);
    const stack = Stack.of(this);
    const secrets = Arn.format(
      {
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: `${prefix}*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      },
      stack,
    );
    const [secretActions, keyActions] =
      access === 'manage'
        ? [
            [
              'secretsmanager:CreateSecret',
              'secretsmanager:PutSecretValue',
              'secretsmanager:DescribeSecret',
              'secretsmanager:DeleteSecret',
              'secretsmanager:TagResource',
            ],
            // AWS documents Decrypt as needed too when CreateSecret/PutSecretValue use a customer managed key
            ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt'],
          ]
        : [['secretsmanager:GetSecretValue'], ['kms:Decrypt']];
    this.role.addToPolicy(new PolicyStatement({ actions: secretActions, resources: [secrets] }));
    this.role.addToPolicy(
      new PolicyStatement({
        actions: keyActions,
        resources: [key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` } },
      }),
    );
    this.acknowledge(
      `AwsSolutions-IAM5[${nagResource(this, secrets)}]`,
      'one secret per store app, created at run time: the name prefix is the boundary',
    );
    return this;
  }

  /**
   * The buckets and prefixes allowed as store locations, in `KLOUD_STORE_BUCKETS`: `names` to
   * check or list locations against them, `read` also to read objects under them, `objects` to
   * read and write them.
   */
  bindStoreBuckets(buckets: readonly StoreBucket[], access: 'names' | 'read' | 'objects' | 'maintain'): this {
    this.fn.addEnvironment('KLOUD_STORE_BUCKETS', JSON.stringify(buckets));
    if (access === 'names') return this;
    const statements = storeBucketStatements(buckets, access === 'objects' ? 'write' : access);
    for (const statement of statements) this.role.addToPolicy(statement);
    for (const { bucket, prefix } of buckets) {
      this.acknowledge(
        `AwsSolutions-IAM5[${nagResource(this, `arn:${Aws.PARTITION}:s3:::${bucket}/${prefix}*`)}]`,
        'a store is many objects under one prefix, the unit the deployer allows',
      );
    }
    return this;
  }

  /** C: s3:RestoreObject on the store buckets' packs (a cold restore retrieves them: docs/ARCHITECTURE.md). */
  bindArchiveRetrieval(buckets: readonly StoreBucket[]): this {
    if (buckets.length === 0) return this;
    this.role.addToPolicy(storeRetrievalStatement(buckets));
    for (const resource of storePackResources(buckets))
      this.acknowledge(
        `AwsSolutions-IAM5[${nagResource(this, resource)}]`,
        "a store's packs are many objects under its packs/ prefix, wherever the store lies in the bucket",
      );
    return this;
  }

  /**
   * The control plane's staging bucket, under one key prefix: `KLOUD_STAGING_BUCKET`; writing
   * objects there and reading them (a presigned URL the function signs reads with its role), and
   * listing the bucket, so that reading a missing object answers 404 rather than 403 (S3 grants
   * that only to ListBucket on the bucket: a condition on `s3:prefix` does not count, a GET having
   * no prefix). The bucket holds the control plane's own scratch files only. The bucket key serves
   * only calls made through S3. `remove`: deleting them too (a scratch object its task is done
   * with; the bucket's expiry removes the rest).
   */
  bindStagingBucket(bucket: IBucket, prefix: string, opts: { remove?: boolean } = {}): this {
    this.fn.addEnvironment('KLOUD_STAGING_BUCKET', bucket.bucketName);
    const objects = bucket.arnForObjects(`${prefix}*`);
    this.role.addToPolicy(
      new PolicyStatement({
        actions: [
          's3:GetObject',
          's3:PutObject',
          's3:AbortMultipartUpload',
          ...(opts.remove ? ['s3:DeleteObject'] : []),
        ],
        resources: [objects],
      }),
    );
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
      }),
    );
    if (bucket.encryptionKey) {
      this.role.addToPolicy(
        new PolicyStatement({
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [bucket.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
    this.acknowledge(
      `AwsSolutions-IAM5[${nagResource(this, objects)}]`,
      'files staged for download are named at run time, under the one prefix this function owns',
    );
    return this;
  }

  /**
   * The account's buckets as an inventory: `s3:ListAllMyBuckets`, which AWS grants only on
   * `Resource: *`, and each bucket's region (`s3:GetBucketLocation` on bucket ARNs only).
   */
  bindBucketInventory(): this {
    this.role.addToPolicy(new PolicyStatement({ actions: ['s3:ListAllMyBuckets'], resources: ['*'] }));
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['s3:GetBucketLocation'],
        resources: [`arn:${Aws.PARTITION}:s3:::*`],
      }),
    );
    this.acknowledge(
      `AwsSolutions-IAM5[${nagResource(this, `arn:${Aws.PARTITION}:s3:::*`)}]`,
      "the inventory shows every bucket's region: GetBucketLocation on any bucket, no object access",
    );
    return this;
  }

  /**
   * The workflows' state machines (`KLOUD_<WORKFLOW>_STATE_MACHINE_ARN`): starting their executions
   * and stopping them (a cancelled task), nothing else.
   */
  bindTaskRunner(machines: Readonly<Record<Workflow, StateMachine>>): this {
    for (const workflow of WORKFLOWS)
      this.fn.addEnvironment(
        `KLOUD_${workflow.toUpperCase()}_STATE_MACHINE_ARN`,
        machines[workflow].stateMachineArn,
      );
    for (const stateMachine of new Set(Object.values(machines))) {
      stateMachine.grantStartExecution(this.role);
      const executions = Arn.format(
        {
          service: 'states',
          resource: 'execution',
          resourceName: `${stateMachine.stateMachineName}:*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        },
        Stack.of(this),
      );
      this.role.addToPolicy(
        new PolicyStatement({ actions: ['states:StopExecution'], resources: [executions] }),
      );
      this.acknowledge(
        `AwsSolutions-IAM5[${nagResource(this, executions)}]`,
        "the executions of a task state machine, one per task, named at run time: the machine's name is the boundary",
      );
    }
    return this;
  }

  /**
   * Task state changes as EventBridge events: `KLOUD_EVENT_BUS` (the account's default bus, where
   * users' rules look first) and `events:PutEvents` on that bus only.
   */
  bindTaskEvents(): this {
    const bus = Arn.format(
      { service: 'events', resource: 'event-bus', resourceName: 'default' },
      Stack.of(this),
    );
    this.fn.addEnvironment('KLOUD_EVENT_BUS', 'default');
    this.role.addToPolicy(new PolicyStatement({ actions: ['events:PutEvents'], resources: [bus] }));
    return this;
  }

  private acknowledge(id: string, reason: string): void {
    Validations.of(this).acknowledge({ id: `AwsSolutions::${id}`, reason });
  }
}
