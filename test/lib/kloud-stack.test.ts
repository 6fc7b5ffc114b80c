import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Match } from 'aws-cdk-lib/assertions';
import { API_FUNCTIONS, ROUTES } from '../../layers/control/api/routes.js';
import { TASK_STATES } from '../../lib/task-state-machine.js';
import { type SynthesizedStack, synthesizeStack } from './synthesized-stack.js';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}
type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

let synthesized: SynthesizedStack;
let resources: Resources;

beforeAll(() => {
  synthesized = synthesizeStack(
    {
      storeBuckets: [
        { bucket: 'team-stores', prefix: 'kloud/' },
        { bucket: 'whole-bucket', prefix: '' },
      ],
      apiCallers: ['arn:aws:iam::111122223333:role/ci-deployer'],
    },
    { bundle: false },
  );
  resources = synthesized.template.toJSON().Resources as Resources;
});

afterAll(() => rmSync(synthesized.outdir, { recursive: true, force: true }));

function logicalIdsOf(type: string): string[] {
  return Object.keys(resources).filter((id) => resources[id]!.Type === type);
}

/** The function whose logical ID starts with the construct's ID (`StoreActions`), and its role's statements. */
function functionNamed(prefix: string): { props: Record<string, unknown>; statements: Statement[] } {
  const id = logicalIdsOf('AWS::Lambda::Function').find((f) => f.startsWith(`${prefix}Function`))!;
  const props = resources[id]!.Properties;
  const roleId = (props.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const statements = logicalIdsOf('AWS::IAM::Policy')
    .map((p) => resources[p]!.Properties)
    .filter((p) => (p.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap((p) => (p.PolicyDocument as { Statement: Statement[] }).Statement);
  return { props, statements };
}

const actionsOf = (s: Statement) => [s.Action].flat();
/** An ARN as text: `Fn::Join` joined, the partition `aws`, other references as `<LogicalId>`. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v['Fn::Join']) return (v['Fn::Join'] as [string, unknown[]])[1].map(render).join('');
  if (v.Ref === 'AWS::Partition') return 'aws';
  return `<${String(v.Ref ?? (v['Fn::GetAtt'] as string[])[0])}>`;
}

describe('the metadata table', () => {
  test('is the single table of the contract: pk/sk, gsi1 on gsi1pk/gsi1sk, on demand', () => {
    synthesized.template.resourceCountIs('AWS::DynamoDB::Table', 1);
    synthesized.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
        }),
      ],
    });
  });

  test('keeps point-in-time recovery, is encrypted with the stack key and outlives the stack', () => {
    synthesized.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
      }),
    });
    synthesized.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });
});

describe('the staging bucket', () => {
  test('is private, KMS-encrypted and expires its objects', () => {
    synthesized.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }),
          }),
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            ExpirationInDays: 7,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          }),
        ],
      },
    });
  });

  test('refuses requests without TLS', () => {
    synthesized.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('the functions', () => {
  const names = [
    'Inventories',
    'StoreApps',
    'StoreActions',
    'StoreBrowse',
    'TasksApi',
    'SchedulesApi',
    'ScheduledTask',
  ];

  test('run Node 22 on x86_64 with active tracing and their own log group kept a month', () => {
    expect(logicalIdsOf('AWS::Lambda::Function')).toHaveLength(names.length + 1); // + the task worker
    for (const name of names) {
      const { props } = functionNamed(name);
      expect(props).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['x86_64'],
        Handler: 'index.handler',
        MemorySize: 1024,
        Timeout: 29,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: expect.stringMatching(new RegExp(`^${name}Logs`)) } },
      });
      const logsId = (props.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(resources[logsId]!.Properties.RetentionInDays).toBe(30);
    }
  });

  test('carry the environment their bindings set, and no secret', () => {
    const env = (name: string) =>
      (functionNamed(name).props.Environment as { Variables: Record<string, unknown> }).Variables;
    const base = {
      POWERTOOLS_SERVICE_NAME: 'kloud',
      POWERTOOLS_METRICS_NAMESPACE: 'kloud',
      KLOUD_CACHE_DIR: '/tmp/kloud',
    };
    const buckets = '[{"bucket":"team-stores","prefix":"kloud/"},{"bucket":"whole-bucket","prefix":""}]';
    expect(Object.keys(env('Inventories')).sort()).toEqual(
      [...Object.keys(base), 'POWERTOOLS_LOG_LEVEL', 'KLOUD_TABLE_NAME', 'KLOUD_STORE_BUCKETS'].sort(),
    );
    expect(env('StoreApps')).toMatchObject({
      ...base,
      KLOUD_SECRET_PREFIX: 'kloud/store-apps/',
      KLOUD_STORE_BUCKETS: buckets,
    });
    expect(env('StoreActions')).toMatchObject({ ...base, KLOUD_STORE_BUCKETS: buckets });
    expect(Object.keys(env('StoreActions'))).toEqual(
      expect.arrayContaining(['KLOUD_TABLE_NAME', 'KLOUD_KMS_KEY_ARN']),
    );
    expect(env('StoreBrowse')).toMatchObject({
      ...base,
      KLOUD_STORE_BUCKETS: buckets,
      KLOUD_SECRET_PREFIX: 'kloud/store-apps/',
      KLOUD_STAGING_BUCKET: { Ref: expect.stringMatching(/^StagingBucket/) },
    });
    // only store-browse stages files: no other function is given the staging bucket
    for (const name of ['Inventories', 'StoreApps', 'StoreActions'])
      expect(Object.keys(env(name))).not.toContain('KLOUD_STAGING_BUCKET');
  });

  test('have roles without managed policies', () => {
    for (const id of logicalIdsOf('AWS::IAM::Role')) {
      expect(resources[id]!.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('least privilege', () => {
  test('no service-wide wildcard action, and Resource "*" only where AWS allows nothing narrower', () => {
    const starOnly = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 's3:ListAllMyBuckets']);
    for (const name of ['Inventories', 'StoreApps', 'StoreActions', 'StoreBrowse']) {
      for (const s of functionNamed(name).statements) {
        for (const action of actionsOf(s)) expect(action).not.toMatch(/^(\*|[a-z0-9-]+:\*)$/);
        if (s.Resource === '*') for (const action of actionsOf(s)) expect(starOnly).toContain(action);
      }
    }
  });

  test('store-actions reads and writes store objects under each allowed prefix, listing by prefix; inventories and store-apps touch none', () => {
    const s3Of = (name: string) =>
      functionNamed(name).statements.filter((s) =>
        actionsOf(s).some((a) => /^s3:(Get|Put|List)(Object|Bucket)$/.test(a)),
      );
    expect(s3Of('Inventories')).toEqual([]);
    expect(s3Of('StoreApps')).toEqual([]);
    const rendered = s3Of('StoreActions').map((s) => ({
      actions: actionsOf(s),
      resource: render(s.Resource),
      when: s.Condition,
    }));
    expect(rendered).toEqual(
      expect.arrayContaining([
        {
          actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
          resource: 'arn:aws:s3:::team-stores/kloud/*',
          when: undefined,
        },
        {
          actions: ['s3:ListBucket'],
          resource: 'arn:aws:s3:::team-stores',
          when: { StringLike: { 's3:prefix': ['kloud/*'] } },
        },
        {
          actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
          resource: 'arn:aws:s3:::whole-bucket/*',
          when: undefined,
        },
      ]),
    );
    expect(
      rendered.some((s) => s.actions.includes('s3:DeleteObject') && !s.resource.includes('Staging')),
    ).toBe(false);
  });

  test('store-browse reads store objects (no write), and writes and reads only files/ of the staging bucket', () => {
    const rendered = functionNamed('StoreBrowse')
      .statements.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')))
      .map((s) => ({ actions: actionsOf(s), resource: render(s.Resource), when: s.Condition }));
    expect(rendered).toEqual([
      { actions: ['s3:GetObject'], resource: 'arn:aws:s3:::team-stores/kloud/*', when: undefined },
      {
        actions: ['s3:ListBucket'],
        resource: 'arn:aws:s3:::team-stores',
        when: { StringLike: { 's3:prefix': ['kloud/*'] } },
      },
      { actions: ['s3:GetObject'], resource: 'arn:aws:s3:::whole-bucket/*', when: undefined },
      { actions: ['s3:ListBucket'], resource: 'arn:aws:s3:::whole-bucket', when: undefined },
      {
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
        resource: expect.stringMatching(/^<StagingBucket\w+>\/files\/\*$/),
        when: undefined,
      },
      // the whole bucket: only then does S3 answer 404 for a missing object (a prefix condition does not count)
      {
        actions: ['s3:ListBucket'],
        resource: expect.stringMatching(/^<StagingBucket\w+>$/),
        when: undefined,
      },
    ]);
    expect(functionNamed('StoreBrowse').statements).toContainEqual(
      expect.objectContaining({
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
      }),
    );
  });

  test('store-apps manages the secrets under the prefix; store-actions only reads them; KMS only through Secrets Manager', () => {
    const secretsOf = (name: string) =>
      functionNamed(name).statements.filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')));
    const [manage] = secretsOf('StoreApps');
    expect(actionsOf(manage!).sort()).toEqual(
      ['CreateSecret', 'DeleteSecret', 'DescribeSecret', 'PutSecretValue', 'TagResource'].map(
        (a) => `secretsmanager:${a}`,
      ),
    );
    expect(render(manage!.Resource)).toContain(
      ':secretsmanager:eu-west-1:111122223333:secret:kloud/store-apps/*',
    );
    for (const reader of ['StoreActions', 'StoreBrowse']) {
      const [read] = secretsOf(reader);
      expect(actionsOf(read!)).toEqual(['secretsmanager:GetSecretValue']);
    }
    expect(secretsOf('Inventories')).toEqual([]);
    const viaSecretsManager = {
      StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' },
    };
    expect(functionNamed('StoreApps').statements).toContainEqual(
      expect.objectContaining({
        Action: ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt'],
        Condition: viaSecretsManager,
      }),
    );
    expect(functionNamed('StoreActions').statements).toContainEqual(
      expect.objectContaining({ Action: 'kms:Decrypt', Condition: viaSecretsManager }),
    );
  });

  // store-browse writes too: it creates restore tasks, whose dry run needs its engine
  test('every function reads and writes the table items, and the key only through DynamoDB', () => {
    for (const name of ['Inventories', 'StoreApps', 'StoreActions', 'StoreBrowse']) {
      const { statements } = functionNamed(name);
      const table = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
      expect(table).toHaveLength(1);
      // only the calls layers/control/data/table.ts makes
      expect([...actionsOf(table[0]!)].sort()).toEqual([
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ]);
      expect(statements).toContainEqual(
        expect.objectContaining({
          Action: expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey']),
          Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } },
        }),
      );
      const unconditionedKey = statements.filter(
        (s) => actionsOf(s).some((a) => a.startsWith('kms:')) && !s.Condition,
      );
      expect(unconditionedKey).toEqual([]);
    }
  });

  test('a function writes logs to its own log group only', () => {
    for (const name of ['Inventories', 'StoreApps', 'StoreActions', 'StoreBrowse']) {
      const logs = functionNamed(name).statements.filter((s) =>
        actionsOf(s).some((a) => a.startsWith('logs:')),
      );
      expect(logs).toEqual([
        expect.objectContaining({
          Resource: { 'Fn::GetAtt': [expect.stringMatching(new RegExp(`^${name}Logs`)), 'Arn'] },
        }),
      ]);
    }
  });
});

describe('the API', () => {
  test('has one method per route, each IAM-authorized and validated, on the function the route names', () => {
    const methods = logicalIdsOf('AWS::ApiGateway::Method').map((id) => resources[id]!.Properties);
    expect(methods).toHaveLength(ROUTES.length);
    const functionIds = Object.fromEntries(
      API_FUNCTIONS.map((fn) => [
        fn,
        logicalIdsOf('AWS::Lambda::Function').find((id) => id.toLowerCase().startsWith(fn.replace('-', '')))!,
      ]),
    );
    for (const method of methods) {
      expect(method.AuthorizationType).toBe('AWS_IAM');
      expect(method.RequestValidatorId).toEqual({ Ref: expect.stringMatching(/^ApiValidator/) });
      expect(method.Integration).toMatchObject({ Type: 'AWS_PROXY' });
    }
    for (const route of ROUTES) {
      const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map(
        ([, p]) => `method.request.path.${p}`,
      );
      const method = methods.find(
        (m) =>
          m.HttpMethod === route.method &&
          JSON.stringify(m.Integration).includes(functionIds[route.fn]!) &&
          Object.keys((m.RequestParameters as object | undefined) ?? {}).join() === pathParameters.join(),
      );
      expect(method).toBeDefined();
    }
  });

  test('logs every request to a log group kept a year, traces and throttles', () => {
    synthesized.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      AccessLogSetting: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiAccessLogs'), 'Arn'] },
      },
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 })],
    });
    const accessLogs = logicalIdsOf('AWS::Logs::LogGroup').find((id) => id.startsWith('ApiAccessLogs'))!;
    expect(resources[accessLogs]!.Properties.RetentionInDays).toBe(365);
  });

  test('lets the named callers in and denies every other principal', () => {
    synthesized.template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Policy: {
        Statement: [
          Match.objectLike({
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::111122223333:role/ci-deployer' },
          }),
          Match.objectLike({
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Condition: { ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::111122223333:role/ci-deployer'] } },
          }),
        ],
      },
    });
  });

  test('publishes the URL and the ARN callers need execute-api:Invoke on', () => {
    expect(Object.keys(synthesized.template.toJSON().Outputs)).toEqual(
      expect.arrayContaining(['ApiUrl', 'ApiInvokeArn', 'TableName', 'KeyArn']),
    );
  });
});

describe('the task state machine', () => {
  const definition = () => {
    const id = logicalIdsOf('AWS::StepFunctions::StateMachine')[0]!;
    return JSON.parse(render(resources[id]!.Properties.DefinitionString)) as {
      StartAt: string;
      States: Record<string, Record<string, unknown>>;
    };
  };

  test('loops over slices of the task worker, retrying a failed slice before recording the failure', () => {
    const { StartAt, States } = definition();
    expect(StartAt).toBe(TASK_STATES.start);
    const slice = States[TASK_STATES.slice]!;
    expect(slice).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: {
        FunctionName: expect.stringMatching(/^<TaskWorkerFunction/),
        Payload: { action: 'slice' },
      },
      Next: TASK_STATES.done,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: TASK_STATES.recordFailure }],
    });
    expect(slice.Retry).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ ErrorEquals: expect.arrayContaining(['Lambda.TooManyRequestsException']) }),
        expect.objectContaining({ ErrorEquals: ['States.TaskFailed', 'Sandbox.Timedout'], MaxAttempts: 2 }),
      ]),
    );
    expect(States[TASK_STATES.done]).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.slice.done', BooleanEquals: true, Next: TASK_STATES.ended }],
      Default: TASK_STATES.slice,
    });
    expect(States[TASK_STATES.recordFailure]).toMatchObject({
      Parameters: { Payload: { action: 'fail', 'error.$': '$.error' } },
      Next: TASK_STATES.failed,
    });
  });

  test('is a standard state machine with a timeout, tracing and its own logs', () => {
    const id = logicalIdsOf('AWS::StepFunctions::StateMachine')[0]!;
    expect(resources[id]!.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
    expect(definition()).toMatchObject({ TimeoutSeconds: 7 * 24 * 3600 });
  });

  test('may invoke the task worker and nothing else', () => {
    const id = logicalIdsOf('AWS::StepFunctions::StateMachine')[0]!;
    const roleId = (resources[id]!.Properties.RoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    const invokes = logicalIdsOf('AWS::IAM::Policy')
      .map((p) => resources[p]!.Properties)
      .filter((p) => (p.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
      .flatMap((p) => (p.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((s) => actionsOf(s).includes('lambda:InvokeFunction'));
    expect(invokes).toHaveLength(1);
    for (const resource of [invokes[0]!.Resource].flat())
      expect(render(resource)).toMatch(/^<TaskWorkerFunction[0-9A-F]+>(:\*)?$/);
  });

  test('an execution that times out, is stopped or fails uncaught tells the worker, which ends its task', () => {
    const machines = logicalIdsOf('AWS::StepFunctions::StateMachine');
    const rules = logicalIdsOf('AWS::Events::Rule').map((id) => resources[id]!.Properties);
    expect(rules).toHaveLength(1);
    const rule = rules[0]!;
    expect(rule.EventPattern).toMatchObject({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
    });
    const watched = (rule.EventPattern as { detail: { stateMachineArn: unknown[] } }).detail.stateMachineArn;
    expect(watched.map(render).sort()).toEqual(machines.map((id) => `<${id}>`).sort());
    const [target] = rule.Targets as { Arn: unknown; InputTransformer: { InputTemplate: string } }[];
    expect(render(target!.Arn)).toMatch(/^<TaskWorkerFunction[0-9A-F]+>$/);
    expect(target!.InputTransformer.InputTemplate).toMatch(/"action":"ended"/);
    const permissions = logicalIdsOf('AWS::Lambda::Permission').map((id) => resources[id]!.Properties);
    expect(permissions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Principal: 'events.amazonaws.com', Action: 'lambda:InvokeFunction' }),
      ]),
    );
  });

  test('the worker: 15 minutes, a quarter of its memory for the index, table, secrets, stores and events', () => {
    const { props, statements } = functionNamed('TaskWorker');
    expect(props).toMatchObject({ Timeout: 900, MemorySize: 2048 });
    expect((props.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      KLOUD_INDEX_MEMORY_BUDGET: String(512 * 2 ** 20),
      KLOUD_EVENT_BUS: 'default',
    });
    const actions = statements.flatMap(actionsOf);
    expect(actions).toEqual(
      expect.arrayContaining([
        'dynamodb:PutItem',
        'secretsmanager:GetSecretValue',
        's3:PutObject',
        'events:PutEvents',
      ]),
    );
    expect(actions.filter((a) => a.startsWith('states:'))).toEqual([]);
    // a maintenance's prune deletes store objects: the worker alone may
    const deletes = statements.filter((st) => actionsOf(st).includes('s3:DeleteObject'));
    expect(deletes.map((st) => render(st.Resource)).sort()).toEqual([
      '<StagingBucketF0D7AEDD>/maintenance/*',
      'arn:aws:s3:::team-stores/kloud/*',
      'arn:aws:s3:::whole-bucket/*',
    ]);
    // a maintenance's mark state waits in staging between slices: read, written and removed there
    const scratch = statements.filter((st) =>
      [st.Resource].flat().map(render).join(' ').includes('/maintenance/*'),
    );
    expect(scratch.flatMap(actionsOf)).toEqual([
      's3:GetObject',
      's3:PutObject',
      's3:AbortMultipartUpload',
      's3:DeleteObject',
    ]);
    // archives of restores are staged under restores/ only
    const staged = statements.filter((st) =>
      [st.Resource].flat().map(render).join(' ').includes('/restores/*'),
    );
    expect(staged.flatMap(actionsOf)).toEqual(['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload']);
    expect(Object.keys((props.Environment as { Variables: object }).Variables)).toContain(
      'KLOUD_STAGING_BUCKET',
    );
    const events = statements.find((s) => actionsOf(s).includes('events:PutEvents'))!;
    expect(render(events.Resource)).toBe('arn:aws:events:eu-west-1:111122223333:event-bus/default');
  });
});

describe('cdk-nag', () => {
  test('AwsSolutions checks pass: the synth would have thrown on an unacknowledged finding', () => {
    expect(resources).toBeDefined();
  });
});

describe('with an imported KMS key', () => {
  const keyArn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  let imported: SynthesizedStack;
  beforeAll(() => {
    imported = synthesizeStack(
      { kmsKeyArn: keyArn, reservedConcurrency: 4, functionMemory: 2048 },
      { bundle: false, cfnValidation: false },
    );
  });
  afterAll(() => rmSync(imported.outdir, { recursive: true, force: true }));

  test('creates no key and encrypts the table and the secrets with the given one', () => {
    imported.template.resourceCountIs('AWS::KMS::Key', 0);
    imported.template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn },
    });
    imported.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ KLOUD_KMS_KEY_ARN: keyArn }) },
    });
  });

  test('sizes every API function as asked', () => {
    const functions = imported.template.findResources('AWS::Lambda::Function');
    for (const [id, { Properties }] of Object.entries(functions)) {
      if (id.startsWith('TaskWorker')) continue;
      expect(Properties).toMatchObject({ MemorySize: 2048, ReservedConcurrentExecutions: 4 });
    }
  });
});
