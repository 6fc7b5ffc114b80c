/**
 * dynalite (DynamoDB's protocol on 127.0.0.1) with the control plane's table: the metadata of
 * local mode (kept under a directory, so it survives a restart) and of the tests (in memory).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';

export interface DynaliteHandle {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Starts dynalite on 127.0.0.1 (ephemeral port); `dataDir` keeps its data, else memory. */
export async function startDynalite(dataDir?: string): Promise<DynaliteHandle> {
  const server = dynalite({
    ...(dataDir && { path: dataDir }),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The table as the stack defines it (pk/sk, GSI gsi1 on gsi1pk/gsi1sk); nothing when it exists. Active at once (createTableMs 0). */
export async function createControlTable(endpoint: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const S = 'S' as const;
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: S },
          { AttributeName: 'sk', AttributeType: S },
          { AttributeName: 'gsi1pk', AttributeType: S },
          { AttributeName: 'gsi1sk', AttributeType: S },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'gsi1',
            KeySchema: [
              { AttributeName: 'gsi1pk', KeyType: 'HASH' },
              { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  } finally {
    client.destroy();
  }
}
