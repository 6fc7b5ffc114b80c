/**
 * The three handlers as Lambda runs them: imported with nothing but environment variables
 * (dynalite for the table, a 0600 file for the secrets), called with REST proxy events.
 */
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { jest } from '@jest/globals';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dynaliteForTests, TABLE_NAME } from '../layers/control/dynalite-table.js';
import { capturePrinted, proxyEvent, testContext, useHandlerEnvironment } from './proxy-event.js';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const dynamo = dynaliteForTests();
let dir: string;
let handlers: Record<'inventories' | 'storeApps' | 'storeActions', Handler>;
const printed: string[] = [];

const PASSPHRASE = 'handler passphrase never logged';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kloud-handlers-'));
  await mkdir(join(dir, 'root', 'backups'), { recursive: true });
  useHandlerEnvironment(TABLE_NAME, dir, dynamo.endpoint, {
    KLOUD_STORE_BUCKETS: '[{"bucket":"allowed-bucket","prefix":"kloud/"}]',
  });
  capturePrinted(printed);
  handlers = {
    inventories: (await import('../../functions/inventories/handler.js')).handler,
    storeApps: (await import('../../functions/store-apps/handler.js')).handler,
    storeActions: (await import('../../functions/store-actions/handler.js')).handler,
  };
});

afterAll(async () => {
  jest.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

const event = proxyEvent;

const context = testContext('req-1', 30_000);

async function call(fn: Handler, e: APIGatewayProxyEvent) {
  const out = await fn(e, context);
  return { status: out.statusCode, body: out.body ? JSON.parse(out.body) : undefined };
}

test('a handler works from the environment alone', async () => {
  const inventories = await call(handlers.inventories, event('GET', '/inventories'));
  expect(inventories.body.items.map((i: { id: string }) => i.id)).toEqual(['sftp', 'directories']);
  const created = await call(
    handlers.storeApps,
    event('POST', '/store-apps', {
      body: JSON.stringify({
        resourceId: 'directory:backups',
        name: 'main',
        storageType: 'standard',
        passphrase: PASSPHRASE,
      }),
    }),
  );
  expect(created).toMatchObject({ status: 201, body: { state: 'created', protocol: 'fs' } });
  const test = await call(
    handlers.storeActions,
    event('POST', '/store-apps/{appId}/test', { pathParameters: { appId: created.body.id } }),
  );
  expect(test.body).toMatchObject({ outcome: 'empty', app: { state: 'tested' } });
});

test('an S3 location outside KLOUD_STORE_BUCKETS is refused; a prefix inside is taken', async () => {
  const body = (prefix: string) =>
    JSON.stringify({
      resourceId: 's3-bucket:allowed-bucket',
      name: `p${prefix.length}`,
      storageType: 'cold',
      protocol: 's3',
      configuration: { prefix },
      passphrase: PASSPHRASE,
    });
  const outside = await call(handlers.storeApps, event('POST', '/store-apps', { body: body('elsewhere') }));
  expect(outside).toMatchObject({ status: 403, body: { error: { code: 'LOCATION_NOT_ALLOWED' } } });
  const inside = await call(handlers.storeApps, event('POST', '/store-apps', { body: body('kloud/team') }));
  expect(inside).toMatchObject({ status: 201, body: { location: 's3://allowed-bucket/kloud/team' } });
});

test('a route of another function is not served here', async () => {
  const answer = await call(handlers.inventories, event('GET', '/store-apps'));
  expect(answer).toMatchObject({ status: 404, body: { error: { code: 'NO_ROUTE' } } });
});

test('log lines carry no secret, even when code logs one', async () => {
  const { logger } = await import('../../layers/control/runtime/observability.js');
  logger.info('careless', {
    passphrase: PASSPHRASE,
    credentials: { secretAccessKey: 'sk' },
    nested: { password: 'pw' },
  });
  const line = printed.find((l) => l.includes('careless'))!;
  expect(JSON.parse(line)).toMatchObject({
    passphrase: '[redacted]',
    credentials: '[redacted]',
    nested: { password: '[redacted]' },
  });
  expect(printed.join('')).not.toContain(PASSPHRASE);
});

test('an unexpected failure is a 500 without its internals, logged with the request ID', async () => {
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await client.send(new DeleteTableCommand({ TableName: TABLE_NAME }));
  client.destroy();
  const answer = await call(handlers.storeApps, event('GET', '/store-apps'));
  expect(answer).toEqual({
    status: 500,
    body: {
      error: { code: 'INTERNAL', message: 'an unexpected error; the logs have it under request ID req-1' },
    },
  });
  expect(printed.some((l) => l.includes('"unexpected error"') && l.includes('req-1'))).toBe(true);
});
