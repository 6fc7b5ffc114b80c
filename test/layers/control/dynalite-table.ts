/** An in-memory dynalite with the control plane's table, for one test file. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Table } from '../../../layers/control/data/table.js';
import { createControlTable, type DynaliteHandle, startDynalite } from '../../../local/dynalite-server.js';

export const TABLE_NAME = 'kloud-test';

export function dynaliteForTests(): { readonly endpoint: string; table(): Table } {
  let server: DynaliteHandle | undefined;
  const clients: DynamoDBClient[] = [];
  beforeAll(async () => {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    server = await startDynalite();
    await createControlTable(server.endpoint, TABLE_NAME);
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await server?.stop();
  });
  return {
    get endpoint() {
      return server!.endpoint;
    },
    table() {
      const client = new DynamoDBClient({
        endpoint: server!.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      clients.push(client);
      return new Table(TABLE_NAME, client);
    },
  };
}
