import { readSettings } from '../../../../layers/control/runtime/settings.js';

test('the runtime reads its settings from the environment, with Lambda defaults', () => {
  expect(
    readSettings({
      KLOUD_TABLE_NAME: 't',
      KLOUD_STORE_BUCKETS:
        '[{"bucket":"bkt-one","prefix":"kloud"},{"bucket":"bkt-two","prefix":"x/"},{"bucket":"bkt-three"}]',
      KLOUD_KMS_KEY_ARN: 'arn:aws:kms:eu-west-1:1:key/k',
    }),
  ).toEqual({
    tableName: 't',
    secretPrefix: 'kloud/store-apps/',
    kmsKeyArn: 'arn:aws:kms:eu-west-1:1:key/k',
    storeBuckets: [
      { bucket: 'bkt-one', prefix: 'kloud/' },
      { bucket: 'bkt-two', prefix: 'x/' },
      { bucket: 'bkt-three', prefix: '' },
    ],
    cacheDir: '/tmp/kloud',
  });
});

test('local mode: a secrets file, a directories root and a local S3 endpoint', () => {
  expect(
    readSettings({
      KLOUD_TABLE_NAME: 't',
      KLOUD_SECRETS_FILE: '/d/secrets.json',
      KLOUD_LOCAL_ROOT: '/d/dirs',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000',
    }),
  ).toMatchObject({
    secretsFile: '/d/secrets.json',
    localRoot: '/d/dirs',
    localS3Endpoint: 'http://127.0.0.1:9000',
  });
});

test('a deployment mistake is said plainly', () => {
  expect(() => readSettings({})).toThrow('the environment variable KLOUD_TABLE_NAME is not set');
  for (const buckets of ['[{"name":"bkt"}]', '[{"bucket":"bkt"', '{"bucket":"bkt"}'])
    expect(() => readSettings({ KLOUD_TABLE_NAME: 't', KLOUD_STORE_BUCKETS: buckets })).toThrow(
      'KLOUD_STORE_BUCKETS is not a JSON list of {"bucket","prefix"}',
    );
});

test('tasks: the state machines, the event bus and a cap on each slice', () => {
  const machine = (name: string) => `arn:aws:states:eu-west-1:1:stateMachine:kloud-${name}`;
  expect(
    readSettings({
      KLOUD_TABLE_NAME: 't',
      KLOUD_TASK_STATE_MACHINE_ARN: machine('tasks'),
      KLOUD_BACKUP_STATE_MACHINE_ARN: machine('backups'),
      KLOUD_RESTORE_STATE_MACHINE_ARN: machine('restores'),
      KLOUD_EVENT_BUS: 'alerts',
      KLOUD_TASK_SLICE_MS: '250',
    }),
  ).toMatchObject({
    stateMachineArns: { task: machine('tasks'), backup: machine('backups'), restore: machine('restores') },
    eventBus: 'alerts',
    taskSliceMs: 250,
  });
  expect(() =>
    readSettings({ KLOUD_TABLE_NAME: 't', KLOUD_TASK_STATE_MACHINE_ARN: machine('tasks') }),
  ).toThrow('the environment variable KLOUD_BACKUP_STATE_MACHINE_ARN is not set');
  expect(() => readSettings({ KLOUD_TABLE_NAME: 't', KLOUD_TASK_SLICE_MS: '1.5' })).toThrow(
    'KLOUD_TASK_SLICE_MS is not a positive whole number',
  );
});
